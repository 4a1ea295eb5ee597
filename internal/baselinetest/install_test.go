package baselinetest_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/releaseutil"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/org/platform/internal/controlplane"
	"github.com/org/platform/internal/helmrelease"
	"github.com/org/platform/internal/poll"
	"github.com/org/platform/internal/shared"
	"github.com/org/platform/pkg/linodetest"
	"github.com/org/platform/pkg/observability"
	"github.com/org/platform/pkg/spec"
)

func TestMain(m *testing.M) { os.Exit(controlplane.Main(m)) }

// chartDir returns the shared chart repository's directory, skipping (or
// failing, when shared files are required) without it.
func chartDir(t *testing.T) string {
	t.Helper()
	idx, err := shared.Find("charts/index.yaml")
	if err != nil {
		if shared.Required() {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	return filepath.Dir(idx)
}

// linodeTypes returns the Linode types' sizes as the Linode simulator
// serves them (GET /linode/types).
func linodeTypes(t *testing.T) map[string]controlplane.LinodeType {
	t.Helper()
	_, client := linodetest.New(t, linodetest.WithValidation(false))
	types, err := client.ListTypes(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]controlplane.LinodeType{}
	for _, lt := range types {
		out[lt.ID] = controlplane.LinodeType{VCPUs: lt.VCPUs, MemoryMB: lt.Memory}
	}
	return out
}

// TestBaselineInstalls installs every baseline chart, with the production
// values of each standard environment tested, on a control plane whose
// nodes are shaped like that environment's pools.
func TestBaselineInstalls(t *testing.T) {
	t.Parallel()
	dir := chartDir(t)
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(srv.Close)
	types := linodeTypes(t)
	for _, name := range []string{spec.Development, spec.Production} {
		t.Run(name, func(t *testing.T) {
			env, err := spec.Default(name)
			if err != nil {
				t.Fatal(err)
			}
			installBaseline(t, env, types, dir, srv.URL)
		})
	}
}

func installBaseline(t *testing.T, env spec.Environment, types map[string]controlplane.LinodeType, dir, repoURL string) {
	ctx := t.Context()
	shapes, err := controlplane.ShapesFor(env, types)
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	log := zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))
	cp := controlplane.RequireNew(t, controlplane.WithLogger(log), controlplane.WithPoolNodes(shapes...), controlplane.WithStandIns())
	t.Logf("MEASURE %s: control plane with %d shaped pools and the stand-ins up in %s", env.Name, len(shapes), cp.StartupDuration().Round(time.Millisecond))
	k := newKube(t, cp)

	// kube-prometheus-stack's CRDs, applied on their own first, as
	// pkg/observability says.
	t0 := time.Now()
	ch, err := loader.Load(filepath.Join(dir, fmt.Sprintf("%s-%s.tgz", observability.PrometheusStack.Name, observability.PrometheusStack.Version)))
	if err != nil {
		t.Fatal(err)
	}
	crds, err := observability.PrometheusOperatorCRDs(ch)
	if err != nil {
		t.Fatal(err)
	}
	crdRes := apiextensionsv1.SchemeGroupVersion.WithResource("customresourcedefinitions")
	for _, crd := range crds {
		if _, err := k.dyn.Resource(crdRes).Apply(ctx, crd.GetName(), crd, metav1.ApplyOptions{FieldManager: "baselinetest", Force: true}); err != nil {
			t.Fatalf("apply CRD %s: %v", crd.GetName(), err)
		}
	}
	k.waitEstablished(t)
	t.Logf("MEASURE %s: %d Prometheus operator CRDs applied and Established in %s", env.Name, len(crds), time.Since(t0).Round(time.Millisecond))

	cacheDir := t.TempDir()
	var mu sync.Mutex
	var times []string
	t.Run("install", func(t *testing.T) {
		for _, c := range baselineCharts {
			t.Run(c, func(t *testing.T) {
				t.Parallel()
				rel := testRelease(t, env, c, repoURL)
				opts := []helmrelease.Option{helmrelease.WithCacheDir(cacheDir), helmrelease.WithLogger(log),
					helmrelease.WithEnvironment(env.Name), helmrelease.WithTimeout(2 * time.Minute)}
				getter, err := helmrelease.GetterFor(cp.RESTConfig())
				if err != nil {
					t.Fatal(err)
				}
				t0 := time.Now()
				res, err := helmrelease.Ensure(ctx, getter, rel, opts...)
				took := time.Since(t0)
				if err != nil {
					t.Fatalf("install %s: %v\n%s", c, err, k.diagnose(t, getter, rel, opts))
				}
				if res.Revision != 1 {
					t.Errorf("install made revision %d, want 1", res.Revision)
				}
				mu.Lock()
				times = append(times, fmt.Sprintf("%s %s", c, took.Round(100*time.Millisecond)))
				mu.Unlock()
				t.Logf("MEASURE %s: %s installed (atomic, waited) in %s", env.Name, c, took.Round(time.Millisecond))

				k.checkRelease(t, rel)

				// Re-ensure with the same inputs: no new revision.
				t0 = time.Now()
				again, err := helmrelease.Ensure(ctx, getter, rel, opts...)
				if err != nil {
					t.Fatalf("re-ensure %s: %v", c, err)
				}
				if again.Revision != 0 || len(k.history(t, rel)) != 1 {
					t.Errorf("re-ensure made revision %d (%d in history), want none: %s", again.Revision, len(k.history(t, rel)), again.Summary())
				}
				t.Logf("MEASURE %s: %s re-ensured (no-op) in %s", env.Name, c, time.Since(t0).Round(time.Millisecond))
			})
		}
	})
	if t.Failed() {
		return
	}
	k.waitEstablished(t)
	k.checkFit(t)
	if env.Name == spec.Development {
		k.checkWebhooksAnswer(t, env)
	}
	sort.Strings(times)
	t.Logf("MEASURE %s: whole baseline in %s (control plane start included); per chart: %s", env.Name, time.Since(began).Round(time.Second), strings.Join(times, ", "))
}

