package gitops_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/repo"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/org/platform/internal/controlplane"
	"github.com/org/platform/internal/helmrelease"
	"github.com/org/platform/internal/kubeobjects"
	"github.com/org/platform/internal/shared"
	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/gitops"
	"github.com/org/platform/pkg/network"
	"github.com/org/platform/pkg/spec"
)

func TestMain(m *testing.M) {
	// The stand-ins (LoadBalancer addresses, bound claims) and kwok nodes:
	// Helm's atomic wait needs Deployments ready, and kwok completes the
	// pods of Jobs, so argo-cd's redis-secret-init hook finishes on paper.
	os.Exit(controlplane.Main(m, controlplane.WithStandIns(), controlplane.WithNodes(2)))
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

// sampleServiceRepo packages the repository's chart into a chart
// repository of its own, served over httptest, and returns its URL.
func sampleServiceRepo(t *testing.T) string {
	t.Helper()
	ch, err := loader.LoadDir(filepath.Join("..", "..", gitops.SampleServiceChartPath))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := chartutil.Save(ch, dir); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(srv.Close)
	idx, err := repo.IndexDirectory(dir, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if err := idx.WriteFile(filepath.Join(dir, "index.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
	return srv.URL
}

// oneCluster serves the control plane as a managed cluster of its own.
type oneCluster struct{ m gitops.Managed }

func (c oneCluster) Managed(context.Context, string) (gitops.Managed, error) { return c.m, nil }

// ensureObjects plans and applies objs as rollout does, and returns how
// many steps the plan had.
func ensureObjects(t *testing.T, g *helmrelease.Getter, env string, objs []*unstructured.Unstructured) int {
	t.Helper()
	o := kubeobjects.Options{Env: env, Layer: change.LayerGitOps}
	p, err := kubeobjects.Plan(t.Context(), g, objs, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range p.Steps {
		if err := kubeobjects.ApplyStep(t.Context(), g, s, o); err != nil {
			t.Fatal(err)
		}
	}
	return len(p.Steps)
}

// TestIntegrationHub installs, on a real API server with kwok nodes, what
// the system environment's GitOps layer holds: the zero-trust baseline of
// pkg/network first (namespaces, quotas, policies), then argo-cd from the
// upstream chart, the AppProject, the sample-service Applications and the
// ApplicationSet (validated by Argo CD's own CRDs), a managed cluster's
// argocd-manager and its registration as a cluster Secret whose token
// authenticates to that cluster, and the sample service from the
// repository's chart in "apps", its pods Running inside the quota. A
// second ensure changes nothing.
func TestIntegrationHub(t *testing.T) {
	cp := controlplane.Require(t)
	log := zaptest.NewLogger(t)
	ctx, cancel := context.WithTimeout(t.Context(), 6*time.Minute)
	defer cancel()
	env := standard(t, spec.System)
	kube, err := kubernetes.NewForConfig(cp.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	g, err := helmrelease.GetterFor(cp.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := network.EnsureKubernetes(ctx, kube, env, network.WithLogger(log)); err != nil {
		t.Fatal(err)
	}

	url := chartServer(t)
	helmOpts := []helmrelease.Option{
		helmrelease.WithLogger(log), helmrelease.WithEnvironment(env.Name), helmrelease.WithLayer(change.LayerGitOps),
		helmrelease.WithRepository(gitops.Chart.RepoURL, url), helmrelease.WithCacheDir(t.TempDir()),
		helmrelease.WithTimeout(4 * time.Minute),
	}
	envs := standards(t)
	envs[0].GitOps.BaselineOwner = spec.OwnerArgoCD
	rels, objs, err := gitops.Hub(env, envs, sdkBaseline)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := helmrelease.Ensure(ctx, g, rels[0], helmOpts...); err != nil {
		t.Fatal(err)
	}
	t.Logf("argo-cd installed in %s", time.Since(start).Round(time.Millisecond))
	// The render is stable against the live cluster too: no new revision.
	if res, err := helmrelease.Ensure(ctx, g, rels[0], helmOpts...); err != nil || res.Changed() {
		t.Errorf("second ensure of argo-cd: %v, %v; want unchanged", res, err)
	}
	deploys, err := kube.AppsV1().Deployments(gitops.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range deploys.Items {
		if d.Status.ReadyReplicas != *d.Spec.Replicas {
			t.Errorf("deployment %s: %d/%d ready", d.Name, d.Status.ReadyReplicas, *d.Spec.Replicas)
		}
	}
	if n := ensureObjects(t, g, env.Name, objs); n != len(objs) {
		t.Errorf("first plan of the hub objects: %d steps, want %d creates", n, len(objs))
	}
	if n := ensureObjects(t, g, env.Name, objs); n != 0 {
		t.Errorf("second plan of the hub objects: %d steps, want none", n)
	}

	// The control plane as a managed cluster: its baseline's manager
	// objects, then its registration in the hub.
	ensureObjects(t, g, "development", gitops.ManagerObjects(standard(t, spec.Development)))
	rc := cp.RESTConfig()
	cs := oneCluster{gitops.Managed{Server: rc.Host, CAData: rc.CAData, Kube: kube}}
	dev := []spec.Environment{standard(t, spec.Development)}
	p, err := gitops.PlanClusters(ctx, kube, cs, env.Name, dev, gitops.WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range p.Steps {
		if err := gitops.ApplyStep(ctx, kube, cs, s, gitops.WithLogger(log)); err != nil {
			t.Fatal(err)
		}
	}
	if p, err = gitops.PlanClusters(ctx, kube, cs, env.Name, dev); err != nil || len(p.Steps) != 0 {
		t.Errorf("second cluster plan: %v, %v; want empty", p.Steps, err)
	}
	sec, err := kube.CoreV1().Secrets(gitops.Namespace).Get(ctx, gitops.SecretName("development"), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		BearerToken     string `json:"bearerToken"`
		TLSClientConfig struct {
			CAData []byte `json:"caData"`
		} `json:"tlsClientConfig"`
	}
	if err := json.Unmarshal(sec.Data["config"], &cfg); err != nil {
		t.Fatal(err)
	}
	// What Argo CD does with the Secret: reach the server with the token.
	asArgo, err := kubernetes.NewForConfig(&rest.Config{Host: string(sec.Data["server"]), BearerToken: cfg.BearerToken,
		TLSClientConfig: rest.TLSClientConfig{CAData: cfg.TLSClientConfig.CAData}})
	if err != nil {
		t.Fatal(err)
	}
	who, err := asArgo.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("the registered token does not authenticate: %v", err)
	}
	if want := "system:serviceaccount:kube-system:argocd-manager"; who.Status.UserInfo.Username != want {
		t.Errorf("the token is %s, want %s", who.Status.UserInfo.Username, want)
	}
	if _, err := asArgo.CoreV1().Namespaces().List(ctx, metav1.ListOptions{Limit: 1}); err != nil {
		t.Errorf("argocd-manager cannot list namespaces: %v", err)
	}

	// The sample service, from the repository's chart.
	svc := helmrelease.Release{Name: "sample-service", Namespace: gitops.SampleServiceNamespace,
		Chart:  helmrelease.Chart{Name: "sample-service", Version: "0.1.0", RepoURL: sampleServiceRepo(t)},
		Values: gitops.SampleServiceValues(env)}
	if _, err := helmrelease.Ensure(ctx, g, svc, helmOpts...); err != nil {
		t.Fatal(err)
	}
	var pods *corev1.PodList
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		pods, err = kube.CoreV1().Pods(gitops.SampleServiceNamespace).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=sample-service"})
		if err != nil {
			return false, err
		}
		running := 0
		for _, p := range pods.Items {
			if p.Status.Phase == corev1.PodRunning && p.Spec.NodeName != "" {
				running++
			}
		}
		return running == 2, nil
	})
	if err != nil {
		t.Fatalf("sample-service pods not Running: %v (%d pods)", err, len(pods.Items))
	}
	ing, err := kube.NetworkingV1().Ingresses(gitops.SampleServiceNamespace).Get(ctx, "sample-service", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ing.Spec.IngressClassName == nil || *ing.Spec.IngressClassName != env.WithDefaults().Ingress.ClassName {
		t.Errorf("Ingress class %v, want the spec's %q", ing.Spec.IngressClassName, env.WithDefaults().Ingress.ClassName)
	}
	q, err := kube.CoreV1().ResourceQuotas(gitops.SampleServiceNamespace).List(ctx, metav1.ListOptions{})
	if err != nil || len(q.Items) == 0 {
		t.Fatalf("apps has no ResourceQuota (%v): the pods were not admitted under one", err)
	}
	used := q.Items[0].Status.Used[corev1.ResourceRequestsCPU]
	if used.IsZero() {
		t.Errorf("the quota counts no CPU requested: %v", q.Items[0].Status.Used)
	}
	if res, err := helmrelease.Ensure(ctx, g, svc, helmOpts...); err != nil || res.Changed() {
		t.Errorf("second ensure of the sample service: %v, %v; want unchanged", res, err)
	}
}
