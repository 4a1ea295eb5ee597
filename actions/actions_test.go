package actions_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	osexec "os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sethvargo/go-githubactions"
	"go.uber.org/zap/zaptest"

	"github.com/org/platform/actions/internal/driftdetect"
	"github.com/org/platform/actions/internal/ensureenv"
	"github.com/org/platform/actions/internal/ghatest"
	"github.com/org/platform/actions/internal/plan"
	"github.com/org/platform/actions/internal/rollback"
	"github.com/org/platform/pkg/linodetest"
	"github.com/org/platform/pkg/rollout"
	"github.com/org/platform/pkg/spec"
	"github.com/org/platform/pkg/store"
)

// TestActionYMLRunsTheBinary runs each action.yml as the runner would:
// expressions evaluated with actionlint's parser, the Go step's run:
// executed by bash in the action's directory, `go run .` standing for the
// action's binary built once here. The binary is the real main on the
// embedded default (the in-process simulator, no token, no control plane).
func TestActionYMLRunsTheBinary(t *testing.T) {
	t.Parallel()
	extra := map[string]string{"PLATFORM_CACHE_DIR": t.TempDir()} // no local control plane: Kubernetes skipped
	ws := t.TempDir()

	t.Run("plan", func(t *testing.T) {
		t.Parallel()
		exec := ghatest.BashWithGo(t, ghatest.Build(t, "github.com/org/platform/actions/plan"), "plan", extra)
		r := ghatest.RunAction(t, "plan", ws, map[string]string{"environments": "development,staging"}, exec)
		if r.Err != nil {
			t.Fatalf("the step failed: %v\n%s", r.Err, r.Stdout)
		}
		if len(r.Outputs["plan-digest"]) != 64 || r.Outputs["changes"] == "0" || r.Outputs["plan-file"] != filepath.Join(ws, "platform-plan.json") {
			t.Errorf("outputs %v; want a digest, changes and the default plan file in the workspace", r.Outputs)
		}
		if _, err := os.Stat(r.Outputs["plan-file"]); err != nil {
			t.Error(err)
		}
		if !strings.Contains(r.Summary, "| staging | ") {
			t.Errorf("summary:\n%s", r.Summary)
		}
		if r.Env["INPUT_ENVIRONMENTS"] != "development,staging" || r.Env["INPUT_PLAN_FILE"] != "platform-plan.json" {
			t.Errorf("the step's environment %v; want the input and the default mapped", r.Env)
		}

		bad := ghatest.RunAction(t, "plan", ws, map[string]string{"environments": "qa", "plan-file": "bad.json"}, exec)
		if bad.Err == nil || len(ghatest.Commands(bad.Stdout, "error")) == 0 {
			t.Errorf("an unknown environment: err %v, stdout %q; want exit 1 with an ::error::", bad.Err, bad.Stdout)
		}
	})
	t.Run("ensure-env", func(t *testing.T) {
		t.Parallel()
		exec := ghatest.BashWithGo(t, ghatest.Build(t, "github.com/org/platform/actions/ensure-env"), "ensure-env", extra)
		r := ghatest.RunAction(t, "ensure-env", ws, map[string]string{"environments": "development", "kubeconfig-path": "kube"}, exec)
		if r.Err != nil {
			t.Fatalf("the step failed: %v\n%s", r.Err, r.Stdout)
		}
		if !strings.HasPrefix(r.Outputs["cluster-id"], `{"development":`) || !strings.Contains(r.Outputs["api-endpoint"], "https://") {
			t.Errorf("outputs %v", r.Outputs)
		}
		fi, err := os.Stat(filepath.Join(ws, "kube", "development.kubeconfig"))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("kubeconfig: %v, %v; want a 0600 file", fi, err)
		}
		bad := ghatest.RunAction(t, "ensure-env", ws, map[string]string{"approved-digest": "xyz"}, exec)
		if bad.Err == nil || !strings.Contains(strings.Join(ghatest.Commands(bad.Stdout, "error"), "\n"), "not a plan digest") {
			t.Errorf("a bad digest: err %v, stdout %q; want exit 1 with an ::error::", bad.Err, bad.Stdout)
		}
	})
	t.Run("drift-detect", func(t *testing.T) {
		t.Parallel()
		exec := ghatest.BashWithGo(t, ghatest.Build(t, "github.com/org/platform/actions/drift-detect"), "drift-detect", extra)
		// A fresh simulator holds nothing: everything the spec asks for is
		// missing, which is drift: the binary exits 2 (under the runner's
		// `go run` the step exits 1), and the exit-code output says 2.
		r := ghatest.RunAction(t, "drift-detect", ws, map[string]string{"environments": "development"}, exec)
		var ee *osexec.ExitError
		if !errors.As(r.Err, &ee) || ee.ExitCode() != 2 {
			t.Fatalf("the step: %v; want exit 2 (drift)\n%s", r.Err, r.Stdout)
		}
		if r.Outputs["drift-count"] == "0" || r.Outputs["drifted-environments"] != "development" || len(r.Outputs["plan-digest"]) != 64 || r.Outputs["exit-code"] != "2" {
			t.Errorf("outputs %v", r.Outputs)
		}
		if !strings.Contains(r.Summary, "## Drift in development") || r.Env["INPUT_WEBHOOK_URL"] != "" {
			t.Errorf("summary:\n%s\nenv %v", r.Summary, r.Env)
		}
		bad := ghatest.RunAction(t, "drift-detect", ws, map[string]string{"environments": "qa"}, exec)
		if !errors.As(bad.Err, &ee) || ee.ExitCode() != 1 || len(ghatest.Commands(bad.Stdout, "error")) == 0 {
			t.Errorf("an unknown environment: err %v, stdout %q; want exit 1 with an ::error::", bad.Err, bad.Stdout)
		}
	})
	t.Run("rollback", func(t *testing.T) {
		t.Parallel()
		exec := ghatest.BashWithGo(t, ghatest.Build(t, "github.com/org/platform/actions/rollback"), "rollback", extra)
		// The embedded default's fresh simulator and an empty store: there
		// is no snapshot to roll back to, and the step says so.
		r := ghatest.RunAction(t, "rollback", ws, map[string]string{"environments": "development", "store": "records"}, exec)
		if r.Err == nil || !strings.Contains(strings.Join(ghatest.Commands(r.Stdout, "error"), "\n"), "holds no snapshot of environment development") {
			t.Fatalf("an empty store: err %v\n%s", r.Err, r.Stdout)
		}
		if r.Outputs["restored"] != "false" || r.Env["INPUT_SNAPSHOT"] != "latest" || r.Env["INPUT_STORE"] != "records" || r.Env["INPUT_PLAN_ONLY"] != "false" {
			t.Errorf("outputs %v, env %v", r.Outputs, r.Env)
		}
		bad := ghatest.RunAction(t, "rollback", ws, map[string]string{"environments": "development", "store": "records", "plan-only": "maybe"}, exec)
		if bad.Err == nil || !strings.Contains(strings.Join(ghatest.Commands(bad.Stdout, "error"), "\n"), "plan-only") {
			t.Errorf("a bad input: err %v, stdout %q; want exit 1 with an ::error::", bad.Err, bad.Stdout)
		}
	})
	t.Run("availability", func(t *testing.T) {
		t.Parallel()
		up := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
		t.Cleanup(up.Close)
		down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }))
		t.Cleanup(down.Close)
		exec := ghatest.BashWithGo(t, ghatest.Build(t, "github.com/org/platform/actions/availability"), "availability", extra)
		r := ghatest.RunAction(t, "availability", ws, map[string]string{"environment": "staging", "ingress-url": up.URL, "sample-url": up.URL}, exec)
		if r.Err != nil || r.Outputs["verdict"] != "ok" || !strings.Contains(r.Outputs["report"], `"target":"sample-service"`) {
			t.Fatalf("the step: %v, outputs %v\n%s", r.Err, r.Outputs, r.Stdout)
		}
		if r.Env["INPUT_BUDGET"] != "2s" || !strings.Contains(r.Summary, "| api-server | | not probed |") {
			t.Errorf("env %v, summary:\n%s", r.Env, r.Summary)
		}
		bad := ghatest.RunAction(t, "availability", ws, map[string]string{"environment": "staging", "sample-url": down.URL}, exec)
		if bad.Err == nil || bad.Outputs["verdict"] != "failed" || !strings.Contains(strings.Join(ghatest.Commands(bad.Stdout, "error"), "\n"), "answered 503") {
			t.Errorf("a 503: err %v, outputs %v, stdout %q; want exit 1 with an ::error::", bad.Err, bad.Outputs, bad.Stdout)
		}
	})
}

