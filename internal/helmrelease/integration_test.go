package helmrelease_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/releaseutil"
	helmtime "helm.sh/helm/v3/pkg/time"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/org/platform/internal/controlplane"
	"github.com/org/platform/internal/helmrelease"
	"github.com/org/platform/internal/httpcount"
	"github.com/org/platform/internal/shared"
	"github.com/org/platform/pkg/change"
)

func TestMain(m *testing.M) {
	// Helm's atomic wait needs Deployments to become ready: kwok plays the
	// kubelet of two fake nodes.
	os.Exit(controlplane.Main(m, controlplane.WithWorkloads(), controlplane.WithNodes(2)))
}

// chartServer serves the shared upstream chart repository.
func chartServer(t *testing.T) string {
	t.Helper()
	idx, err := shared.Find("charts/index.yaml")
	if err != nil {
		if shared.Required() {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(filepath.Dir(idx))))
	t.Cleanup(srv.Close)
	return srv.URL
}

type cluster struct {
	getter *helmrelease.Getter
	count  *httpcount.Counter
	kube   kubernetes.Interface
	dyn    dynamic.Interface
	cfg    *action.Configuration
}

func newCluster(t *testing.T, ns string) *cluster {
	t.Helper()
	cp := controlplane.Require(t)
	rc := cp.RESTConfig()
	c := &cluster{count: &httpcount.Counter{}}
	rc.WrapTransport = c.count.Wrap
	var err error
	if c.getter, err = helmrelease.GetterFor(rc); err != nil {
		t.Fatal(err)
	}
	if c.kube, err = kubernetes.NewForConfig(cp.RESTConfig()); err != nil {
		t.Fatal(err)
	}
	if c.dyn, err = dynamic.NewForConfig(cp.RESTConfig()); err != nil {
		t.Fatal(err)
	}
	// A Helm configuration of the test's own, to read and doctor history.
	g, err := helmrelease.NewGetter(cp.Kubeconfig())
	if err != nil {
		t.Fatal(err)
	}
	c.cfg = new(action.Configuration)
	if err := c.cfg.Init(g, ns, "secret", t.Logf); err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *cluster) history(t *testing.T, name string) []*release.Release {
	t.Helper()
	h, err := c.cfg.Releases.History(name)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(h, func(a, b *release.Release) int { return a.Version - b.Version })
	return h
}

func sealedSecrets(url, ns string) helmrelease.Release {
	return helmrelease.Release{
		Name: "sealed-secrets", Namespace: ns,
		Chart:  helmrelease.Chart{Name: "sealed-secrets", Version: "2.18.5", RepoURL: url},
		Values: map[string]any{"fullnameOverride": "sealed-secrets-" + ns},
	}
}

