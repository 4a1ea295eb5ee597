package driftdetect

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/org/platform/actions/internal/gha"
	"github.com/org/platform/actions/internal/ghatest"
	"github.com/org/platform/internal/local"
	"github.com/org/platform/pkg/linodetest"
	"github.com/org/platform/pkg/rollout"
	"github.com/org/platform/pkg/spec"
)

const token = "lin-TEST-token-0a1b2c3d4e5f6789"

// receiver is a Slack-compatible webhook: it records the text of each
// post at its secret path.
type receiver struct {
	srv   *httptest.Server
	URL   string // with the secret path
	mu    sync.Mutex
	posts []string
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var msg map[string]string
		b, _ := io.ReadAll(req.Body)
		if req.URL.Path != "/services/T0/B0/hook-secret-xyz" || json.Unmarshal(b, &msg) != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		r.posts = append(r.posts, msg["text"])
		r.mu.Unlock()
	}))
	t.Cleanup(r.srv.Close)
	r.URL = r.srv.URL + "/services/T0/B0/hook-secret-xyz"
	return r
}

func (r *receiver) Posts() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.posts...)
}

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

// converge makes envs match their specs on the simulator.
func converge(t *testing.T, sim *ghatest.Sim, names ...string) {
	t.Helper()
	var envs []spec.Environment
	for _, n := range names {
		env, err := spec.Default(n)
		if err != nil {
			t.Fatal(err)
		}
		envs = append(envs, env)
	}
	if _, err := rollout.Ensure(t.Context(), sim.Deps, envs); err != nil {
		t.Fatal(err)
	}
}

// TestDriftDetect: on converged environments the check exits 0, posts
// nothing and says so; after an out-of-band change to staging's cluster it
// exits 2, names staging in a warning, the outputs and a summary table
// with the field that moved, and the webhook receives the report. The
// token and the webhook URL are masked before anything else is printed and
// appear nowhere else: not in stdout, outputs, summary or logs.
func TestDriftDetect(t *testing.T) {
	t.Parallel()
	sim := ghatest.NewSim(t)
	hook := newReceiver(t)
	converge(t, sim, spec.Development, spec.Staging)
	run := func(t *testing.T) (*ghatest.Env, error, string) {
		env := ghatest.NewEnv(t, inputs(map[string]string{
			inEnvironments: "development,staging", inToken: token, inWebhook: hook.URL,
		}))
		var logs bytes.Buffer
		err := Run(t.Context(), env.Action(), sim.Connect(t, env), gha.NewLogger(&logs))
		return env, err, logs.String()
	}

	clean, err, logs := run(t)
	if code := ExitCode(err); code != rollout.ExitNoDrift {
		t.Fatalf("converged: exit %d (%v)\n%s", code, err, clean.Stdout.String())
	}
	if out := clean.Outputs(); out[outDriftCount] != "0" || out[outDrifted] != "" || len(out[outDigest]) != 64 || out[outExitCode] != "0" {
		t.Errorf("converged: outputs %v", out)
	}
	if s := clean.Summary(); !strings.Contains(s, "## No drift in development, staging") || !strings.Contains(s, "| staging | 0 | 0 | 0 | 0 |") {
		t.Errorf("converged: summary\n%s", s)
	}
	if p := hook.Posts(); len(p) != 0 {
		t.Errorf("converged: posted %q", p)
	}
	checkSecrets(t, clean, logs)

	sim.Srv.Mutate(func(st *linodetest.State) {
		for _, c := range st.Clusters {
			if c.Label == "platform-staging" {
				c.Tags = append(c.Tags, "rogue")
			}
		}
	})
	sim.Srv.ResetCounts()
	drift, err, logs := run(t)
	if code := ExitCode(err); code != rollout.ExitDrift || err != ErrDrift {
		t.Fatalf("after an out-of-band tag: exit %d (%v)\n%s", code, err, drift.Stdout.String())
	}
	if n := sim.Srv.Counts().Mutating; n != 0 {
		t.Errorf("the drift check sent %d writes", n)
	}
	if errs := drift.Commands("error"); len(errs) != 0 {
		t.Errorf("drift is not an error of the check, annotated %q", errs)
	}
	if w := strings.Join(drift.Commands("warning"), "\n"); !strings.Contains(w, "environment staging has drifted") || strings.Contains(w, "development has drifted") {
		t.Errorf("warnings %q; want staging's only", w)
	}
	out := drift.Outputs()
	if out[outDriftCount] != "1" || out[outDrifted] != "staging" || len(out[outDigest]) != 64 || out[outExitCode] != "2" {
		t.Errorf("after drift: outputs %v; want 1 object of staging", out)
	}
	sum := drift.Summary()
	for _, want := range []string{
		"## Drift in staging\n",
		"| staging | 0 | 1 | 0 | 0 |",
		"### staging: 0 to add, 1 to change",
		"| update | `lke/platform-staging` | `tags` | ",
		"Plan digest: `" + out[outDigest] + "`",
	} {
		if !strings.Contains(sum, want) {
			t.Errorf("the summary lacks %q:\n%s", want, sum)
		}
	}
	if !strings.Contains(sum[strings.Index(sum, "| update |"):], "rogue") {
		t.Errorf("the summary's change row does not show the tag that moved:\n%s", sum)
	}
	posts := hook.Posts()
	if len(posts) != 1 || !strings.Contains(posts[0], "*staging*") || !strings.Contains(posts[0], "rogue") || strings.Contains(posts[0], "*development*") {
		t.Errorf("webhook posts %q; want one report of staging's drift", posts)
	}
	checkSecrets(t, drift, logs)

	// The receiver refuses: the check fails (1), naming the receiver's host
	// and never its secret path.
	hook.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "gone", http.StatusGone)
	})
	failed, err, logs := run(t)
	if code := ExitCode(err); code != rollout.ExitError {
		t.Fatalf("a refusing webhook: exit %d (%v)", code, err)
	}
	if errs := strings.Join(failed.Commands("error"), "\n"); !strings.Contains(errs, "drift webhook at 127.0.0.1") || !strings.Contains(errs, "410") {
		t.Errorf("a refusing webhook: annotations %q", errs)
	}
	if failed.Outputs()[outDriftCount] != "1" || failed.Outputs()[outExitCode] != "1" {
		t.Errorf("a refusing webhook: the drift was not reported in the outputs: %v", failed.Outputs())
	}
	checkSecrets(t, failed, logs)
}

