package rollout_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"go.uber.org/zap/zaptest"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/org/platform/internal/controlplane"
	"github.com/org/platform/pkg/linodetest"
	"github.com/org/platform/pkg/rollout"
	"github.com/org/platform/pkg/spec"
)

func TestMain(m *testing.M) { os.Exit(controlplane.Main(m)) }

// kubeRecorder builds the Kubernetes clients of a rollout and records
// every request they send; it can fail the k-th real (not dry-run) write,
// before it reaches the server or after.
type kubeRecorder struct {
	mu       sync.Mutex
	requests []kubeRequest
	writes   atomic.Int64
	failAt   int64
	after    bool // fail after the server took the write: its answer is lost
	cancel   func()
}

type kubeRequest struct {
	method, path string
	dryRun       bool
}

func (k *kubeRecorder) client(_ context.Context, _ string, kubeconfig []byte) (kubernetes.Interface, error) {
	cfg, err := clientcmd.RESTConfigFromKubeConfig(kubeconfig)
	if err != nil {
		return nil, err
	}
	cfg.QPS, cfg.Burst = 200, 400
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripper(func(r *http.Request) (*http.Response, error) {
			dry := r.URL.Query().Get("dryRun") == "All"
			k.mu.Lock()
			k.requests = append(k.requests, kubeRequest{method: r.Method, path: r.URL.Path, dryRun: dry})
			k.mu.Unlock()
			if r.Method == http.MethodGet || dry {
				return rt.RoundTrip(r)
			}
			if n := k.writes.Add(1); k.failAt > 0 && n == k.failAt {
				if !k.after {
					return nil, fmt.Errorf("write %d: %w", n, io.ErrUnexpectedEOF)
				}
				resp, err := rt.RoundTrip(r)
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				return nil, fmt.Errorf("write %d, answer lost: %w", n, io.ErrUnexpectedEOF)
			}
			return rt.RoundTrip(r)
		})
	})
	return kubernetes.NewForConfig(cfg)
}

func (k *kubeRecorder) reset() {
	k.mu.Lock()
	k.requests = nil
	k.mu.Unlock()
}

