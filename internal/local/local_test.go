package local

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"go.uber.org/zap/zaptest"

	"github.com/org/platform/internal/clock"
	"github.com/org/platform/internal/controlplane"
	"github.com/org/platform/internal/httpcount"
	"github.com/org/platform/pkg/rollout"
	"github.com/org/platform/pkg/spec"
)

// These tests set process environment variables (LINODE_TOKEN, LINODE_URL,
// PLATFORM_CACHE_DIR) with t.Setenv, which Go refuses in parallel tests:
// linodego and the control-plane harness read them from the process.

// TestSimulatorWithoutControlPlane connects without a token on a machine
// where the control plane is not built: a fresh simulator on the ×200
// clock, its clock the Deps clock, the Kubernetes layer skipped with a
// one-line way to get it, and every request counted.
func TestSimulatorWithoutControlPlane(t *testing.T) {
	t.Setenv(TokenEnv, "")
	t.Setenv("PLATFORM_CACHE_DIR", t.TempDir())
	e, err := Connect(t.Context(), zaptest.NewLogger(t))
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	defer e.Close()

	if !e.Simulated || e.Clock != ModelClock || e.Where != "the Linode simulator (clock ×200)" {
		t.Errorf("Connect = Simulated %v, Clock %q, Where %q; want true, %q, %q", e.Simulated, e.Clock, e.Where, ModelClock, "the Linode simulator (clock ×200)")
	}
	if e.Deps.Kubernetes != nil || !strings.Contains(e.Deps.KubernetesSkipped, "run make controlplane") || strings.Contains(e.Deps.KubernetesSkipped, "\n") {
		t.Errorf("Kubernetes layer: client set %v, skipped %q; want none, one line saying to run make controlplane", e.Deps.Kubernetes != nil, e.Deps.KubernetesSkipped)
	}
	if e.Deps.Clock != e.sim.Clock() {
		t.Error("Deps.Clock is not the simulator's clock: elapsed times would not be model time")
	}

	env, err := spec.Default("development")
	if err != nil {
		t.Fatal(err)
	}
	p, err := rollout.Plan(t.Context(), e.Deps, env)
	if err != nil {
		t.Fatalf("plan development on the simulator: %v", err)
	}
	if p.Empty() {
		t.Error("the plan of development on a fresh simulator is empty; want everything to create")
	}
	sent := len(e.sim.Requests())
	if sent == 0 || e.Linode.Requests() != int64(sent) || e.Linode.Writes() != 0 {
		t.Errorf("Linode counter: %d requests, %d writes; the simulator saw %d requests, and a plan writes nothing", e.Linode.Requests(), e.Linode.Writes(), sent)
	}

	e.Close()
	e.Close() // idempotent
	if resp, err := http.Get(e.sim.URL() + "/v4beta/lke/clusters"); err == nil {
		resp.Body.Close()
		t.Errorf("the simulator answered %s after Close; want it stopped", resp.Status)
	}
}

// TestSimulatorWithControlPlane connects without a token on a machine where
// the control plane is built: the clock slows to ×60 so that control planes
// start within the simulated provisioning, and the Kubernetes layer gets a
// client instead of a reason to skip. Nothing starts until a cluster is
// asked for, so this test starts no control plane.
func TestSimulatorWithControlPlane(t *testing.T) {
	t.Setenv(TokenEnv, "")
	if err := controlplane.Available(); err != nil {
		t.Skipf("the local control plane is not built (make controlplane): %v", err)
	}
	e, err := Connect(t.Context(), zaptest.NewLogger(t))
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	defer e.Close()
	if e.Where != "the Linode simulator (clock ×60)" || e.Deps.Kubernetes == nil || e.Deps.KubernetesSkipped != "" {
		t.Errorf("Connect = Where %q, Kubernetes client set %v, skipped %q; want the ×60 simulator with a Kubernetes client",
			e.Where, e.Deps.Kubernetes != nil, e.Deps.KubernetesSkipped)
	}
}

// recorder is a transport that answers every request with an empty page
// and keeps it, so that the real API path can be looked at without a
// request leaving the process.
type recorder struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req)
	r.mu.Unlock()
	return &http.Response{
		StatusCode: http.StatusOK,
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       io.NopCloser(strings.NewReader(`{"data":[],"page":1,"pages":1,"results":0}`)),
		Request:    req,
	}, nil
}