// TestPlanApproveApply is the GitOps path through both action.yml files,
// in-process on one simulator: plan on a pull request writes the artifact
// and its digest; ensure-env on merge applies it with that digest approved;
// a second plan is empty. Then, for a change to production: a wrong digest
// is refused with nothing written, and after an out-of-band change the
// saved plan is refused as stale, naming what moved.
func TestPlanApproveApply(t *testing.T) {
	t.Parallel()
	sim := ghatest.NewSim(t)
	ws := t.TempDir()
	log := zaptest.NewLogger(t)
	planExec := ghatest.InProcess(t, "plan", func(ctx context.Context, e *ghatest.Env) error {
		return plan.Run(ctx, e.Action(), sim.Connect(t, e), log)
	})
	ensureExec := ghatest.InProcess(t, "ensure-env", func(ctx context.Context, e *ghatest.Env) error {
		return ensureenv.Run(ctx, runnerAction(e), sim.Connect(t, e), log)
	})
	envs := "staging,production"

	// Pull request: plan.
	pr := ghatest.RunAction(t, "plan", ws, map[string]string{"environments": envs, "plan-file": "pr/plan.json"}, planExec)
	if pr.Err != nil {
		t.Fatalf("plan: %v\n%s", pr.Err, pr.Stdout)
	}
	digest := pr.Outputs["plan-digest"]
	if len(digest) != 64 || pr.Outputs["changes"] == "0" {
		t.Fatalf("plan outputs %v", pr.Outputs)
	}

	// Merge: ensure-env with the saved plan and its approved digest.
	merge := ghatest.RunAction(t, "ensure-env", ws, map[string]string{
		"environments": envs, "plan-file": "pr/plan.json", "approved-digest": digest,
	}, ensureExec)
	if merge.Err != nil {
		t.Fatalf("ensure-env: %v\n%s", merge.Err, merge.Stdout)
	}
	if merge.Outputs["plan-digest"] != digest || !strings.Contains(merge.Outputs["cluster-id"], `"production":`) || !strings.Contains(merge.Outputs["cluster-id"], `"staging":`) {
		t.Errorf("ensure-env outputs %v", merge.Outputs)
	}

	again := ghatest.RunAction(t, "plan", ws, map[string]string{"environments": envs, "plan-file": "again.json"}, planExec)
	if again.Err != nil || again.Outputs["changes"] != "0" {
		t.Fatalf("a second plan: %v, changes %q; want empty\n%s", again.Err, again.Outputs["changes"], again.Summary)
	}

	// A change to production, reviewed as a saved plan.
	specs := filepath.Join(ws, "specs")
	writeSpec(t, specs, spec.Production, func(e *spec.Environment) { e.Cluster.Tags = append(e.Cluster.Tags, "reviewed") })
	change := ghatest.RunAction(t, "plan", ws, map[string]string{"environments": "production", "spec-dir": "specs", "plan-file": "change.json"}, planExec)
	if change.Err != nil || change.Outputs["changes"] == "0" {
		t.Fatalf("plan of a change to production: %v, %v", change.Err, change.Outputs)
	}

	sim.Srv.ResetCounts()
	wrong := strings.Repeat("0", 64)
	refused := ghatest.RunAction(t, "ensure-env", ws, map[string]string{
		"environments": "production", "spec-dir": "specs", "plan-file": "change.json", "approved-digest": wrong,
	}, ensureExec)
	errs := strings.Join(ghatest.Commands(refused.Stdout, "error"), "\n")
	if refused.Err == nil || !strings.Contains(errs, "production") || !strings.Contains(errs, "approval required") {
		t.Errorf("a wrong digest: err %v, annotations %q; want production refused", refused.Err, errs)
	}
	if n := sim.Srv.Counts().Mutating; n != 0 {
		t.Errorf("a wrong digest sent %d writes", n)
	}

	// Out of band, someone tags production's firewall.
	sim.Srv.Mutate(func(st *linodetest.State) {
		for _, f := range st.Firewalls {
			if f.Label == "platform-production" {
				f.Tags = append(f.Tags, "rogue")
			}
		}
	})
	stale := ghatest.RunAction(t, "ensure-env", ws, map[string]string{
		"environments": "production", "spec-dir": "specs", "plan-file": "change.json", "approved-digest": change.Outputs["plan-digest"],
	}, ensureExec)
	errs = strings.Join(ghatest.Commands(stale.Stdout, "error"), "\n")
	if stale.Err == nil || !strings.Contains(errs, "environment production: the saved plan is stale") || !strings.Contains(errs, "firewall/platform-production") {
		t.Errorf("a stale plan: err %v, annotations %q; want it refused naming the firewall", stale.Err, errs)
	}
	if n := sim.Srv.Counts().Mutating; n != 0 {
		t.Errorf("a stale plan sent %d writes", n)
	}
}

