package availability

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/org/platform/actions/internal/gha"
	"github.com/org/platform/actions/internal/ghatest"
	"github.com/org/platform/internal/controlplane"
)

func TestMain(m *testing.M) { os.Exit(controlplane.Main(m)) }

const hookPath = "/services/T0/B0/avail-secret-hook"

func inputs(set map[string]string) map[string]string {
	vals := map[string]string{}
	for _, in := range Inputs {
		vals[in.Name] = ""
	}
	for k, v := range set {
		vals[k] = v
	}
	return ghatest.InputVars(vals)
}

// stub stands in for the ingress controller or the sample service.
func stub(t *testing.T, status int, delay time.Duration) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/healthz"
}

type receiver struct {
	mu    sync.Mutex
	posts []string
	URL   string
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var msg map[string]string
		b, _ := io.ReadAll(req.Body)
		if req.URL.Path != hookPath || json.Unmarshal(b, &msg) != nil {
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		r.posts = append(r.posts, msg["text"])
		r.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	r.URL = srv.URL + hookPath
	return r
}

func (r *receiver) Posts() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.posts...)
}

// TestAvailable: the ingress and the sample service answer in time; the
// API server, without a kubeconfig, is not probed and the summary says so;
// nothing is posted.
func TestAvailable(t *testing.T) {
	t.Parallel()
	hook := newReceiver(t)
	ingress, sample := stub(t, 200, 0), stub(t, 204, 0)
	env := ghatest.NewEnv(t, inputs(map[string]string{
		inEnvironment: "staging", inIngressURL: ingress, inSampleURL: sample, inWebhook: hook.URL,
	}))
	if err := Run(t.Context(), env.Action(), nil, zaptest.NewLogger(t)); err != nil {
		t.Fatalf("Run: %v\n%s", err, env.Stdout.String())
	}
	for _, in := range Inputs {
		if !env.Read(gha.EnvName(in.Name)) {
			t.Errorf("input %s was never read", in.Name)
		}
	}
	out := env.Outputs()
	var rep []ResultJSON
	if err := json.Unmarshal([]byte(out[outReport]), &rep); err != nil {
		t.Fatalf("report output %q: %v", out[outReport], err)
	}
	if out[outVerdict] != "ok" || len(rep) != 2 || rep[0].Target != "ingress" || rep[0].URL != ingress || !rep[0].OK || rep[1].Status != 204 {
		t.Errorf("outputs %v", out)
	}
	sum := env.Summary()
	for _, want := range []string{
		"## Availability of staging: available",
		"must answer 2xx within 2s",
		"| ingress | " + ingress + " | ok | 200 | ",
		"| sample-service | " + sample + " | ok | 204 | ",
		"| api-server | | not probed | | | no input given |",
	} {
		if !strings.Contains(sum, want) {
			t.Errorf("the summary lacks %q:\n%s", want, sum)
		}
	}
	if p := hook.Posts(); len(p) != 0 {
		t.Errorf("posted %q", p)
	}
	if errs := env.Commands("error"); len(errs) != 0 {
		t.Errorf("annotations %q", errs)
	}
}

// TestUnavailable: a 503 from the sample service and an ingress slower
// than the budget fail, each with its own annotation; the webhook gets the
// report; its URL appears nowhere but in its mask.
func TestUnavailable(t *testing.T) {
	t.Parallel()
	hook := newReceiver(t)
	env := ghatest.NewEnv(t, inputs(map[string]string{
		inEnvironment: "production", inIngressURL: stub(t, 200, 2*time.Second), inSampleURL: stub(t, 503, 0),
		inBudget: "300ms", inWebhook: hook.URL,
	}))
	start := time.Now()
	err := Run(t.Context(), env.Action(), nil, zaptest.NewLogger(t))
	if err == nil {
		t.Fatalf("Run succeeded:\n%s", env.Stdout.String())
	}
	if took := time.Since(start); took > 1500*time.Millisecond {
		t.Errorf("the run took %s: the slow ingress held it past its 300ms budget", took)
	}
	errs := env.Commands("error")
	if len(errs) != 2 || !strings.Contains(errs[0], "environment production: ingress: no answer within its budget of 300ms") ||
		!strings.Contains(errs[1], "environment production: sample-service: answered 503 Service Unavailable") {
		t.Errorf("annotations %q; want one per failed target", errs)
	}
	if out := env.Outputs(); out[outVerdict] != "failed" {
		t.Errorf("outputs %v", out)
	}
	if s := env.Summary(); !strings.Contains(s, "## Availability of production: FAILED") || !strings.Contains(s, "| sample-service | ") || !strings.Contains(s, "**failed** | 503 |") {
		t.Errorf("summary:\n%s", s)
	}
	posts := hook.Posts()
	if len(posts) != 1 || !strings.Contains(posts[0], "*production*: 2 of 2 target(s) failed") || !strings.Contains(posts[0], "503") {
		t.Errorf("posts %q", posts)
	}
	if lines := env.Lines(); lines[0] != "::add-mask::"+hook.URL {
		t.Errorf("the first line is %q; want the webhook's mask", lines[0])
	}
	if leaks := env.Leaks(hook.URL); len(leaks) > 0 {
		t.Errorf("the webhook URL leaks in %v", leaks)
	}
	for _, l := range env.Lines()[1:] {
		if strings.Contains(l, "avail-secret-hook") {
			t.Errorf("the webhook's secret path is printed: %q", l)
		}
	}
}