// TestTokenConfiguresTheRealAPI checks the client the real API path builds:
// the token as bearer, API version v4beta, LINODE_URL honoured, the wall
// clock, the Kubernetes client factory, and its requests counted.
func TestTokenConfiguresTheRealAPI(t *testing.T) {
	tests := []struct {
		name      string
		linodeURL string // "" leaves LINODE_URL unset
		wantURL   string
		wantWhere string
	}{
		{"default endpoint", "", "https://api.linode.com/v4beta/lke/clusters", "the Linode API"},
		{"LINODE_URL", "http://linode.internal:8080", "http://linode.internal:8080/v4beta/lke/clusters", "the Linode API at http://linode.internal:8080"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(TokenEnv, "a-test-token")
			t.Setenv("LINODE_API_VERSION", "v4") // overridden: the SDK needs v4beta
			if tt.linodeURL != "" {
				t.Setenv("LINODE_URL", tt.linodeURL)
			} else {
				t.Setenv("LINODE_URL", "") // restored after the test
				if err := os.Unsetenv("LINODE_URL"); err != nil {
					t.Fatal(err)
				}
			}
			rec := &recorder{}
			e, err := connect(t.Context(), zaptest.NewLogger(t), rec)
			if err != nil {
				t.Fatalf("connect: %v", err)
			}
			defer e.Close()
			if e.Simulated || e.Clock != WallClock || e.Where != tt.wantWhere || e.sim != nil {
				t.Errorf("connect = Simulated %v, Clock %q, Where %q; want false, %q, %q", e.Simulated, e.Clock, e.Where, WallClock, tt.wantWhere)
			}
			if _, ok := e.Deps.Clock.(clock.Real); !ok {
				t.Errorf("Deps.Clock is %T; want the wall clock", e.Deps.Clock)
			}
			if e.Deps.Kubernetes == nil || e.Deps.KubernetesSkipped != "" {
				t.Errorf("Kubernetes layer: client set %v, skipped %q; want a client", e.Deps.Kubernetes != nil, e.Deps.KubernetesSkipped)
			}

			if _, err := e.Deps.Linode.ListLKEClusters(t.Context(), nil); err != nil {
				t.Fatalf("list LKE clusters through the recorder: %v", err)
			}
			if len(rec.reqs) != 1 {
				t.Fatalf("the client sent %d requests; want 1", len(rec.reqs))
			}
			r := rec.reqs[0]
			if got := r.URL.Scheme + "://" + r.URL.Host + r.URL.Path; got != tt.wantURL {
				t.Errorf("request URL %s; want %s", got, tt.wantURL)
			}
			if got := r.Header.Get("Authorization"); got != "Bearer a-test-token" {
				t.Errorf("the request does not carry LINODE_TOKEN as its bearer token (Authorization has %d characters)", len(got))
			}
			if e.Linode.Requests() != 1 || e.Linode.Writes() != 0 {
				t.Errorf("Linode counter: %d requests, %d writes; want 1, 0", e.Linode.Requests(), e.Linode.Writes())
			}
		})
	}
}

// TestKubernetesRequestsAreCounted checks that the clients the Kubernetes
// factory builds send through the counter, and that a bad kubeconfig is
// refused naming the environment.
func TestKubernetesRequestsAreCounted(t *testing.T) {
	t.Parallel()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"major":"1","minor":"33","gitVersion":"v1.33.0"}`)
	}))
	defer api.Close()
	count := &httpcount.Counter{}
	kube := countingKubeClient(count)

	k, err := kube(t.Context(), "staging", kubeconfigFor(api.URL))
	if err != nil {
		t.Fatalf("build the Kubernetes client: %v", err)
	}
	if _, err := k.Discovery().ServerVersion(); err != nil {
		t.Fatalf("get the server version: %v", err)
	}
	if count.Requests() != 1 || count.Writes() != 0 {
		t.Errorf("Kubernetes counter: %d requests, %d writes; want 1, 0", count.Requests(), count.Writes())
	}

	_, err = kube(t.Context(), "staging", []byte("not: [a kubeconfig"))
	if err == nil || !strings.Contains(err.Error(), `environment "staging"`) {
		t.Errorf("bad kubeconfig: error %v; want one naming environment \"staging\"", err)
	}
}

// kubeconfigFor returns a kubeconfig for server with a token user.
func kubeconfigFor(server string) []byte {
	return []byte(`apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: ` + server + `
users:
- name: u
  user:
    token: ` + base64.StdEncoding.EncodeToString([]byte("t")) + `
contexts:
- name: c
  context: {cluster: c, user: u}
current-context: c
`)
}