// TestApplyThenDriftCheck is the infra workflow's path end to end, through
// the action.yml files on one simulator: plan on a pull request, apply on
// merge with the approved digest, then the scheduled drift check finds
// nothing (exit 0, nothing posted); after an out-of-band change it exits 2
// and the webhook receives the report naming the environment and field.
func TestApplyThenDriftCheck(t *testing.T) {
	t.Parallel()
	sim := ghatest.NewSim(t)
	ws := t.TempDir()
	log := zaptest.NewLogger(t)
	var posts []string
	hook := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		var msg map[string]string
		if err := json.NewDecoder(r.Body).Decode(&msg); err == nil {
			posts = append(posts, msg["text"])
		}
	}))
	t.Cleanup(hook.Close)
	planExec := ghatest.InProcess(t, "plan", func(ctx context.Context, e *ghatest.Env) error {
		return plan.Run(ctx, e.Action(), sim.Connect(t, e), log)
	})
	ensureExec := ghatest.InProcess(t, "ensure-env", func(ctx context.Context, e *ghatest.Env) error {
		return ensureenv.Run(ctx, runnerAction(e), sim.Connect(t, e), log)
	})
	driftExec := ghatest.InProcess(t, "drift-detect", func(ctx context.Context, e *ghatest.Env) error {
		return driftdetect.Run(ctx, e.Action(), sim.Connect(t, e), log)
	})
	envs := "development,production"

	pr := ghatest.RunAction(t, "plan", ws, map[string]string{"environments": envs}, planExec)
	if pr.Err != nil {
		t.Fatalf("plan: %v\n%s", pr.Err, pr.Stdout)
	}
	merge := ghatest.RunAction(t, "ensure-env", ws, map[string]string{
		"environments": envs, "plan-file": "platform-plan.json", "approved-digest": pr.Outputs["plan-digest"],
	}, ensureExec)
	if merge.Err != nil {
		t.Fatalf("ensure-env: %v\n%s", merge.Err, merge.Stdout)
	}
	with := map[string]string{"environments": envs, "webhook-url": hook.URL + "/services/secret"}
	clean := ghatest.RunAction(t, "drift-detect", ws, with, driftExec)
	if code := driftdetect.ExitCode(clean.Err); code != 0 || clean.Outputs["drift-count"] != "0" || len(posts) != 0 {
		t.Fatalf("the drift check after the apply: exit %d, outputs %v, posts %q; want no drift\n%s", code, clean.Outputs, posts, clean.Summary)
	}

	sim.Srv.Mutate(func(st *linodetest.State) {
		for _, f := range st.Firewalls {
			if f.Label == "platform-production" {
				f.Tags = append(f.Tags, "rogue")
			}
		}
	})
	drift := ghatest.RunAction(t, "drift-detect", ws, with, driftExec)
	if code := driftdetect.ExitCode(drift.Err); code != 2 || drift.Outputs["drifted-environments"] != "production" || drift.Outputs["exit-code"] != "2" {
		t.Fatalf("after an out-of-band change: exit %d, outputs %v; want 2, production\n%s", code, drift.Outputs, drift.Stdout)
	}
	if len(posts) != 1 || !strings.Contains(posts[0], "*production*") || !strings.Contains(posts[0], "firewall/platform-production") || !strings.Contains(posts[0], "rogue") {
		t.Errorf("webhook posts %q", posts)
	}
	if strings.Contains(drift.Stdout, "/services/secret") && !strings.Contains(drift.Stdout, "::add-mask::") {
		t.Errorf("the webhook URL is printed:\n%s", drift.Stdout)
	}
}