// TestRefusesBadInputs: each bad input fails before any probe, with an
// ::error:: naming the input, and no output.
func TestRefusesBadInputs(t *testing.T) {
	t.Parallel()
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits++ }))
	t.Cleanup(srv.Close)
	for _, tc := range []struct {
		name   string
		inputs map[string]string
		want   string
	}{
		{"no environment", map[string]string{inIngressURL: srv.URL}, "inputs environment: required"},
		{"nothing to probe", map[string]string{inEnvironment: "dev"}, "kubeconfig, ingress-url, sample-url: none given"},
		{"bad budget", map[string]string{inEnvironment: "dev", inIngressURL: srv.URL, inBudget: "fast"}, `budget: "fast" is not a duration`},
		{"budget too long", map[string]string{inEnvironment: "dev", inIngressURL: srv.URL, inBudget: "30s"}, "budget: must be more than 0 and at most 10s"},
		{"bad url", map[string]string{inEnvironment: "dev", inIngressURL: srv.URL, inSampleURL: "ftp://sample"}, `sample-url: "ftp://sample" is not an http(s) URL`},
		{"no kubeconfig file", map[string]string{inEnvironment: "dev", inKubeconfig: "missing.kubeconfig"}, "kubeconfig: open "},
		{"bad webhook", map[string]string{inEnvironment: "dev", inIngressURL: srv.URL, inWebhook: "hooks.example/secret-abc"}, "webhook-url: not an http(s) URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := ghatest.NewEnv(t, inputs(tc.inputs))
			if err := Run(t.Context(), env.Action(), nil, zaptest.NewLogger(t)); err == nil {
				t.Fatal("Run succeeded")
			}
			errs := strings.Join(env.Commands("error"), "\n")
			if !strings.Contains(errs, tc.want) || strings.Contains(errs, "secret-abc") {
				t.Errorf("annotations %q; want one containing %q", errs, tc.want)
			}
			if out := env.Outputs(); len(out) != 0 {
				t.Errorf("outputs set: %v", out)
			}
		})
	}
	if hits != 0 {
		t.Errorf("bad inputs sent %d probes", hits)
	}
}

// TestProbesTheAPIServer probes a real kube-apiserver through a kubeconfig
// file in the workspace, as a workflow would after writing it from a
// secret.
func TestProbesTheAPIServer(t *testing.T) {
	t.Parallel()
	cp := controlplane.Require(t)
	env := ghatest.NewEnv(t, inputs(map[string]string{
		inEnvironment: "development", inKubeconfig: "kube/development.kubeconfig", inIngressURL: stub(t, 200, 0),
	}))
	path := filepath.Join(env.Workspace(), "kube", "development.kubeconfig")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, cp.Kubeconfig(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Run(t.Context(), env.Action(), nil, zaptest.NewLogger(t)); err != nil {
		t.Fatalf("Run: %v\n%s", err, env.Stdout.String())
	}
	var rep []ResultJSON
	if err := json.Unmarshal([]byte(env.Outputs()[outReport]), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep) != 2 || rep[0].Target != "api-server" || !rep[0].OK || rep[0].Status != 200 || !strings.HasSuffix(rep[0].URL, "/readyz") {
		t.Errorf("report %+v", rep)
	}
	t.Logf("/readyz answered in %d ms", rep[0].LatencyMS)
}

// TestTablesMatchActionYML: action.yml and the Go tables declare the same
// inputs (defaults included) and outputs, and the Go step maps each input.
func TestTablesMatchActionYML(t *testing.T) {
	t.Parallel()
	ghatest.CheckTables(t, "../../availability", Inputs, Outputs)
}
