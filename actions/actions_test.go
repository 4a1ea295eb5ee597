package actions_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap/zaptest"

	"github.com/org/platform/actions/internal/ensureenv"
	"github.com/org/platform/actions/internal/ghatest"
	"github.com/org/platform/actions/internal/plan"
	"github.com/org/platform/pkg/linodetest"
	"github.com/org/platform/pkg/spec"
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
		return ensureenv.Run(ctx, e.Action(), sim.Connect(t, e), log)
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