// TestRollbackThroughActionYML: staging applied twice with records (the
// second apply adds a tag), then the rollback action.yml, in-process,
// rolls it back to its newest snapshot in the workspace's store: the tag
// is gone, the outputs say restored, and the audit log names the actor.
func TestRollbackThroughActionYML(t *testing.T) {
	t.Parallel()
	// The store's lock reads the simulator's model clock: at 200× (not the
	// default 1000×) its 30 s grace is 150 ms of wall time.
	srv, client := linodetest.New(t, linodetest.WithTimeScale(200))
	sim := &ghatest.Sim{Srv: srv, Deps: rollout.Deps{
		Linode: client, Clock: srv.Clock(), Logger: zaptest.NewLogger(t),
		KubernetesSkipped: "the Linode layer only", BaselineSkipped: "the Linode layer only",
	}}
	ws := t.TempDir()
	st, err := store.NewLocal(filepath.Join(ws, "records"))
	if err != nil {
		t.Fatal(err)
	}
	env, err := spec.Default(spec.Staging)
	if err != nil {
		t.Fatal(err)
	}
	rec := rollout.WithRecords(rollout.Records{Store: st, Owner: "test"})
	for _, tag := range []string{"", "changed"} {
		if tag != "" {
			env.Cluster.Tags = append(env.Cluster.Tags, tag)
		}
		if _, err := rollout.Ensure(t.Context(), sim.Deps, []spec.Environment{env}, rec); err != nil {
			t.Fatal(err)
		}
	}
	log := zaptest.NewLogger(t)
	exec := ghatest.InProcess(t, "rollback", func(ctx context.Context, e *ghatest.Env) error {
		return rollback.Run(ctx, e.Action(), sim.Connect(t, e), log)
	})
	r := ghatest.RunAction(t, "rollback", ws, map[string]string{"environments": "staging", "store": "records", "actor": "alice"}, exec)
	if r.Err != nil {
		t.Fatalf("rollback: %v\n%s", r.Err, r.Stdout)
	}
	if r.Outputs["restored"] != "true" || len(r.Outputs["plan-digest"]) != 64 || !strings.HasPrefix(r.Outputs["snapshots"], "snapshots/staging/") {
		t.Errorf("outputs %v", r.Outputs)
	}
	for _, c := range sim.Srv.Dump().Clusters {
		if c.Label == "platform-staging" && slices.Contains(c.Tags, "changed") {
			t.Errorf("the tag added after the snapshot is still there: %v", c.Tags)
		}
	}
	audit, err := store.ListAudit(t.Context(), st)
	if err != nil || len(audit) != 3 || !strings.Contains(audit[2].Who, "alice") {
		t.Errorf("audit: %v, %+v", err, audit)
	}
}