// kube holds the clients of one control plane.
type kube struct {
	cp  *controlplane.ControlPlane
	cs  kubernetes.Interface
	dyn dynamic.Interface
}

func newKube(t *testing.T, cp *controlplane.ControlPlane) *kube {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cp.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(cp.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	return &kube{cp: cp, cs: cs, dyn: dyn}
}

// waitEstablished waits until every CRD of the cluster is Established.
func (k *kube) waitEstablished(t *testing.T) {
	t.Helper()
	crdRes := apiextensionsv1.SchemeGroupVersion.WithResource("customresourcedefinitions")
	var pending []string
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	err := poll.Until(ctx, poll.Policy{Interval: 100 * time.Millisecond, Multiplier: 1}, func(ctx context.Context) (bool, error) {
		list, err := k.dyn.Resource(crdRes).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		pending = pending[:0]
		for _, u := range list.Items {
			var crd apiextensionsv1.CustomResourceDefinition
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &crd); err != nil {
				return false, err
			}
			if !slices.ContainsFunc(crd.Status.Conditions, func(c apiextensionsv1.CustomResourceDefinitionCondition) bool {
				return c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue
			}) {
				pending = append(pending, crd.Name)
			}
		}
		return len(pending) == 0, nil
	})
	if err != nil {
		t.Fatalf("CRDs not Established: %v: %v", pending, err)
	}
}

