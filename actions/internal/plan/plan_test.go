package plan

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/org/platform/actions/internal/gha"
	"github.com/org/platform/actions/internal/ghatest"
	"github.com/org/platform/internal/local"
	"github.com/org/platform/pkg/rollout"
)

const token = "lin-TEST-token-0123456789abcdef"

// TestPlan runs the action on a fresh simulator: the token is masked
// before anything else, the plan is written where plan-file says (relative
// to the workspace), the outputs name it with its digest and change count,
// and the step summary has a heading and one row per environment.
func TestPlan(t *testing.T) {
	t.Parallel()
	sim := ghatest.NewSim(t)
	env := ghatest.NewEnv(t, ghatest.InputVars(map[string]string{
		inEnvironments: "development, production", inSpecDir: "", inToken: token, inPlanFile: "out/plan.json",
	}))
	if err := Run(t.Context(), env.Action(), sim.Connect(t, env), zaptest.NewLogger(t)); err != nil {
		t.Fatalf("Run: %v\n%s", err, env.Stdout.String())
	}

	if lines := env.Lines(); lines[0] != "::add-mask::"+token {
		t.Errorf("the first line printed is %q; want the token's ::add-mask::", lines[0])
	}
	if leaks := env.Leaks(token); len(leaks) > 0 {
		t.Errorf("the token appears unmasked in %v", leaks)
	}
	if got := sim.Tokens(); len(got) != 1 || got[0] != token {
		t.Errorf("connect was given tokens %q; want the input's", got)
	}
	for _, in := range Inputs {
		if !env.Read(gha.EnvName(in.Name)) {
			t.Errorf("input %s was never read", in.Name)
		}
	}
	if errs := env.Commands("error"); len(errs) > 0 {
		t.Errorf("error annotations: %q", errs)
	}
	if g := env.Commands("group"); len(g) != 3 || len(env.Commands("endgroup")) != 3 {
		t.Errorf("groups %q, %d ends; want 3 phases, each closed", g, len(env.Commands("endgroup")))
	}

	out := env.Outputs()
	path := filepath.Join(env.Workspace(), "out", "plan.json")
	if out[outPlanFile] != path {
		t.Errorf("output plan-file %q; want %q", out[outPlanFile], path)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := rollout.ReadPlan(f)
	if err != nil {
		t.Fatalf("the plan file does not read back: %v", err)
	}
	if out[outDigest] != p.Digest || !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(p.Digest) {
		t.Errorf("output plan-digest %q; the file's digest %q", out[outDigest], p.Digest)
	}
	if strings.Join(p.Names(), ",") != "development,production" {
		t.Errorf("the plan holds %v; want development, production", p.Names())
	}
	n, err := strconv.Atoi(out[outChanges])
	s := p.Summary()
	if err != nil || n != s.Add+s.Change+s.Replace+s.Destroy || n == 0 {
		t.Errorf("output changes %q; the plan's %s", out[outChanges], s)
	}

	sum := env.Summary()
	dev, _ := p.Environment("development")
	prod, _ := p.Environment("production")
	for _, want := range []string{
		"## Linode plan: development, production\n",
		"Plan digest: `" + p.Digest + "`",
		"| Environment | Add | Change | Replace | Destroy | GitOps-only |",
		"| development | " + strconv.Itoa(dev.Summary().Add) + " | 0 | 0 | 0 | no |",
		"| production | " + strconv.Itoa(prod.Summary().Add) + " | 0 | 0 | 0 | yes",
		"environment production (GitOps-only", // the human plan
	} {
		if !strings.Contains(sum, want) {
			t.Errorf("the step summary lacks %q:\n%s", want, sum)
		}
	}
	if dev.Summary().Add == 0 || prod.Summary().Add == 0 {
		t.Errorf("a plan on a fresh account adds nothing: %s", p.String())
	}
	if n := sim.Srv.Counts().Mutating; n != 0 {
		t.Errorf("the plan action sent %d writes", n)
	}
}

// TestPlanRefusesBadInputs: each bad input fails before connecting, with
// an ::error:: annotation saying what is wrong and no output or plan file.
func TestPlanRefusesBadInputs(t *testing.T) {
	t.Parallel()
	specs := t.TempDir()
	if err := os.WriteFile(filepath.Join(specs, "qa.yaml"), []byte("name: qa\ncluster: {region: us-east\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		inputs map[string]string
		want   string
	}{
		{"unknown environment", map[string]string{inEnvironments: "development,qa"}, `environments: unknown environment "qa"`},
		{"given twice", map[string]string{inEnvironments: "staging,staging"}, `"staging" is given twice`},
		{"no spec file", map[string]string{inEnvironments: "staging", inSpecDir: specs}, `spec-dir ` + specs + ` has no staging.yaml`},
		{"spec does not parse", map[string]string{inEnvironments: "qa", inSpecDir: specs}, `qa.yaml`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			vals := map[string]string{inEnvironments: "", inSpecDir: "", inToken: "", inPlanFile: ""}
			for k, v := range tc.inputs {
				vals[k] = v
			}
			env := ghatest.NewEnv(t, ghatest.InputVars(vals))
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
			if _, err := os.Stat(filepath.Join(env.Workspace(), DefaultPlanFile)); !os.IsNotExist(err) {
				t.Errorf("a plan file was written: %v", err)
			}
		})
	}
}

// TestTablesMatchActionYML: action.yml and the Go tables declare the same
// inputs (defaults included) and outputs, and the Go step maps each input.
func TestTablesMatchActionYML(t *testing.T) {
	t.Parallel()
	ghatest.CheckTables(t, "../../plan", Inputs, Outputs)
}