// checkSecrets: the token and the webhook URL (and its secret path) are
// masked before any other line, and appear nowhere else.
func checkSecrets(t *testing.T, env *ghatest.Env, logs string) {
	t.Helper()
	lines := env.Lines()
	if len(lines) < 2 || lines[0] != "::add-mask::"+token || !strings.HasPrefix(lines[1], "::add-mask::http://127.0.0.1:") {
		t.Errorf("the first lines printed are %q; want the token's and the webhook's ::add-mask::", lines[:min(2, len(lines))])
	}
	for _, secret := range []string{token, "hook-secret-xyz"} {
		for _, leak := range env.Leaks(secret, logs) {
			if strings.HasPrefix(leak, "stdout: ::add-mask::http") {
				continue // the webhook URL's own mask line
			}
			t.Errorf("%s appears unmasked in %s", secret, leak)
		}
	}
}

// TestDriftDetectRefusesBadInputs: each bad input fails before connecting,
// exit 1 with an ::error:: saying what is wrong; a bad webhook URL is
// refused without being echoed.
func TestDriftDetectRefusesBadInputs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		inputs map[string]string
		want   string
		secret string
	}{
		{"unknown environment", map[string]string{inEnvironments: "development,qa"}, `environments: unknown environment "qa"`, ""},
		{"webhook not a URL", map[string]string{inWebhook: "hooks.example/secret-path-abc"}, "webhook-url: not an http(s) URL", "secret-path-abc"},
		{"webhook not http", map[string]string{inWebhook: "ftp://hooks.example/secret-path-abc"}, "webhook-url: not an http(s) URL", "secret-path-abc"},
		{"spec-dir without the file", map[string]string{inEnvironments: "staging", inSpecDir: "nowhere"}, "has no staging.yaml", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := ghatest.NewEnv(t, inputs(tc.inputs))
			connected := false
			connect := func(context.Context, string, *zap.Logger) (*local.Env, error) {
				connected = true
				return nil, errors.New("connect should not be called")
			}
			err := Run(t.Context(), env.Action(), connect, zaptest.NewLogger(t))
			if code := ExitCode(err); code != rollout.ExitError {
				t.Fatalf("exit %d (%v); want 1", code, err)
			}
			if connected {
				t.Error("Run connected before refusing its inputs")
			}
			errs := strings.Join(env.Commands("error"), "\n")
			if !strings.Contains(errs, tc.want) {
				t.Errorf("error annotations %q; want one containing %q", errs, tc.want)
			}
			if tc.secret != "" && strings.Contains(errs, tc.secret) {
				t.Errorf("the annotation echoes the secret webhook URL: %q", errs)
			}
			if out := env.Outputs(); len(out) != 1 || out[outExitCode] != "1" {
				t.Errorf("outputs %v; want exit-code 1 alone", out)
			}
		})
	}
}

// TestConnectFailureExitsOne: a check that cannot reach the API is an
// error (1), not "no drift" (0).
func TestConnectFailureExitsOne(t *testing.T) {
	t.Parallel()
	env := ghatest.NewEnv(t, inputs(map[string]string{inEnvironments: "staging"}))
	connect := func(context.Context, string, *zap.Logger) (*local.Env, error) {
		return nil, errors.New("dial api.linode.com: no route")
	}
	err := Run(t.Context(), env.Action(), connect, zaptest.NewLogger(t))
	if code := ExitCode(err); code != rollout.ExitError {
		t.Fatalf("exit %d (%v); want 1", code, err)
	}
	if errs := env.Commands("error"); len(errs) != 1 || !strings.Contains(errs[0], "connect: dial api.linode.com") {
		t.Errorf("annotations %q", errs)
	}
}

// TestTablesMatchActionYML: action.yml and the Go tables declare the same
// inputs (defaults included) and outputs, and the Go step maps each input.
func TestTablesMatchActionYML(t *testing.T) {
	t.Parallel()
	ghatest.CheckTables(t, "../../drift-detect", Inputs, Outputs)
}