func TestIntegrationSealedSecrets(t *testing.T) {
	t.Parallel()
	url := chartServer(t)
	ns := "sealed"
	c := newCluster(t, ns)
	rel := sealedSecrets(url, ns)
	opts := []helmrelease.Option{helmrelease.WithCacheDir(t.TempDir()), helmrelease.WithLogger(zaptest.NewLogger(t)),
		helmrelease.WithLayer(change.LayerSecrets), helmrelease.WithEnvironment("it"), helmrelease.WithTimeout(2 * time.Minute)}
	ctx := t.Context()

	// Install.
	p, err := helmrelease.Plan(ctx, c.getter, rel, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Steps) != 1 || p.Steps[0].Op != change.Create {
		t.Fatalf("first plan: %+v, want one create", p.Steps)
	}
	var planned helmrelease.Action
	if err := p.Steps[0].Decode(&planned); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res, err := helmrelease.Ensure(ctx, c.getter, rel, opts...)
	if err != nil {
		t.Fatalf("install: %v", err)
	}
	t.Logf("MEASURE install: %s, %d requests (%d writes), result %s", time.Since(start).Round(time.Millisecond), c.count.Requests(), c.count.Writes(), res.Summary())
	h := c.history(t, rel.Name)
	if len(h) != 1 || h[0].Info.Status != release.StatusDeployed {
		t.Fatalf("after install: %d revisions, want 1 deployed", len(h))
	}
	if got := "sha256:" + sha256Hex(h[0].Manifest); got != planned.ManifestDigest {
		t.Errorf("Helm stored manifest %s, the plan rendered %s", got, planned.ManifestDigest)
	}
	// Every object of the rendered manifest exists, and the CRD is
	// established.
	objs := manifestObjects(t, h[0].Manifest)
	if len(objs) < 5 {
		t.Fatalf("the manifest has %d objects, want the controller's (at least 5)", len(objs))
	}
	for _, o := range objs {
		if _, err := c.resource(t, o, ns).Get(ctx, o.GetName(), metav1.GetOptions{}); err != nil {
			t.Errorf("%s %s of the manifest: %v", o.GetKind(), o.GetName(), err)
		}
	}
	crd := &apiextensionsv1.CustomResourceDefinition{}
	u, err := c.dyn.Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}).Get(ctx, "sealedsecrets.bitnami.com", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the chart's CRD: %v", err)
	}
	if err := fromUnstructured(u, crd); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(crd.Status.Conditions, func(c apiextensionsv1.CustomResourceDefinitionCondition) bool {
		return c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue
	}) {
		t.Errorf("CRD sealedsecrets.bitnami.com is not Established: %+v", crd.Status.Conditions)
	}

	// Re-ensure with the same inputs: no new revision, no write.
	before, beforeW := c.count.Requests(), c.count.Writes()
	start = time.Now()
	p, err = helmrelease.Plan(ctx, c.getter, rel, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("MEASURE no-op plan: %s, %d requests (%d writes; httpcount does not count dry-runs as writes)", time.Since(start).Round(time.Millisecond), c.count.Requests()-before, c.count.Writes()-beforeW)
	if !p.Empty() {
		t.Fatalf("plan after install:\n%s", p.Result())
	}
	before, beforeW = c.count.Requests(), c.count.Writes()
	start = time.Now()
	res, err = helmrelease.Ensure(ctx, c.getter, rel, opts...)
	if err != nil || res.Changed() {
		t.Fatalf("re-ensure: %v, changes %v", err, res.Changes)
	}
	t.Logf("MEASURE no-op re-ensure: %s, %d requests (%d writes)", time.Since(start).Round(time.Millisecond), c.count.Requests()-before, c.count.Writes()-beforeW)
	if n := len(c.history(t, rel.Name)); n != 1 {
		t.Fatalf("re-ensure made a revision: %d revisions", n)
	}

	// Out-of-band edit of a live object: a drift-correcting update.
	svc := "sealed-secrets-" + ns
	patch := []byte(`{"metadata":{"labels":{"app.kubernetes.io/name":"tampered"}}}`)
	if _, err := c.kube.CoreV1().Services(ns).Patch(ctx, svc, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	p, err = helmrelease.Plan(ctx, c.getter, rel, opts...)
	if err != nil {
		t.Fatal(err)
	}
	var a helmrelease.Action
	if len(p.Steps) != 1 || p.Steps[0].Op != change.Update || p.Steps[0].Decode(&a) != nil || !a.DriftCorrection {
		t.Fatalf("plan after an edit: %+v, want a drift-correcting update", p.Steps)
	}
	want := "update service/" + ns + "/" + svc + " metadata.labels[app.kubernetes.io/name]: tampered → sealed-secrets"
	if got := p.Result().Lines(); !slices.Contains(got, want) {
		t.Errorf("plan lines %q lack %q", got, want)
	}
	if _, err := helmrelease.Ensure(ctx, c.getter, rel, opts...); err != nil {
		t.Fatalf("fix drift: %v", err)
	}
	live, err := c.kube.CoreV1().Services(ns).Get(ctx, svc, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if v := live.Labels["app.kubernetes.io/name"]; v != "sealed-secrets" {
		t.Errorf("after Ensure the label is %q, want it restored", v)
	}
	if n := len(c.history(t, rel.Name)); n != 2 {
		t.Errorf("drift correction made %d revisions in all, want 2", n)
	}

	// Values that render an invalid object: the API server rejects it when
	// planning, and nothing is written.
	bad := rel
	bad.Values = map[string]any{"fullnameOverride": "sealed-secrets-" + ns, "extraDeploy": []any{
		map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "Not_A_Name"}},
	}}
	if _, err := helmrelease.Plan(ctx, c.getter, bad, opts...); err == nil || !apierrors.IsInvalid(errors.Unwrap(errors.Unwrap(err))) && !strings.Contains(err.Error(), "Not_A_Name") {
		t.Errorf("plan of an invalid object = %v, want the server's rejection naming it", err)
	}

	// An upgrade the API server rejects when it is applied: two new
	// ConfigMaps where a quota admits one more. Each dry-run fits, the
	// second create does not; Helm rolls back.
	cms, err := c.kube.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	quota := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "configmaps"},
		Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{"count/configmaps": *resource.NewQuantity(int64(len(cms.Items)+1), resource.DecimalSI)}}}
	if _, err := c.kube.CoreV1().ResourceQuotas(ns).Create(ctx, quota, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitQuota(t, c.kube, ns)
	over := rel
	over.Values = map[string]any{"fullnameOverride": "sealed-secrets-" + ns, "extraDeploy": []any{
		map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "extra-a"}},
		map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "extra-b"}},
	}}
	if _, err := helmrelease.Ensure(ctx, c.getter, over, opts...); err == nil || !strings.Contains(err.Error(), "rolled back") {
		t.Fatalf("upgrade over quota = %v, want a failure rolled back", err)
	}
	h = c.history(t, rel.Name)
	last := h[len(h)-1]
	if last.Info.Status != release.StatusDeployed || !strings.HasPrefix(last.Info.Description, "Rollback to 2") || h[len(h)-2].Info.Status != release.StatusFailed {
		t.Errorf("history after a rejected upgrade: %s, want a failed revision then a deployed \"Rollback to 2\"", describe(h))
	}

	// A release put into pending-upgrade by hand, long ago, is unlocked.
	stuck := *last
	stuck.Version = last.Version + 1
	stuck.Info = &release.Info{Status: release.StatusPendingUpgrade, LastDeployed: helmtime.Time{Time: time.Now().Add(-time.Hour)}, Description: "stuck by the test"}
	if err := c.cfg.Releases.Create(&stuck); err != nil {
		t.Fatal(err)
	}
	if _, err := helmrelease.Ensure(ctx, c.getter, rel, opts...); err != nil {
		t.Fatalf("ensure of a stuck release: %v", err)
	}
	h = c.history(t, rel.Name)
	for _, r := range h {
		if r.Info.Status.IsPending() {
			t.Errorf("revision %d is still %s", r.Version, r.Info.Status)
		}
	}
	if l := h[len(h)-1]; l.Info.Status != release.StatusDeployed || l.Version != stuck.Version+2 {
		t.Errorf("history after unlocking: %s, want a rollback then a deployed upgrade after revision %d", describe(h), stuck.Version)
	}
}

