package gitops_test

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/releaseutil"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/org/platform/internal/helmrelease"
	"github.com/org/platform/internal/shared"
	"github.com/org/platform/pkg/gitops"
	"github.com/org/platform/pkg/ingress"
	"github.com/org/platform/pkg/observability"
	"github.com/org/platform/pkg/secrets"
	"github.com/org/platform/pkg/spec"
)

func standard(t *testing.T, name string) spec.Environment {
	t.Helper()
	env, err := spec.Default(name)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func standards(t *testing.T) []spec.Environment {
	t.Helper()
	var envs []spec.Environment
	for _, n := range spec.StandardNames() {
		envs = append(envs, standard(t, n))
	}
	return envs
}

// sharedChart loads an upstream chart from the shared chart repository.
func sharedChart(t *testing.T, c helmrelease.Chart) *chart.Chart {
	t.Helper()
	path, err := shared.Find(filepath.Join("charts", c.Name+"-"+c.Version+".tgz"))
	if err != nil {
		if shared.Required() {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	ch, err := loader.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// render renders ch client-side as helm template does.
func render(t *testing.T, ch *chart.Chart, name, ns string, values map[string]any) (manifest string, hooks int) {
	t.Helper()
	inst := action.NewInstall(&action.Configuration{})
	inst.DryRun, inst.ClientOnly, inst.ReleaseName, inst.Namespace = true, true, name, ns
	inst.KubeVersion = &chartutil.KubeVersion{Version: "v1.34.0", Major: "1", Minor: "34"}
	r, err := inst.Run(ch, values)
	if err != nil {
		t.Fatalf("render %s: %v", ch.Name(), err)
	}
	return r.Manifest, len(r.Hooks)
}

func TestArgoCDReleaseOnlyInTheHub(t *testing.T) {
	t.Parallel()
	for _, name := range spec.StandardNames() {
		rel, err := gitops.ArgoCDRelease(standard(t, name))
		if name != spec.System {
			if !errors.Is(err, gitops.ErrNotHub) {
				t.Errorf("%s: ArgoCDRelease error = %v, want ErrNotHub", name, err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if rel.Namespace != "argocd" || rel.Chart.Version != "10.1.1" || rel.Chart.RepoURL != "https://argoproj.github.io/argo-helm" {
			t.Errorf("release %s/%s %s from %s, want argocd, argo-cd 10.1.1 from argo-helm", rel.Namespace, rel.Name, rel.Chart, rel.Chart.RepoURL)
		}
	}
}

// TestArgoCDRendersStably renders the hub's release from the upstream
// chart: every value is one the chart knows, a misspelt one is named, two
// renders are identical, no admin password is rendered (Argo CD makes it in
// the cluster), the CRDs are in the manifest, and the pods carry the names
// pkg/network's Argo CD policies select.
func TestArgoCDRendersStably(t *testing.T) {
	t.Parallel()
	rel, err := gitops.ArgoCDRelease(standard(t, spec.System))
	if err != nil {
		t.Fatal(err)
	}
	ch := sharedChart(t, rel.Chart)
	unknown, err := helmrelease.UnknownValues(ch, rel.Values, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(unknown) > 0 {
		t.Errorf("values the chart does not know: %v", unknown)
	}
	misspelt := map[string]any{"server": map[string]any{"replica": 1}}
	if u, _ := helmrelease.UnknownValues(ch, misspelt, nil); !slices.Equal(u, []string{"server.replica"}) {
		t.Errorf("UnknownValues of a misspelt key = %v, want it named", u)
	}
	first, hooks := render(t, ch, rel.Name, rel.Namespace, rel.Values)
	if second, _ := render(t, sharedChart(t, rel.Chart), rel.Name, rel.Namespace, rel.Values); first != second {
		t.Error("two renders of argo-cd differ")
	}
	if hooks != 4 {
		// redis-secret-init: ServiceAccount, Role, RoleBinding, Job.
		t.Errorf("hooks = %d, want the 4 of redis-secret-init", hooks)
	}
	for _, bad := range []string{"admin.password", "admin.passwordMtime"} {
		if strings.Contains(first, bad) {
			t.Errorf("the manifest renders %q", bad)
		}
	}
	kinds := map[string]bool{}
	names := map[string]bool{}
	for _, doc := range releaseutil.SplitManifests(first) {
		var u unstructured.Unstructured
		if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil || u.Object == nil {
			continue
		}
		kinds[u.GetKind()+"/"+u.GetName()] = true
		if u.GetKind() == "Deployment" || u.GetKind() == "StatefulSet" {
			l, _, _ := unstructured.NestedStringMap(u.Object, "spec", "template", "metadata", "labels")
			names[l["app.kubernetes.io/name"]] = true
			if u.GetLabels()["platform.org/environment"] != spec.System {
				t.Errorf("%s/%s: no environment label", u.GetKind(), u.GetName())
			}
		}
	}
	for _, want := range []string{"CustomResourceDefinition/applications.argoproj.io", "CustomResourceDefinition/applicationsets.argoproj.io", "CustomResourceDefinition/appprojects.argoproj.io"} {
		if !kinds[want] {
			t.Errorf("manifest lacks %s", want)
		}
	}
	if names["argocd-dex-server"] {
		t.Error("Dex runs, though it is turned off")
	}
	for _, want := range []string{"argocd-server", "argocd-repo-server", "argocd-application-controller"} {
		if !names[want] {
			t.Errorf("no workload with pod label app.kubernetes.io/name=%s (pkg/network selects it); have %v", want, names)
		}
	}
}

// sdkBaseline is the baseline releases as pkg/rollout builds them for the
// SDK to install (rollout's baseline: sealed-secrets, the ingress pair, the
// observability stack), whoever owns them.
func sdkBaseline(env spec.Environment) ([]helmrelease.Release, error) {
	env = env.WithDefaults()
	var out []helmrelease.Release
	if env.Secrets.SealedSecrets {
		rel, err := secrets.ControllerRelease(env)
		if err != nil {
			return nil, err
		}
		out = append(out, rel)
	}
	if env.Ingress.Enabled {
		rels, err := ingress.Releases(env)
		if err != nil {
			return nil, err
		}
		out = append(out, rels...)
	}
	if env.Observability.Enabled {
		rels, err := observability.Releases(env)
		if err != nil {
			return nil, err
		}
		out = append(out, rels...)
	}
	return out, nil
}

// canonical turns values into what a YAML values file reads back as.
func canonical(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestApplicationSetValuesAreTheSDKs checks the one-owner rule and the
// values: with every environment handing its baseline to Argo CD, the
// ApplicationSet has one element per environment and release, and each
// element's values, read back from YAML, equal the release values the SDK
// builds; with one environment back on the SDK, its releases leave the
// ApplicationSet; with none on Argo CD there is no ApplicationSet.
func TestApplicationSetValuesAreTheSDKs(t *testing.T) {
	t.Parallel()
	envs := standards(t)
	for i := range envs {
		envs[i].GitOps.BaselineOwner = spec.OwnerArgoCD
	}
	as, err := gitops.ApplicationSet(envs, sdkBaseline)
	if err != nil {
		t.Fatal(err)
	}
	elems, err := gitops.Elements(as)
	if err != nil {
		t.Fatal(err)
	}
	type key struct{ env, ns, name string }
	got := map[key]gitops.Element{}
	for _, e := range elems {
		got[key{e.Env, e.Namespace, e.Release}] = e
	}
	want := 0
	for _, env := range envs {
		rels, err := sdkBaseline(env)
		if err != nil {
			t.Fatal(err)
		}
		if len(rels) < 5 {
			t.Fatalf("%s: %d baseline releases, want sealed-secrets, ingress and observability", env.Name, len(rels))
		}
		for _, rel := range rels {
			want++
			e, ok := got[key{env.Name, rel.Namespace, rel.Name}]
			if !ok {
				t.Errorf("%s: release %s/%s missing from the ApplicationSet", env.Name, rel.Namespace, rel.Name)
				continue
			}
			var v map[string]any
			if err := yaml.Unmarshal([]byte(e.Values), &v); err != nil {
				t.Fatalf("%s %s: values YAML: %v", env.Name, rel.Name, err)
			}
			if !reflect.DeepEqual(canonical(t, v), canonical(t, rel.Values)) {
				t.Errorf("%s %s: ApplicationSet values differ from the SDK's:\n%s", env.Name, rel.Name, e.Values)
			}
			if e.Chart != rel.Chart.Name || e.Version != rel.Chart.Version || e.RepoURL != rel.Chart.RepoURL {
				t.Errorf("%s %s: chart %s %s %s, want %s from %s", env.Name, rel.Name, e.Chart, e.Version, e.RepoURL, rel.Chart, rel.Chart.RepoURL)
			}
			wantCluster := env.Name
			if env.Name == spec.System {
				wantCluster = gitops.InCluster
			}
			if e.Cluster != wantCluster {
				t.Errorf("%s %s: destination %q, want %q", env.Name, rel.Name, e.Cluster, wantCluster)
			}
		}
	}
	if len(elems) != want {
		t.Errorf("%d elements, want %d (one per environment and release)", len(elems), want)
	}
	tmpl, _, _ := unstructured.NestedMap(as.Object, "spec", "template", "spec")
	if tmpl["project"] != gitops.ProjectName {
		t.Errorf("template project %v, want %s", tmpl["project"], gitops.ProjectName)
	}

	envs[1].GitOps.BaselineOwner = spec.OwnerSDK
	as, err = gitops.ApplicationSet(envs, sdkBaseline)
	if err != nil {
		t.Fatal(err)
	}
	elems, _ = gitops.Elements(as)
	for _, e := range elems {
		if e.Env == envs[1].Name {
			t.Errorf("%s's baseline is the SDK's, yet %s is in the ApplicationSet", e.Env, e.Release)
		}
	}
	for i := range envs {
		envs[i].GitOps.BaselineOwner = ""
	}
	if as, err := gitops.ApplicationSet(envs, sdkBaseline); err != nil || as != nil {
		t.Errorf("no environment on Argo CD: ApplicationSet = %v, %v; want nil, nil", as, err)
	}
}

func TestApplicationSetRefusesSensitiveValues(t *testing.T) {
	t.Parallel()
	env := standard(t, spec.Development)
	env.GitOps.BaselineOwner = spec.OwnerArgoCD
	_, err := gitops.ApplicationSet([]spec.Environment{env}, func(spec.Environment) ([]helmrelease.Release, error) {
		return []helmrelease.Release{{
			Name: "x", Namespace: "x", Chart: helmrelease.Chart{Name: "x", Version: "1.0.0", RepoURL: "https://example.com"},
			Values:    map[string]any{"password": "canary-7f3e"},
			Sensitive: []helmrelease.SensitiveValue{{Path: "password", Ref: "secret/x/x#password"}},
		}}, nil
	})
	if !errors.Is(err, gitops.ErrSensitiveValues) {
		t.Fatalf("err = %v, want ErrSensitiveValues", err)
	}
	if strings.Contains(err.Error(), "canary-7f3e") {
		t.Error("the error shows the secret")
	}
}

// TestHubObjects checks what the hub installs: Argo CD, the AppProject
// admitting the GitOps repository and the baseline's chart repositories
// and every environment's cluster, one sample-service Application per
// environment, the ApplicationSet last.
func TestHubObjects(t *testing.T) {
	t.Parallel()
	envs := standards(t)
	envs[0].GitOps.BaselineOwner = spec.OwnerArgoCD // development
	rels, objs, err := gitops.Hub(standard(t, spec.System), envs, sdkBaseline)
	if err != nil {
		t.Fatal(err)
	}
	if len(rels) != 1 || rels[0].Name != gitops.ReleaseName {
		t.Fatalf("releases %v, want argo-cd alone", rels)
	}
	var kinds []string
	for _, o := range objs {
		kinds = append(kinds, o.GetKind()+"/"+o.GetName())
		if o.GetNamespace() != gitops.Namespace {
			t.Errorf("%s in namespace %q, want argocd", o.GetName(), o.GetNamespace())
		}
	}
	wantKinds := []string{"AppProject/platform", "Application/sample-service-system", "Application/sample-service-development",
		"Application/sample-service-staging", "Application/sample-service-production", "ApplicationSet/platform-baseline"}
	if !slices.Equal(kinds, wantKinds) {
		t.Errorf("objects %v, want %v", kinds, wantKinds)
	}
	proj := objs[0]
	repos, _, _ := unstructured.NestedStringSlice(proj.Object, "spec", "sourceRepos")
	for _, want := range []string{spec.DefaultGitOpsRepoURL, ingress.NginxChart.RepoURL, secrets.ChartRepoURL} {
		if !slices.Contains(repos, want) {
			t.Errorf("AppProject sourceRepos %v lack %s", repos, want)
		}
	}
	dests, _, _ := unstructured.NestedSlice(proj.Object, "spec", "destinations")
	var names []string
	for _, d := range dests {
		names = append(names, d.(map[string]any)["name"].(string))
	}
	if !slices.Equal(names, []string{"development", gitops.InCluster, "production", "staging"}) {
		t.Errorf("AppProject destinations %v, want the four clusters", names)
	}
	// Every Application (and the ApplicationSet's template) goes to a
	// destination the project admits, from a repository it admits.
	for _, o := range objs[1 : len(objs)-1] {
		dst, _, _ := unstructured.NestedString(o.Object, "spec", "destination", "name")
		src, _, _ := unstructured.NestedString(o.Object, "spec", "source", "repoURL")
		if !slices.Contains(names, dst) || !slices.Contains(repos, src) {
			t.Errorf("%s: destination %q or source %q not admitted by the project", o.GetName(), dst, src)
		}
		vals, _, _ := unstructured.NestedString(o.Object, "spec", "source", "helm", "values")
		if !strings.Contains(vals, "className: nginx") {
			t.Errorf("%s: values do not name the spec's ingress class:\n%s", o.GetName(), vals)
		}
	}
	if _, _, err := gitops.Hub(standard(t, spec.Staging), envs, nil); !errors.Is(err, gitops.ErrNotHub) {
		t.Errorf("Hub(staging) error = %v, want ErrNotHub", err)
	}
}
