package rollout_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/linode/linodego"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
	"helm.sh/helm/v3/pkg/action"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/org/platform/internal/controlplane"
	"github.com/org/platform/internal/helmrelease"
	"github.com/org/platform/internal/shared"
	"github.com/org/platform/internal/testvalues"
	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/ingress"
	"github.com/org/platform/pkg/linodetest"
	"github.com/org/platform/pkg/rollout"
	"github.com/org/platform/pkg/spec"
)

// chartServer serves the shared chart repository and returns the mapping
// of every upstream repository of the baseline to it.
func chartServer(t testing.TB) map[string]string {
	t.Helper()
	dir, err := shared.Find("charts")
	if err != nil {
		if shared.Required() {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(srv.Close)
	repos := map[string]string{}
	for _, r := range rollout.Repositories() {
		repos[r] = srv.URL
	}
	return repos
}

// countingHelm is rollout.DefaultHelmClient with its requests counted.
func countingHelm(n *atomic.Int64, writes *atomic.Int64) rollout.HelmClientFunc {
	return func(_ context.Context, _ string, kubeconfig []byte) (genericclioptions.RESTClientGetter, error) {
		cfg, err := clientcmd.RESTConfigFromKubeConfig(kubeconfig)
		if err != nil {
			return nil, err
		}
		cfg.QPS, cfg.Burst = 200, 400
		cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
			return roundTripper(func(r *http.Request) (*http.Response, error) {
				n.Add(1)
				if r.Method != http.MethodGet && r.URL.Query().Get("dryRun") != "All" {
					writes.Add(1)
				}
				return rt.RoundTrip(r)
			})
		})
		return helmrelease.GetterFor(cfg)
	}
}

// baselineEnv is the development environment with the baseline on: Sealed
// Secrets, the ingress controller and cert-manager, and the observability
// stack, with its ClusterIssuer (which the control plane's webhook
// stand-in admits for cert-manager's webhook).
func baselineEnv(t testing.TB) spec.Environment {
	env, err := spec.Default("development")
	if err != nil {
		t.Fatal(err)
	}
	env = env.WithDefaults()
	if !env.Secrets.SealedSecrets || !env.Ingress.Enabled || !env.Observability.Enabled {
		t.Fatalf("development's baseline is not all on: %+v %+v %+v", env.Secrets, env.Ingress, env.Observability)
	}
	return env
}