func (k *kubeRecorder) snapshot() []kubeRequest {
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Clone(k.requests)
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// backed starts a simulator whose clusters are backed by real API servers,
// and Deps that reach them through rec.
func backed(t *testing.T, rec *kubeRecorder) (*linodetest.Server, rollout.Deps) {
	t.Helper()
	controlplane.RequireBinaries(t)
	pool := controlplane.NewPool(controlplane.WithLogger(zaptest.NewLogger(t).Named("controlplane")))
	t.Cleanup(func() { _ = pool.Close() })
	// A control plane takes seconds to start: at ×60 that is a few minutes
	// of model time, which fits inside LKE's provisioning.
	var posts atomic.Int64
	srv, client := linodetest.New(t, linodetest.WithKubeconfigSource(pool.Kubeconfig), linodetest.WithTimeScale(60),
		linodetest.WithRequestHook(func(r linodetest.HookRequest) linodetest.HookAction {
			if r.Method == "POST" && r.Route == "/lke/clusters" {
				// Start the new cluster's control plane while LKE
				// "provisions" it (ids are handed out from 10001 on).
				id := 10000 + int(posts.Add(1))
				go func() { _, _ = pool.ControlPlane(context.Background(), id) }()
			}
			return linodetest.HookAction{}
		}))
	return srv, rollout.Deps{Linode: client, Clock: srv.Clock(), Logger: zaptest.NewLogger(t), Kubernetes: rec.client,
		BaselineSkipped: "these tests are of the Linode and Kubernetes layers; baseline_test.go installs the baseline"}
}

// TestKubernetesLayerOnRealAPIServer takes one environment through the
// whole flow with its Kubernetes layer on a real kube-apiserver: a fresh
// plan creates every object the spec asks for; applying it from JSON
// converges; planning then sends only reads and dry-run writes; and a
// saved plan is refused once an object it read was edited out of band.
func TestKubernetesLayerOnRealAPIServer(t *testing.T) {
	rec := &kubeRecorder{}
	_, deps := backed(t, rec)
	envs := []spec.Environment{*find(t, standard(t), spec.Development)}

	plan, err := rollout.Plan(t.Context(), deps, envs...)
	if err != nil {
		t.Fatal(err)
	}
	e := plan.Environments[0]
	if e.Kubernetes != rollout.KubernetesNew {
		t.Fatalf("Kubernetes layer of a fresh environment: %q", e.Kubernetes)
	}
	human := plan.String()
	if !containsAll(human, "  linode\n", "  kubernetes\n", "+   namespace/", "+   networkpolicy/") {
		t.Errorf("a fresh plan does not show both layers with their objects:\n%s", human)
	}
	res, err := rollout.Apply(t.Context(), deps, roundTrip(t, plan))
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if got, want := objects(res.Environments[0].Result), objects(e.Result()); !slices.Equal(got, want) {
		t.Errorf("applied\n%v\nplanned\n%v", got, want)
	}

	rec.reset()
	again, err := rollout.Plan(t.Context(), deps, envs...)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Empty() || again.Environments[0].Kubernetes != rollout.KubernetesLive {
		t.Fatalf("plan after apply: %s\n%s", again.Environments[0].Kubernetes, again)
	}
	dry := 0
	for _, r := range rec.snapshot() {
		if r.method != http.MethodGet && !r.dryRun {
			t.Errorf("planning sent a real write: %s %s", r.method, r.path)
		}
		if r.dryRun {
			dry++
		}
	}
	if dry == 0 {
		t.Error("planning sent no dry-run apply: the check above proves nothing")
	}

	// A saved plan, then a NetworkPolicy of ours edited by hand: stale.
	envs[0].Cluster.Tags = append(envs[0].Cluster.Tags, "reviewed")
	plan, err = rollout.Plan(t.Context(), deps, envs...)
	if err != nil {
		t.Fatal(err)
	}
	saved := roundTrip(t, plan)
	kube, err := kubeClientOf(t, deps, plan)
	if err != nil {
		t.Fatal(err)
	}
	ns := envs[0].Namespaces[0].Name
	pol, err := kube.NetworkingV1().NetworkPolicies(ns).Get(t.Context(), "default-deny", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pol.Spec.PolicyTypes = pol.Spec.PolicyTypes[:1] // someone drops egress from default-deny
	if _, err := kube.NetworkingV1().NetworkPolicies(ns).Update(t.Context(), pol, metav1.UpdateOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatal(err)
	}
	rec.reset()
	_, err = rollout.Apply(t.Context(), deps, saved)
	var stale *rollout.StaleError
	if !errors.As(err, &stale) || !strings.Contains(err.Error(), "networkpolicy/"+ns+"/default-deny") {
		t.Fatalf("Apply after an out-of-band edit: %v; want a StaleError naming the policy", err)
	}
	for _, r := range rec.snapshot() {
		if r.method != http.MethodGet && !r.dryRun {
			t.Errorf("a stale plan sent %s %s", r.method, r.path)
		}
	}

	// Drift no field shows: an allow-all NetworkPolicy someone else put in
	// one of our namespaces silently defeats default-deny. The plan has
	// nothing to apply (the policy is not ours) but the drift check
	// reports it, with the flows it opens, and exits 2.
	allowAll := &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "allow-everything", Namespace: ns},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{},
			Ingress:     []networkingv1.NetworkPolicyIngressRule{{}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
		},
	}
	if _, err := kube.NetworkingV1().NetworkPolicies(ns).Create(t.Context(), allowAll, metav1.CreateOptions{FieldManager: "someone-else"}); err != nil {
		t.Fatal(err)
	}
	envs[0].Cluster.Tags = envs[0].Cluster.Tags[:len(envs[0].Cluster.Tags)-1]
	if _, err := rollout.Ensure(t.Context(), deps, envs); err != nil {
		t.Fatal(err)
	}
	drift, err := rollout.Plan(t.Context(), deps, envs...)
	if err != nil {
		t.Fatal(err)
	}
	if !drift.Empty() || rollout.ExitCode(drift, nil) != rollout.ExitDrift {
		t.Fatalf("a foreign allow-all policy: plan empty %v, exit %d; want empty and %d:\n%s", drift.Empty(), rollout.ExitCode(drift, nil), rollout.ExitDrift, drift)
	}
	found := drift.Environments[0].Posture
	if len(found) != 1 || found[0].Object != "networkpolicy/"+ns+"/allow-everything" || len(found[0].Flows) == 0 {
		t.Fatalf("posture findings %v; want the allow-all policy with the flows it opens", found)
	}
	if h := drift.String(); !strings.Contains(h, "posture: networkpolicy/"+ns+"/allow-everything") || !strings.Contains(h, "opens ") {
		t.Errorf("the human plan does not show the finding and its flows:\n%s", h)
	}
}