func (k *kube) history(t *testing.T, rel helmrelease.Release) []*release.Release {
	t.Helper()
	getter, err := helmrelease.GetterFor(k.cp.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	cfg := new(action.Configuration)
	if err := cfg.Init(getter, rel.Namespace, "secret", t.Logf); err != nil {
		t.Fatal(err)
	}
	h, err := cfg.Releases.History(rel.Name)
	if err != nil {
		t.Fatalf("history of %s: %v", rel.Name, err)
	}
	return h
}

// checkRelease checks, after an install: one deployed revision; every
// object of its manifest live; in its namespace every LoadBalancer Service
// with an address, every claim Bound and every pod on a pool's node.
func (k *kube) checkRelease(t *testing.T, rel helmrelease.Release) {
	t.Helper()
	ctx := t.Context()
	h := k.history(t, rel)
	if len(h) != 1 || h[0].Info.Status != release.StatusDeployed {
		t.Fatalf("%d revisions, want 1 deployed", len(h))
	}
	// A fresh getter: its discovery knows the CRDs the chart created.
	getter, err := helmrelease.GetterFor(k.cp.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	mapper, err := getter.ToRESTMapper()
	if err != nil {
		t.Fatal(err)
	}
	objects, missing := 0, []string{}
	for _, doc := range releaseutil.SplitManifests(h[0].Manifest) {
		var u unstructured.Unstructured
		if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
			t.Fatalf("parse manifest of %s: %v", rel.Name, err)
		}
		if len(u.Object) == 0 {
			continue
		}
		objects++
		gvk := u.GroupVersionKind()
		m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			missing = append(missing, fmt.Sprintf("%s %s (no API: %v)", gvk.Kind, u.GetName(), err))
			continue
		}
		var ri dynamic.ResourceInterface = k.dyn.Resource(m.Resource)
		if m.Scope.Name() == meta.RESTScopeNameNamespace {
			ns := u.GetNamespace()
			if ns == "" {
				ns = rel.Namespace
			}
			ri = k.dyn.Resource(m.Resource).Namespace(ns)
		}
		if _, err := ri.Get(ctx, u.GetName(), metav1.GetOptions{}); err != nil {
			missing = append(missing, fmt.Sprintf("%s %s: %v", gvk.Kind, u.GetName(), err))
		}
	}
	if objects == 0 || len(missing) > 0 {
		t.Errorf("%d objects in the manifest; not live: %v", objects, missing)
	}
	t.Logf("%s: %d objects of the manifest live", rel.Name, objects)

	svcs, err := k.cs.CoreV1().Services(rel.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range svcs.Items {
		if s.Spec.Type == corev1.ServiceTypeLoadBalancer && len(s.Status.LoadBalancer.Ingress) == 0 {
			t.Errorf("LoadBalancer Service %s has no address", s.Name)
		}
	}
	claims, err := k.cs.CoreV1().PersistentVolumeClaims(rel.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range claims.Items {
		if c.Status.Phase != corev1.ClaimBound {
			t.Errorf("claim %s is %s, want Bound", c.Name, c.Status.Phase)
		}
	}
	if msg := k.unscheduled(t, rel.Namespace); msg != "" {
		t.Error(msg)
	}
}

// unscheduled lists the pods of ns that are not on a node of one of the
// spec's pools, with the scheduler's reason; "" when there are none.
func (k *kube) unscheduled(t *testing.T, ns string) string {
	t.Helper()
	ctx := context.WithoutCancel(t.Context())
	pods, err := k.cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Sprintf("list pods of %s: %v", ns, err)
	}
	var out []string
	for _, p := range pods.Items {
		if p.Status.Phase == corev1.PodSucceeded {
			continue
		}
		if p.Spec.NodeName == "" {
			reason := "not scheduled yet"
			for _, c := range p.Status.Conditions {
				if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
					reason = c.Message
				}
			}
			out = append(out, fmt.Sprintf("pod %s/%s does not fit: %s", ns, p.Name, reason))
			continue
		}
		n, err := k.cs.CoreV1().Nodes().Get(ctx, p.Spec.NodeName, metav1.GetOptions{})
		if err != nil || n.Labels[controlplane.PoolLabel] == "" {
			out = append(out, fmt.Sprintf("pod %s/%s is on %s, not a pool's node", ns, p.Name, p.Spec.NodeName))
		}
	}
	return strings.Join(out, "\n")
}

// checkFit logs, per node, what the baseline's pods request against what
// the node allocates, and fails if a pod of any namespace is unscheduled.
func (k *kube) checkFit(t *testing.T) {
	t.Helper()
	ctx := t.Context()
	nodes, err := k.cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pods, err := k.cs.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	type use struct {
		cpu, mem resource.Quantity
		pods     int
	}
	byNode := map[string]*use{}
	var pending []string
	for _, p := range pods.Items {
		if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		if p.Spec.NodeName == "" {
			pending = append(pending, p.Namespace+"/"+p.Name)
			continue
		}
		u := byNode[p.Spec.NodeName]
		if u == nil {
			u = &use{}
			byNode[p.Spec.NodeName] = u
		}
		u.pods++
		for _, c := range p.Spec.Containers {
			u.cpu.Add(*c.Resources.Requests.Cpu())
			u.mem.Add(*c.Resources.Requests.Memory())
		}
	}
	var lines []string
	for _, n := range nodes.Items {
		u := byNode[n.Name]
		if u == nil {
			u = &use{}
		}
		lines = append(lines, fmt.Sprintf("%s (%s): %d pods, cpu %s of %s, memory %dMi of %dMi", n.Name, n.Labels["node.kubernetes.io/instance-type"],
			u.pods, u.cpu.String(), n.Status.Allocatable.Cpu().String(), u.mem.Value()>>20, n.Status.Allocatable.Memory().Value()>>20))
	}
	sort.Strings(lines)
	t.Logf("MEASURE fit, requests per node:\n  %s", strings.Join(lines, "\n  "))
	if len(pending) > 0 {
		t.Errorf("pods not scheduled: %v", pending)
	}
}