// TestBaselineOnRealAPIServer takes one environment's whole baseline
// through the plan → apply → plan loop on a real API server with kwok
// nodes: the fresh plan lists every release as a create with its layer and
// the retirement warning; apply installs them; a fresh plan is empty, and a
// second Ensure makes no new Helm revision and no write.
func TestBaselineOnRealAPIServer(t *testing.T) {
	// Each has its own control planes; much of its time is waiting for
	// Helm and kwok, which overlaps well with the others.
	t.Parallel()
	env := baselineEnv(t)
	var requests, writes atomic.Int64
	pool, deps := backedBaseline(t, &requests, &writes, env)
	ctx := t.Context()

	plan, err := rollout.Plan(ctx, deps, env)
	if err != nil {
		t.Fatal(err)
	}
	e := plan.Environments[0]
	releases := map[string]change.Layer{}
	for _, s := range e.Steps {
		if s.Kind == helmrelease.StepRelease {
			if s.Op != change.Create {
				t.Errorf("fresh environment: release step %s is %s, want create", s.ID, s.Op)
			}
			releases[s.Object] = s.Layer
		}
	}
	want := map[string]change.Layer{
		"release/kube-system/sealed-secrets":       change.LayerSecrets,
		"release/cert-manager/cert-manager":        change.LayerHelm,
		"release/ingress-nginx/ingress-nginx":      change.LayerHelm,
		"release/monitoring/kube-prometheus-stack": change.LayerObservability,
		"release/monitoring/loki":                  change.LayerObservability,
		"release/monitoring/otel-collector":        change.LayerObservability,
	}
	for obj, layer := range want {
		if releases[obj] != layer {
			t.Errorf("plan lacks %s in layer %s (releases planned: %v)", obj, layer, releases)
		}
	}
	if !strings.Contains(plan.String(), ingress.RetirementWarning) {
		t.Errorf("plan lacks the ingress-nginx retirement warning:\n%s", plan)
	}

	start := time.Now()
	res, err := rollout.Apply(ctx, deps, plan, rollout.WithApproval(plan.Digest))
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	if err := res.Err(); err != nil {
		t.Fatalf("apply: %v", err)
	}
	t.Logf("baseline installed in %s (wall, cluster provisioning included); peak RSS of this process %s",
		time.Since(start).Round(time.Second), peakRSS())

	requests.Store(0)
	writes.Store(0)
	start = time.Now()
	again, err := rollout.Plan(ctx, deps, env)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Empty() {
		for _, st := range again.Environments[0].Steps {
			for _, c := range st.Changes {
				i := 0
				for i < len(c.From) && i < len(c.To) && c.From[i] == c.To[i] {
					i++
				}
				t.Logf("%s %s: from and to first differ at %d of %d/%d: %q vs %q", c.Object, c.Field, i, len(c.From), len(c.To), c.From[max(0, i-20):min(len(c.From), i+20)], c.To[max(0, i-20):min(len(c.To), i+20)])
			}
		}
		t.Fatalf("plan after apply is not empty:\n%s", again)
	}
	if again.Drifted() {
		t.Errorf("the baseline's own objects are posture findings: %v", again.Environments[0].Posture)
	}
	t.Logf("no-op plan: %s, %d Helm/object requests (%d writes)", time.Since(start).Round(time.Millisecond), requests.Load(), writes.Load())
	if writes.Load() != 0 {
		t.Errorf("a plan sent %d writes", writes.Load())
	}

	kc, err := pool.Kubeconfig(again.Environments[0].ClusterID.Value)
	if err != nil {
		t.Fatal(err)
	}
	revisions := func() map[string]int {
		out := map[string]int{}
		getter, err := helmrelease.NewGetter(kc)
		if err != nil {
			t.Fatal(err)
		}
		for obj := range want {
			parts := strings.Split(obj, "/")
			cfg := new(action.Configuration)
			if err := cfg.Init(getter, parts[1], "secret", func(string, ...any) {}); err != nil {
				t.Fatal(err)
			}
			h, err := action.NewHistory(cfg).Run(parts[2])
			if err != nil {
				t.Fatalf("history of %s: %v", obj, err)
			}
			out[obj] = len(h)
		}
		return out
	}
	before := revisions()
	writes.Store(0)
	if _, err := rollout.Ensure(ctx, deps, []spec.Environment{env}, rollout.WithSimulationSelfApproval()); err != nil {
		t.Fatal(err)
	}
	after := revisions()
	for obj, n := range before {
		if n != 1 || after[obj] != n {
			t.Errorf("%s: %d revisions after install, %d after a second Ensure; want 1 and 1", obj, n, after[obj])
		}
	}
	if writes.Load() != 0 {
		t.Errorf("a no-op Ensure sent %d Helm/object writes", writes.Load())
	}
}

// localLKE is a simulator whose clusters are real API servers with kwok
// nodes shaped like one environment's pools and the LKE stand-ins
// (LoadBalancer addresses, a default StorageClass, answering webhooks),
// and the Deps of a rollout on it that install the baseline from the
// shared chart repository. Tests add their own Kubernetes and Helm
// clients to Deps.
type localLKE struct {
	srv    *linodetest.Server
	client *linodego.Client
	pool   *controlplane.Pool
	deps   rollout.Deps
}