func describe(h []*release.Release) string {
	var parts []string
	for _, r := range h {
		parts = append(parts, r.Info.Status.String()+"("+r.Info.Description+")")
	}
	return strings.Join(parts, ", ")
}

func waitQuota(t *testing.T, kube kubernetes.Interface, ns string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	for {
		q, err := kube.CoreV1().ResourceQuotas(ns).Get(ctx, "configmaps", metav1.GetOptions{})
		if err == nil && len(q.Status.Hard) > 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the quota controller never filled the quota's status: %v", err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (c *cluster) resource(t *testing.T, o *unstructured.Unstructured, ns string) dynamic.ResourceInterface {
	t.Helper()
	mapper, err := c.getter.ToRESTMapper()
	if err != nil {
		t.Fatal(err)
	}
	gvk := o.GroupVersionKind()
	m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		t.Fatal(err)
	}
	if m.Scope.Name() == "namespace" {
		return c.dyn.Resource(m.Resource).Namespace(ns)
	}
	return c.dyn.Resource(m.Resource)
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func manifestObjects(t *testing.T, manifest string) []*unstructured.Unstructured {
	t.Helper()
	var out []*unstructured.Unstructured
	for _, doc := range releaseutil.SplitManifests(manifest) {
		var m map[string]any
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			t.Fatal(err)
		}
		if len(m) > 0 {
			out = append(out, &unstructured.Unstructured{Object: m})
		}
	}
	return out
}

func fromUnstructured(u *unstructured.Unstructured, v any) error {
	return runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, v)
}