// writeSpec writes the standard spec of name, changed by edit, to
// dir/<name>.yaml.
func writeSpec(t *testing.T, dir, name string, edit func(*spec.Environment)) {
	t.Helper()
	env, err := spec.Default(name)
	if err != nil {
		t.Fatal(err)
	}
	edit(&env)
	b, err := yamlOf(env)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".yaml"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// runnerAction is e's Action with the variables the runner gives every
// step besides the action's own (GITHUB_ACTOR, GITHUB_RUN_ID, RUNNER_TEMP),
// which ensure-env reads for its records; any other variable is e's.
func runnerAction(e *ghatest.Env) *githubactions.Action {
	runner := map[string]string{"GITHUB_ACTOR": "octocat", "GITHUB_RUN_ID": "4242", "RUNNER_TEMP": ""}
	getenv := func(k string) string {
		if v, ok := runner[k]; ok {
			return v
		}
		return e.Getenv(k)
	}
	return githubactions.New(githubactions.WithGetenv(getenv), githubactions.WithWriter(&e.Stdout))
}

// TestEnsureRecordsThenRollback: ensure-env's records are what rollback
// rolls back to. Staging is applied twice through ensure-env's action.yml
// with a store in the workspace (the second apply adds a tag); rollback's
// action.yml, on the same store, undoes the second: the tag is gone and
// the audit log holds both applies by the workflow's actor and the
// rollback.
func TestEnsureRecordsThenRollback(t *testing.T) {
	t.Parallel()
	// The store's lock reads the simulator's model clock: at 200× its 30 s
	// grace is 150 ms of wall time (see TestRollbackThroughActionYML).
	srv, client := linodetest.New(t, linodetest.WithTimeScale(200))
	sim := &ghatest.Sim{Srv: srv, Deps: rollout.Deps{
		Linode: client, Clock: srv.Clock(), Logger: zaptest.NewLogger(t),
		KubernetesSkipped: "the Linode layer only", BaselineSkipped: "the Linode layer only",
	}}
	ws := t.TempDir()
	log := zaptest.NewLogger(t)
	ensureExec := ghatest.InProcess(t, "ensure-env", func(ctx context.Context, e *ghatest.Env) error {
		return ensureenv.Run(ctx, runnerAction(e), sim.Connect(t, e), log)
	})
	for _, tag := range []string{"", "changed"} {
		writeSpec(t, filepath.Join(ws, "specs"), spec.Staging, func(env *spec.Environment) {
			if tag != "" {
				env.Cluster.Tags = append(env.Cluster.Tags, tag)
			}
		})
		r := ghatest.RunAction(t, "ensure-env", ws, map[string]string{"environments": "staging", "spec-dir": "specs", "store": "records"}, ensureExec)
		if r.Err != nil {
			t.Fatalf("ensure-env: %v\n%s", r.Err, r.Stdout)
		}
		if !strings.Contains(r.Summary, "### Records") || !strings.Contains(r.Summary, "snapshots/staging/") {
			t.Errorf("ensure-env's summary names no records:\n%s", r.Summary)
		}
	}
	exec := ghatest.InProcess(t, "rollback", func(ctx context.Context, e *ghatest.Env) error {
		return rollback.Run(ctx, e.Action(), sim.Connect(t, e), log)
	})
	r := ghatest.RunAction(t, "rollback", ws, map[string]string{"environments": "staging", "store": "records", "actor": "alice"}, exec)
	if r.Err != nil || r.Outputs["restored"] != "true" {
		t.Fatalf("rollback: %v, outputs %v\n%s", r.Err, r.Outputs, r.Stdout)
	}
	for _, c := range sim.Srv.Dump().Clusters {
		if c.Label == "platform-staging" && slices.Contains(c.Tags, "changed") {
			t.Errorf("the tag of the second apply is still there: %v", c.Tags)
		}
	}
	st, err := store.NewLocal(filepath.Join(ws, "records"))
	if err != nil {
		t.Fatal(err)
	}
	audit, err := store.ListAudit(t.Context(), st)
	if err != nil || len(audit) != 3 {
		t.Fatalf("audit: %v, %d records; want the two applies and the rollback", err, len(audit))
	}
	for i, rec := range audit[:2] {
		if rec.Who != "github:octocat via org/platform/actions/ensure-env run 4242" || rec.Result != "applied" {
			t.Errorf("audit record %d: %s by %q; want applied by the workflow's actor", i, rec.Result, rec.Who)
		}
	}
}