// newLocalLKE starts a localLKE shaped like env. hook, when not nil, sees
// every simulator request after the one that starts a new cluster's
// control plane.
func newLocalLKE(t testing.TB, env spec.Environment, hook linodetest.RequestHook) localLKE {
	t.Helper()
	controlplane.RequireBinaries(t)
	repos := chartServer(t)
	var l localLKE
	var posts atomic.Int64
	l.srv, l.client = linodetest.New(t,
		linodetest.WithKubeconfigSource(func(id int) ([]byte, error) { return l.pool.Kubeconfig(id) }),
		linodetest.WithTimeScale(60),
		// The Linode contract is validated by the simulator's and the
		// concerns' own tests; here its in-memory OpenAPI model would only
		// blur the peak RSS these tests report for the SDK.
		linodetest.WithValidation(false),
		linodetest.WithRequestHook(func(r linodetest.HookRequest) linodetest.HookAction {
			if r.Method == "POST" && r.Route == "/lke/clusters" {
				// Start the new cluster's control plane while LKE
				// "provisions" it (ids are handed out from 10001 on).
				id := 10000 + int(posts.Add(1))
				go func() { _, _ = l.pool.ControlPlane(context.Background(), id) }()
			}
			if hook != nil {
				return hook(r)
			}
			return linodetest.HookAction{}
		}))
	types, err := l.client.ListTypes(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]controlplane.LinodeType{}
	for _, ty := range types {
		byID[ty.ID] = controlplane.LinodeType{VCPUs: ty.VCPUs, MemoryMB: ty.Memory}
	}
	shapes, err := controlplane.ShapesFor(env, byID)
	if err != nil {
		t.Fatal(err)
	}
	l.pool = controlplane.NewPool(controlplane.WithLogger(zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)).Named("controlplane")),
		controlplane.WithStandIns(), controlplane.WithPoolNodes(shapes...))
	t.Cleanup(func() { _ = l.pool.Close() })
	l.deps = rollout.Deps{Linode: l.client, Clock: l.srv.Clock(), Logger: zaptest.NewLogger(t),
		ChartRepositories: repos, ChartCacheDir: t.TempDir(),
		ReleaseValues: testvalues.Overrides(), ReleaseTimeout: 3 * time.Minute}
	return l
}

// backedBaseline is a localLKE shaped like the first environment, its
// Helm and object requests counted.
func backedBaseline(t *testing.T, requests, writes *atomic.Int64, envs ...spec.Environment) (*controlplane.Pool, rollout.Deps) {
	t.Helper()
	l := newLocalLKE(t, envs[0], nil)
	l.deps.Kubernetes = (&kubeRecorder{}).client
	l.deps.Helm = countingHelm(requests, writes)
	return l.pool, l.deps
}

// peakRSS is this process's peak resident set (VmHWM), or "unknown".
func peakRSS() string {
	if runtime.GOOS != "linux" {
		return "unknown"
	}
	b, err := os.ReadFile(filepath.Join("/proc", "self", "status"))
	if err != nil {
		return "unknown"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			f := strings.Fields(l)
			if len(f) >= 2 {
				kb, _ := strconv.Atoi(f[1])
				return strconv.Itoa(kb/1024) + " MB"
			}
		}
	}
	return "unknown"
}