// TestIntegrationClusterScopedKinds compares PlanNew's table of
// cluster-scoped built-in kinds with what a real API server's discovery
// says of every built-in kind it serves: each cluster-scoped one is in the
// table, and none in the table is namespaced.
func TestIntegrationClusterScopedKinds(t *testing.T) {
	t.Parallel()
	c := newCluster(t, "default")
	dc, err := c.getter.ToDiscoveryClient()
	if err != nil {
		t.Fatal(err)
	}
	lists, err := dc.ServerPreferredResources()
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			t.Fatal(err)
		}
		if !helmrelease.BuiltinGroup(gv.Group) {
			continue
		}
		for _, r := range l.APIResources {
			if strings.Contains(r.Name, "/") {
				continue // a subresource
			}
			seen++
			gk := schema.GroupKind{Group: gv.Group, Kind: r.Kind}
			if in := helmrelease.ClusterScoped[gk]; in == r.Namespaced {
				t.Errorf("%s: the server says namespaced=%v, the table says cluster-scoped=%v", gk, r.Namespaced, in)
			}
		}
	}
	if seen < 40 {
		t.Fatalf("discovery listed %d built-in kinds, want the API server's (over 40)", seen)
	}
}

// TestIntegrationPlanNewAppliesThenUninstall plans the upstream
// sealed-secrets chart without a cluster, pinned to a Kubernetes version
// other than the control plane's, applies the step on the control plane,
// finds nothing left to do in a live Plan (the chart renders alike for
// both versions), and uninstalls it.
func TestIntegrationPlanNewAppliesThenUninstall(t *testing.T) {
	t.Parallel()
	const upstream = "https://bitnami-labs.github.io/sealed-secrets"
	url := chartServer(t)
	ns := "offline"
	c := newCluster(t, ns)
	rel := sealedSecrets(upstream, ns)
	// A cluster role of its own: TestIntegrationSealedSecrets owns the
	// chart's default one.
	rel.Values["rbac"] = map[string]any{"clusterRoleName": "secrets-unsealer-" + ns}
	opts := []helmrelease.Option{helmrelease.WithCacheDir(t.TempDir()), helmrelease.WithLogger(zaptest.NewLogger(t)),
		helmrelease.WithRepository(upstream, url), helmrelease.WithEnvironment("it"), helmrelease.WithTimeout(2 * time.Minute)}
	ctx := t.Context()

	p, err := helmrelease.PlanNew(rel, "1.34", opts...)
	if err != nil {
		t.Fatal(err)
	}
	before := c.count.Requests()
	out := &change.Outputs{}
	if err := helmrelease.ApplyStep(ctx, c.getter, p.Steps[0], out, opts...); err != nil {
		t.Fatalf("ApplyStep of PlanNew's step: %v", err)
	}
	if before == c.count.Requests() {
		t.Fatal("ApplyStep sent no request")
	}
	h := c.history(t, rel.Name)
	if len(h) != 1 || h[0].Version != 1 || h[0].Info.Status != release.StatusDeployed {
		t.Fatalf("after ApplyStep: %s, want revision 1 deployed", describe(h))
	}
	var a helmrelease.Action
	if err := p.Steps[0].Decode(&a); err != nil {
		t.Fatal(err)
	}
	if got := "sha256:" + sha256Hex(h[0].Manifest); got != a.ManifestDigest || a.KubeVersion != "v1.34.0" || a.Chart.RepoURL != upstream {
		t.Errorf("stored manifest %s, planned %s (pinned %s, chart from %s)", got, a.ManifestDigest, a.KubeVersion, a.Chart.RepoURL)
	}
	live, err := helmrelease.Plan(ctx, c.getter, rel, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if !live.Empty() {
		t.Errorf("live Plan after installing PlanNew's step:\n%s", live.Result())
	}

	svc := "sealed-secrets-" + ns
	if err := helmrelease.Uninstall(ctx, c.getter, ns, rel.Name, opts...); err != nil {
		t.Fatalf("Uninstall: %v", err)
	}
	if _, err := c.kube.CoreV1().Services(ns).Get(ctx, svc, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("Service %s after Uninstall: %v, want not found", svc, err)
	}
	if _, err := c.kube.RbacV1().ClusterRoles().Get(ctx, "secrets-unsealer-"+ns, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("ClusterRole after Uninstall: %v, want not found", err)
	}
	if h, err := c.cfg.Releases.History(rel.Name); err == nil && len(h) > 0 {
		t.Errorf("history after Uninstall: %s, want none", describe(h))
	}
	if err := helmrelease.Uninstall(ctx, c.getter, ns, rel.Name, opts...); err != nil {
		t.Errorf("second Uninstall = %v, want nil", err)
	}
}
