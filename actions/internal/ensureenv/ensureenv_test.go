package ensureenv

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/org/platform/actions/internal/gha"
	"github.com/org/platform/actions/internal/ghatest"
	"github.com/org/platform/internal/local"
)

const token = "lin-TEST-token-fedcba9876543210"

// Who runs the tests' workflow, as the runner's GITHUB_ACTOR and
// GITHUB_RUN_ID say.
const (
	runnerActor = "octocat"
	runnerRunID = "4242"
)

// inputs are the step's variables: every input (set's value, else empty)
// and the runner's GITHUB_ACTOR, GITHUB_RUN_ID and RUNNER_TEMP (empty
// unless set gives it).
func inputs(set map[string]string) map[string]string {
	vals := map[string]string{}
	for _, in := range Inputs {
		vals[in.Name] = ""
	}
	runner := map[string]string{"GITHUB_ACTOR": runnerActor, "GITHUB_RUN_ID": runnerRunID, "RUNNER_TEMP": ""}
	for k, v := range set {
		if _, ok := runner[k]; ok {
			runner[k] = v
			continue
		}
		vals[k] = v
	}
	out := ghatest.InputVars(vals)
	maps.Copy(out, runner)
	return out
}

// TestEnsureOneStep plans and applies development in one step: outputs
// name its cluster and API endpoint, its kubeconfig is written 0600 under
// kubeconfig-path, and the token and the kubeconfig's credentials are
// masked before they could appear, and appear nowhere else.
func TestEnsureOneStep(t *testing.T) {
	t.Parallel()
	sim := ghatest.NewSim(t)
	env := ghatest.NewEnv(t, inputs(map[string]string{inEnvironments: "development", inToken: token, inKubeconfigPath: "kube"}))
	if err := Run(t.Context(), env.Action(), sim.Connect(t, env), zaptest.NewLogger(t)); err != nil {
		t.Fatalf("Run: %v\n%s", err, env.Stdout.String())
	}
	if lines := env.Lines(); lines[0] != "::add-mask::"+token {
		t.Errorf("the first line printed is %q; want the token's ::add-mask::", lines[0])
	}
	for _, in := range Inputs {
		if !env.Read(gha.EnvName(in.Name)) {
			t.Errorf("input %s was never read", in.Name)
		}
	}
	if errs := env.Commands("error"); len(errs) > 0 {
		t.Errorf("error annotations: %q", errs)
	}

	out := env.Outputs()
	var ids map[string]int
	var endpoints map[string]string
	if err := json.Unmarshal([]byte(out[outClusterID]), &ids); err != nil || ids["development"] == 0 || len(ids) != 1 {
		t.Fatalf("output cluster-id %q; want {\"development\": <id>}", out[outClusterID])
	}
	st := sim.Srv.Dump()
	found := false
	for _, c := range st.Clusters {
		found = found || (c.ID == ids["development"] && c.Label == "platform-development")
	}
	if !found {
		t.Errorf("cluster %d is not the simulator's platform-development", ids["development"])
	}
	if err := json.Unmarshal([]byte(out[outAPIEndpoint]), &endpoints); err != nil || !strings.HasPrefix(endpoints["development"], "https://") {
		t.Errorf("output api-endpoint %q; want {\"development\": \"https://…\"}", out[outAPIEndpoint])
	}
	dir := filepath.Join(env.Workspace(), "kube")
	if out[outKubeconfig] != dir {
		t.Errorf("output kubeconfig-path %q; want %q", out[outKubeconfig], dir)
	}
	if len(out[outDigest]) != 64 {
		t.Errorf("output plan-digest %q", out[outDigest])
	}

	kcPath := filepath.Join(dir, "development.kubeconfig")
	fi, err := os.Stat(kcPath)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v; want 0600", kcPath, fi.Mode().Perm())
	}
	cfg, err := clientcmd.LoadFromFile(kcPath)
	if err != nil {
		t.Fatal(err)
	}
	var secrets []string
	for _, u := range cfg.AuthInfos {
		if u.Token != "" {
			secrets = append(secrets, u.Token)
		}
	}
	if len(secrets) == 0 {
		t.Fatal("the kubeconfig has no token to check the masking of")
	}
	if cl := cfg.Clusters[cfg.Contexts[cfg.CurrentContext].Cluster]; cl == nil || cl.Server != endpoints["development"] {
		t.Errorf("api-endpoint %q is not the kubeconfig's server", endpoints["development"])
	}
	masks := env.Commands("add-mask")
	for _, s := range append(secrets, token) {
		if !contains(masks, s) {
			t.Errorf("no ::add-mask:: for a credential (%d characters)", len(s))
		}
		if leaks := env.Leaks(s); len(leaks) > 0 {
			t.Errorf("a credential appears unmasked in %v", leaks)
		}
	}
	sum := env.Summary()
	for _, want := range []string{"## Plan and apply: development", "| development | ", "### Result", "| development | applied | "} {
		if !strings.Contains(sum, want) {
			t.Errorf("the step summary lacks %q:\n%s", want, sum)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestOneStepRefusesGitOpsOnly: without a saved plan, production (GitOps-
// only) with changes is refused, annotated, and nothing is written to it.
func TestOneStepRefusesGitOpsOnly(t *testing.T) {
	t.Parallel()
	sim := ghatest.NewSim(t)
	env := ghatest.NewEnv(t, inputs(map[string]string{inEnvironments: "production"}))
	err := Run(t.Context(), env.Action(), sim.Connect(t, env), zaptest.NewLogger(t))
	if err == nil {
		t.Fatal("Run succeeded")
	}
	errs := strings.Join(env.Commands("error"), "\n")
	if !strings.Contains(errs, `"production"`) || !strings.Contains(errs, "gitops-only") {
		t.Errorf("error annotations %q; want one naming production as GitOps-only", errs)
	}
	if n := sim.Srv.Counts().Mutating; n != 0 {
		t.Errorf("%d writes to a GitOps-only environment without an approved plan", n)
	}
	if out := env.Outputs(); out[outClusterID] != "{}" {
		t.Errorf("output cluster-id %q; want {}", out[outClusterID])
	}
}

// TestEnsureRefusesBadInputs: each bad input fails before connecting, with
// an ::error:: annotation naming what is wrong.
func TestEnsureRefusesBadInputs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.json")
	if err := os.WriteFile(garbage, []byte(`{"schemaVersion": 1, "environments": [`), 0o644); err != nil {
		t.Fatal(err)
	}
	notJSON := filepath.Join(dir, "plan.txt")
	if err := os.WriteFile(notJSON, []byte("Plan: 3 to add\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	digest := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		name   string
		inputs map[string]string
		want   string
	}{
		{"unknown environment", map[string]string{inEnvironments: "qa"}, `unknown environment "qa"`},
		{"short digest", map[string]string{inPlanFile: garbage, inApprovedDigest: "abc123"}, `approved-digest: "abc123" is not a plan digest`},
		{"upper-case digest", map[string]string{inPlanFile: garbage, inApprovedDigest: strings.ToUpper(digest)}, `is not a plan digest`},
		{"digest without plan", map[string]string{inApprovedDigest: digest}, `approved-digest: given without plan-file`},
		{"plan does not parse", map[string]string{inPlanFile: garbage}, `invalid plan`},
		{"plan is not JSON", map[string]string{inPlanFile: notJSON}, `invalid plan: not JSON`},
		{"no plan file", map[string]string{inPlanFile: filepath.Join(dir, "missing.json")}, `plan-file: open`},
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
			if err == nil {
				t.Fatal("Run succeeded")
			}
			if connected {
				t.Error("Run connected before refusing its inputs")
			}
			errs := env.Commands("error")
			if len(errs) == 0 || !strings.Contains(strings.Join(errs, "\n"), tc.want) {
				t.Errorf("error annotations %q; want one containing %q", errs, tc.want)
			}
			if out := env.Outputs(); len(out) != 0 {
				t.Errorf("outputs set: %v", out)
			}
		})
	}
}

// TestTablesMatchActionYML: action.yml and the Go tables declare the same
// inputs (defaults included) and outputs, and the Go step maps each input.
func TestTablesMatchActionYML(t *testing.T) {
	t.Parallel()
	ghatest.CheckTables(t, "../../ensure-env", Inputs, Outputs)
}