// kubeClientOf returns a client of the plan's first cluster.
func kubeClientOf(t *testing.T, deps rollout.Deps, plan rollout.Artifact) (kubernetes.Interface, error) {
	t.Helper()
	kc, err := deps.Linode.GetLKEClusterKubeconfig(t.Context(), plan.Environments[0].ClusterID.Value)
	if err != nil {
		return nil, err
	}
	raw, err := base64.StdEncoding.DecodeString(kc.KubeConfig)
	if err != nil {
		return nil, err
	}
	return deps.Kubernetes(t.Context(), plan.Environments[0].Name, raw)
}

// kubeFaultSample is how many values of k the Kubernetes fault test tries
// in CI; PLATFORM_FAULT_K=all (make faults) tries every k.
const kubeFaultSample = 20

// TestFaultAtKubernetesWrites provisions one environment with a fault at
// the k-th write to its Kubernetes API, before the server takes it or with
// its answer lost, for a seeded sample of k spread over the whole layer:
// the run reports exactly what took effect, and a re-run converges.
func TestFaultAtKubernetesWrites(t *testing.T) {
	// How many Kubernetes writes a fault-free provisioning sends.
	clean := &kubeRecorder{}
	_, deps := backed(t, clean)
	envs := []spec.Environment{*find(t, standard(t), spec.Development)}
	plan, err := rollout.Plan(t.Context(), deps, envs...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rollout.Apply(t.Context(), deps, plan); err != nil {
		t.Fatal(err)
	}
	total := clean.writes.Load()
	want := objects(plan.Result())
	ks := sampleK(total, kubeFaultSample)
	t.Logf("%d Kubernetes writes in a provisioning; trying k = %v", total, ks)

	for i, k := range ks {
		after := i%2 == 1
		t.Run(fmt.Sprintf("write %d, answer lost %v", k, after), func(t *testing.T) {
			rec := &kubeRecorder{failAt: k, after: after}
			srv, deps := backed(t, rec)
			res, runErr := rollout.Ensure(t.Context(), deps, envs)
			if rec.writes.Load() < k {
				t.Fatalf("only %d writes: the fault at %d was never injected", rec.writes.Load(), k)
			}
			reported := objects(res.Environments[0].Result)
			remaining, err := rollout.Plan(t.Context(), deps, envs...)
			if err != nil {
				t.Fatal(err)
			}
			union := slices.Concat(reported, objects(remaining.Result()))
			slices.Sort(union)
			if !slices.Equal(union, want) {
				t.Errorf("run error %v\nreported %v\nstill planned %v", runErr, reported, objects(remaining.Result()))
			}
			if _, err := rollout.Ensure(t.Context(), deps, envs); err != nil {
				t.Fatalf("re-run: %v", err)
			}
			if p, err := rollout.Plan(t.Context(), deps, envs...); err != nil || !p.Empty() {
				t.Errorf("after the re-run: %v\n%s", err, p)
			}
			assertOneOfEach(t, srv, envs)
		})
	}
}

// sampleK returns n values of k in 1..total spread evenly (every k when
// PLATFORM_FAULT_K=all, or when total ≤ n).
func sampleK(total int64, n int) []int64 {
	var ks []int64
	if os.Getenv("PLATFORM_FAULT_K") == "all" || total <= int64(n) {
		for k := int64(1); k <= total; k++ {
			ks = append(ks, k)
		}
		return ks
	}
	for i := range n {
		ks = append(ks, 1+int64(i)*(total-1)/int64(n-1))
	}
	return slices.Compact(ks)
}