// TestGitOpsHubOnRealAPIServer takes the system environment (the GitOps
// hub) and development through Ensure with their GitOps part and ingress on: Argo
// CD is installed in system, development's cluster gets the ServiceAccount
// Argo CD manages it with, and the hub holds a cluster Secret registering
// development whose token no plan carries. A second plan is empty.
func TestGitOpsHubOnRealAPIServer(t *testing.T) {
	t.Parallel()
	var envs []spec.Environment
	for _, name := range []string{spec.System, spec.Development} {
		env, err := spec.Default(name)
		if err != nil {
			t.Fatal(err)
		}
		env.Observability.Enabled, env.Secrets.SealedSecrets = false, false
		envs = append(envs, env)
	}
	var requests, writes atomic.Int64
	pool, deps := backedBaseline(t, &requests, &writes, envs...)
	ctx := t.Context()

	plan, err := rollout.Plan(ctx, deps, envs...)
	if err != nil {
		t.Fatal(err)
	}
	sys, _ := plan.Environment(spec.System)
	dev, _ := plan.Environment(spec.Development)
	has := func(e rollout.EnvironmentPlan, object string) bool {
		for _, s := range e.Steps {
			if s.Object == object && s.Layer == change.LayerGitOps {
				return true
			}
		}
		return false
	}
	for _, want := range []struct {
		e      rollout.EnvironmentPlan
		object string
	}{
		{sys, "release/argocd/argocd"},
		{sys, "appproject/argocd/platform"},
		{sys, "secret/argocd/cluster-development"},
		{dev, "clusterrolebinding/argocd-manager"},
	} {
		if !has(want.e, want.object) {
			t.Errorf("plan of %s lacks %s in layer gitops:\n%s", want.e.Name, want.object, plan)
		}
	}
	if _, err := rollout.Ensure(ctx, deps, envs, rollout.WithSimulationSelfApproval()); err != nil {
		t.Fatal(err)
	}
	again, err := rollout.Plan(ctx, deps, envs...)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Empty() || again.Drifted() {
		t.Fatalf("plan after Ensure is not empty:\n%s", again)
	}
	sys, _ = again.Environment(spec.System)
	dev, _ = again.Environment(spec.Development)

	hubKC, err := pool.Kubeconfig(sys.ClusterID.Value)
	if err != nil {
		t.Fatal(err)
	}
	devKC, err := pool.Kubeconfig(dev.ClusterID.Value)
	if err != nil {
		t.Fatal(err)
	}
	hub, err := rollout.DefaultKubeClient(ctx, spec.System, hubKC)
	if err != nil {
		t.Fatal(err)
	}
	managed, err := rollout.DefaultKubeClient(ctx, spec.Development, devKC)
	if err != nil {
		t.Fatal(err)
	}
	sec, err := hub.CoreV1().Secrets("argocd").Get(ctx, "cluster-development", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the hub has no cluster Secret for development: %v", err)
	}
	devCfg, err := clientcmd.RESTConfigFromKubeConfig(devKC)
	if err != nil {
		t.Fatal(err)
	}
	if sec.Labels["argocd.argoproj.io/secret-type"] != "cluster" || string(sec.Data["server"]) != devCfg.Host {
		t.Errorf("cluster Secret labels %v, server %q; want type cluster and %s", sec.Labels, sec.Data["server"], devCfg.Host)
	}
	tok, err := managed.CoreV1().Secrets("kube-system").Get(ctx, "argocd-manager-token", metav1.GetOptions{})
	if err != nil || len(tok.Data["token"]) == 0 {
		t.Fatalf("development's manager token: %v", err)
	}
	if !strings.Contains(string(sec.Data["config"]), string(tok.Data["token"])) {
		t.Error("the hub's cluster Secret does not carry development's manager token")
	}
	// With the token issued, a plan that registers development again
	// (its Secret deleted out of band) names the token by fingerprint only.
	if err := hub.CoreV1().Secrets("argocd").Delete(ctx, "cluster-development", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	re, err := rollout.Plan(ctx, deps, envs...)
	if err != nil {
		t.Fatal(err)
	}
	if sys, _ := re.Environment(spec.System); !has(sys, "secret/argocd/cluster-development") {
		t.Fatalf("a deleted cluster Secret is not planned back:\n%s", re)
	}
	var js strings.Builder
	if err := re.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(js.String(), string(tok.Data["token"])) || strings.Contains(re.String(), string(tok.Data["token"])) {
		t.Error("a plan carries the manager token")
	}
	if !strings.Contains(js.String(), "sha256:") {
		t.Error("the plan does not name the token by its fingerprint: the check above proves nothing")
	}
}
