package gitops_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/releaseutil"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"

	"github.com/org/platform/pkg/gitops"
	"github.com/org/platform/pkg/spec"
)

// TestSampleServiceChart renders the repository's chart with its default
// values and with each environment's: a Deployment, a Service and an
// Ingress in the environment's class routed to the Service's port, no
// ServiceMonitor unless asked, and pods whose limits, times the replicas
// and one surge pod, fit the "apps" quota of every standard environment.
func TestSampleServiceChart(t *testing.T) {
	t.Parallel()
	ch, err := loader.LoadDir(filepath.Join("..", "..", gitops.SampleServiceChartPath))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		values map[string]any
		quota  *spec.Quota
		class  string
	}{{name: "defaults", values: nil, class: "nginx"}}
	for _, env := range standards(t) {
		env = env.WithDefaults()
		cases = append(cases, struct {
			name   string
			values map[string]any
			quota  *spec.Quota
			class  string
		}{env.Name, gitops.SampleServiceValues(env), env.Namespaces[0].Quota, env.Ingress.ClassName})
	}
	for _, tc := range cases {
		manifest, hooks := render(t, ch, "sample-service", gitops.SampleServiceNamespace, tc.values)
		if hooks != 0 {
			t.Errorf("%s: %d hooks, want none", tc.name, hooks)
		}
		kinds := map[string]string{}
		for _, doc := range releaseutil.SplitManifests(manifest) {
			var head struct{ Kind string }
			if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
				t.Fatal(err)
			}
			kinds[head.Kind] = doc
		}
		if len(kinds) != 3 || kinds["Deployment"] == "" || kinds["Service"] == "" || kinds["Ingress"] == "" {
			t.Fatalf("%s: kinds %v, want Deployment, Service, Ingress", tc.name, keys(kinds))
		}
		var dep appsv1.Deployment
		var svc corev1.Service
		var ing networkingv1.Ingress
		for _, u := range []struct {
			doc string
			v   any
		}{{kinds["Deployment"], &dep}, {kinds["Service"], &svc}, {kinds["Ingress"], &ing}} {
			if err := yaml.UnmarshalStrict([]byte(u.doc), u.v); err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
		}
		if ing.Spec.IngressClassName == nil || *ing.Spec.IngressClassName != tc.class {
			t.Errorf("%s: ingress class %v, want %q", tc.name, ing.Spec.IngressClassName, tc.class)
		}
		back := ing.Spec.Rules[0].HTTP.Paths[0].Backend.Service
		if back.Name != svc.Name || back.Port.Name != svc.Spec.Ports[0].Name {
			t.Errorf("%s: Ingress routes to %s:%s, not to the Service", tc.name, back.Name, back.Port.Name)
		}
		for k, v := range svc.Spec.Selector {
			if dep.Spec.Template.Labels[k] != v {
				t.Errorf("%s: the Service selects %s=%s, which the pods lack", tc.name, k, v)
			}
		}
		c := dep.Spec.Template.Spec.Containers[0]
		if c.Resources.Requests.Cpu().IsZero() || c.Resources.Limits.Memory().IsZero() {
			t.Errorf("%s: the container states no requests or limits", tc.name)
		}
		if tc.quota != nil {
			pods := int64(*dep.Spec.Replicas + 1) // a rolling update's surge
			fits := func(what string, per resource.Quantity, total string) {
				max := resource.MustParse(total)
				per.Mul(pods)
				if per.Cmp(max) > 0 {
					t.Errorf("%s: %d pods use %s of %s, over the quota's %s", tc.name, pods, per.String(), what, total)
				}
			}
			fits("limits.cpu", *c.Resources.Limits.Cpu(), tc.quota.LimitsCPU)
			fits("limits.memory", *c.Resources.Limits.Memory(), tc.quota.LimitsMemory)
			fits("requests.cpu", *c.Resources.Requests.Cpu(), tc.quota.RequestsCPU)
			fits("requests.memory", *c.Resources.Requests.Memory(), tc.quota.RequestsMemory)
		}
	}
	manifest, _ := render(t, ch, "sample-service", gitops.SampleServiceNamespace, map[string]any{"serviceMonitor": map[string]any{"enabled": true}})
	found := false
	for _, doc := range releaseutil.SplitManifests(manifest) {
		var head struct{ Kind string }
		_ = yaml.Unmarshal([]byte(doc), &head)
		found = found || head.Kind == "ServiceMonitor"
	}
	if !found {
		t.Error("serviceMonitor.enabled renders no ServiceMonitor")
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// ExampleClusterName shows the names under which Argo CD knows the
// environments' clusters: the hub is the cluster Argo CD runs in.
func ExampleClusterName() {
	for _, name := range spec.StandardNames() {
		env, _ := spec.Default(name)
		secret := gitops.SecretName(name)
		if gitops.IsHub(env) {
			secret = "(none: Argo CD's own cluster)"
		}
		fmt.Println(name, "→", gitops.ClusterName(env), secret)
	}
	// Output:
	// development → development cluster-development
	// staging → staging cluster-staging
	// production → production cluster-production
	// system → in-cluster (none: Argo CD's own cluster)
}