// diagnose says why an install failed: the steps a fresh plan still
// holds, the workloads of the namespace not ready, and unscheduled pods.
func (k *kube) diagnose(t *testing.T, getter *helmrelease.Getter, rel helmrelease.Release, opts []helmrelease.Option) string {
	t.Helper()
	ctx := context.WithoutCancel(t.Context())
	var out []string
	if p, err := helmrelease.Plan(ctx, getter, rel, opts...); err != nil {
		out = append(out, fmt.Sprintf("plan: %v", err))
	} else {
		for _, s := range p.Steps {
			for _, c := range s.Changes {
				out = append(out, fmt.Sprintf("still planned: %s %s: %s %s: %s", s.Op, s.Object, c.Object, c.Field, lineDiff(c.From, c.To)))
			}
		}
	}
	if deps, err := k.cs.AppsV1().Deployments(rel.Namespace).List(ctx, metav1.ListOptions{}); err == nil {
		for _, d := range deps.Items {
			if d.Status.ReadyReplicas < ptrOr(d.Spec.Replicas, 1) {
				out = append(out, fmt.Sprintf("deployment %s: %d of %d ready: %+v", d.Name, d.Status.ReadyReplicas, ptrOr(d.Spec.Replicas, 1), d.Status.Conditions))
			}
		}
	}
	if sts, err := k.cs.AppsV1().StatefulSets(rel.Namespace).List(ctx, metav1.ListOptions{}); err == nil {
		for _, d := range sts.Items {
			if d.Status.ReadyReplicas < ptrOr(d.Spec.Replicas, 1) {
				out = append(out, fmt.Sprintf("statefulset %s: %d of %d ready", d.Name, d.Status.ReadyReplicas, ptrOr(d.Spec.Replicas, 1)))
			}
		}
	}
	if ds, err := k.cs.AppsV1().DaemonSets(rel.Namespace).List(ctx, metav1.ListOptions{}); err == nil {
		for _, d := range ds.Items {
			if d.Status.NumberReady < d.Status.DesiredNumberScheduled || d.Status.DesiredNumberScheduled == 0 {
				out = append(out, fmt.Sprintf("daemonset %s: %d of %d ready", d.Name, d.Status.NumberReady, d.Status.DesiredNumberScheduled))
			}
		}
	}
	if jobs, err := k.cs.BatchV1().Jobs(rel.Namespace).List(ctx, metav1.ListOptions{}); err == nil {
		for _, j := range jobs.Items {
			out = append(out, fmt.Sprintf("job %s: succeeded %d failed %d active %d", j.Name, j.Status.Succeeded, j.Status.Failed, j.Status.Active))
		}
	}
	if pods, err := k.cs.CoreV1().Pods(rel.Namespace).List(ctx, metav1.ListOptions{}); err == nil {
		for _, p := range pods.Items {
			if p.Status.Phase != corev1.PodRunning && p.Status.Phase != corev1.PodSucceeded {
				out = append(out, fmt.Sprintf("pod %s: %s %+v", p.Name, p.Status.Phase, p.Status.Conditions))
			}
		}
	}
	if msg := k.unscheduled(t, rel.Namespace); msg != "" {
		out = append(out, msg)
	}
	if nodes, err := k.cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{}); err == nil {
		for _, n := range nodes.Items {
			for _, c := range n.Status.Conditions {
				if c.Type == corev1.NodeReady && c.Status != corev1.ConditionTrue {
					out = append(out, fmt.Sprintf("node %s not Ready since %s: %s %s", n.Name, c.LastTransitionTime, c.Reason, c.Message))
				}
			}
		}
	}
	return strings.Join(out, "\n")
}

func ptrOr(p *int32, d int32) int32 {
	if p == nil {
		return d
	}
	return *p
}

// lineDiff shows the lines of from and to that differ, in order.
func lineDiff(from, to string) string {
	a, b := strings.Split(from, "\n"), strings.Split(to, "\n")
	var out []string
	for i := range max(len(a), len(b)) {
		var x, y string
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			out = append(out, fmt.Sprintf("line %d: %q → %q", i+1, x, y))
		}
		if len(out) == 5 {
			break
		}
	}
	if len(out) == 0 {
		return fmt.Sprintf("same lines (%d and %d bytes, equal %v)", len(from), len(to), from == to)
	}
	return strings.Join(out, "; ")
}

// checkWebhooksAnswer shows the harness's webhook stand-in at work (see
// the package doc of internal/controlplane): an Ingress, which
// ingress-nginx's admission webhook validates (failurePolicy Fail), is
// admitted, and the stand-in saw the call.
func (k *kube) checkWebhooksAnswer(t *testing.T, env spec.Environment) {
	t.Helper()
	ctx := t.Context()
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: "probe", Namespace: env.Ingress.Namespace},
		Spec: networkingv1.IngressSpec{
			IngressClassName: &env.Ingress.ClassName,
			DefaultBackend: &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
				Name: "probe", Port: networkingv1.ServiceBackendPort{Number: 80}}},
		},
	}
	const webhook = "validate.nginx.ingress.kubernetes.io"
	before := k.cp.WebhookCallCount(webhook)
	if _, err := k.cs.NetworkingV1().Ingresses(ing.Namespace).Create(ctx, ing, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating an Ingress: %v", err)
	}
	if k.cp.WebhookCallCount(webhook) <= before {
		t.Errorf("ingress-nginx's webhook %s was not called for an Ingress", webhook)
	}
	if err := k.cs.NetworkingV1().Ingresses(ing.Namespace).Delete(ctx, ing.Name, metav1.DeleteOptions{}); err != nil {
		t.Error(err)
	}
}
