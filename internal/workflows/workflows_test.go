package workflows

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"
)

// root is the repository root: this package sits at internal/workflows.
func root(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatalf("repository root %s: %v", dir, err)
	}
	return dir
}

// report is what the lint program prints (lint/main.go).
type report struct {
	Workflows  []string `json:"workflows"`
	Actions    []string `json:"actions"`
	Shellcheck string   `json:"shellcheck"`
	Findings   []struct {
		File, In, Kind, Message, Source string
		Line, Column                    int
	} `json:"findings"`
}

// lint runs the lint program (its own module, see lint/main.go) over the
// repository, with stdin as the workflow named stdinName when that is set.
func lint(t *testing.T, stdinName, stdin string) report {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"run", ".", "-root", root(t)}
	if stdinName != "" {
		args = append(args, "-stdin", stdinName)
	}
	cmd := exec.CommandContext(t.Context(), goCmd, args...)
	cmd.Dir = "lint"
	cmd.Env = append(os.Environ(), "GOWORK=off")
	cmd.Stdin = strings.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go run ./internal/workflows/lint: %v\n%s", err, stderr.String())
	}
	var r report
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("lint output: %v\n%s", err, out)
	}
	if r.Shellcheck == "" {
		t.Log("shellcheck is not on PATH: run: scripts went unchecked by it here (GitHub's runners have it)")
	}
	return r
}

// TestWorkflowsAndActionsLintClean lints every workflow, every
// actions/*/action.yml and .github/actions/*/action.yml with actionlint's
// Go API and fails on each finding.
func TestWorkflowsAndActionsLintClean(t *testing.T) {
	t.Parallel()
	r := lint(t, "", "")
	for _, want := range []string{".github/workflows/ci.yml", ".github/workflows/infra.yml", ".github/workflows/infra-environment.yml",
		".github/workflows/availability.yml", ".github/workflows/sample-smoke.yml", ".github/workflows/rollback-drill.yml"} {
		if !slices.Contains(r.Workflows, want) {
			t.Errorf("%s was not linted (the docs and the Makefile rely on it); linted %v", want, r.Workflows)
		}
	}
	for _, want := range []string{".github/actions/setup/action.yml", "actions/plan/action.yml", "actions/ensure-env/action.yml",
		"actions/drift-detect/action.yml", "actions/availability/action.yml"} {
		if !slices.Contains(r.Actions, want) {
			t.Errorf("%s was not linted (the workflows use it); linted %v", want, r.Actions)
		}
	}
	for _, f := range r.Findings {
		if f.In != "" {
			t.Errorf("%s (%s):%d:%d: %s [%s]\nlinted as:\n%s", f.File, f.In, f.Line, f.Column, f.Message, f.Kind, f.Source)
			continue
		}
		t.Errorf("%s:%d:%d: %s [%s]", f.File, f.Line, f.Column, f.Message, f.Kind)
	}
}

// TestLintCatchesMistakes shows that the lint sees mistakes, so that a
// clean result above means something: an expression naming a step output
// that does not exist, a local action called with an input it does not
// declare (the lint resolves the repository's own actions), and a script
// that fails shellcheck (when shellcheck is installed).
func TestLintCatchesMistakes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, workflow, kind string
	}{
		{
			name: "undefined step output",
			workflow: `on: push
jobs:
  j:
    runs-on: ubuntu-latest
    steps:
      - id: go
        uses: actions/setup-go@v6
      - run: echo "${{ steps.go.outputs.no-such-output }}"
`,
			kind: "expression",
		},
		{
			name: "undeclared input of a local action",
			workflow: `on: push
jobs:
  j:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v6
      - uses: ./.github/actions/setup
        with:
          no-such-input: x
`,
			kind: "action",
		},
		{
			name: "unquoted variable",
			workflow: `on: push
jobs:
  j:
    runs-on: ubuntu-latest
    steps:
      - run: cat $GITHUB_EVENT_PATH
`,
			kind: "shellcheck",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := lint(t, "mistake.yml", tc.workflow)
			if tc.kind == "shellcheck" && r.Shellcheck == "" {
				t.Skip("shellcheck is not installed")
			}
			if !slices.ContainsFunc(r.Findings, func(f struct {
				File, In, Kind, Message, Source string
				Line, Column                    int
			}) bool {
				return f.Kind == tc.kind
			}) {
				t.Errorf("want an actionlint %q finding, got %+v", tc.kind, r.Findings)
			}
		})
	}
}

// The parts of a workflow the contract tests read.
type (
	workflow struct {
		On   map[string]yaml.Node `yaml:"on"`
		Jobs map[string]job       `yaml:"jobs"`
	}
	job struct {
		Needs       any               `yaml:"needs"`
		Environment any               `yaml:"environment"`
		Env         map[string]string `yaml:"env"`
		Outputs     map[string]string `yaml:"outputs"`
		Uses        string            `yaml:"uses"`
		Steps       []step            `yaml:"steps"`
	}
	step struct {
		ID   string            `yaml:"id"`
		Uses string            `yaml:"uses"`
		Run  string            `yaml:"run"`
		With map[string]string `yaml:"with"`
	}
)

func parse(t *testing.T, name string) workflow {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root(t), ".github", "workflows", name))
	if err != nil {
		t.Fatal(err)
	}
	var w workflow
	if err := yaml.Unmarshal(b, &w); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return w
}

// stepUsing returns the id of the job of w with a step whose uses: starts
// with prefix, and that step's index; "" and -1 when there is none.
func stepUsing(w workflow, prefix string) (string, int) {
	for id, j := range w.Jobs {
		for i, s := range j.Steps {
			if strings.HasPrefix(s.Uses, prefix) {
				return id, i
			}
		}
	}
	return "", -1
}

// TestInfraWorkflowContract checks what docs/ promise of the infra
// workflow: a plan on pull requests and on pushes to main; the plan's JSON
// uploaded as an artifact; an apply that runs in a GitHub environment (so
// production's required reviewers hold it), after the plan, on the
// downloaded artifact, given an approved digest that comes from the plan
// job's output or from a manual dispatch's required input.
func TestInfraWorkflowContract(t *testing.T) {
	t.Parallel()
	infra := parse(t, "infra.yml")
	for _, ev := range []string{"pull_request", "push", "workflow_dispatch"} {
		if _, ok := infra.On[ev]; !ok {
			t.Errorf("infra.yml is not triggered by %s", ev)
		}
	}
	var push struct{ Branches []string }
	if n := infra.On["push"]; n.Decode(&push) != nil || !slices.Equal(push.Branches, []string{"main"}) {
		t.Errorf("infra.yml: push must be limited to main, got %v", push.Branches)
	}
	var dispatch struct {
		Inputs map[string]struct{ Required bool }
	}
	if n := infra.On["workflow_dispatch"]; n.Decode(&dispatch) != nil {
		t.Error("infra.yml: workflow_dispatch does not parse")
	}
	for _, name := range []string{"environment", "plan-run-id", "approved-digest"} {
		if !dispatch.Inputs[name].Required {
			t.Errorf("infra.yml: workflow_dispatch input %q must exist and be required", name)
		}
	}
	for id, j := range infra.Jobs {
		if j.Uses != "./.github/workflows/infra-environment.yml" {
			t.Errorf("infra.yml job %s calls %q, want ./.github/workflows/infra-environment.yml", id, j.Uses)
		}
	}

	env := parse(t, "infra-environment.yml")
	planID, planStep := stepUsing(env, "./actions/plan")
	if planID == "" {
		t.Fatal("infra-environment.yml: no job uses ./actions/plan")
	}
	plan := env.Jobs[planID]
	outputs := "steps." + plan.Steps[planStep].ID + ".outputs."
	if plan.Steps[planStep].ID == "" {
		t.Error("infra-environment.yml: the ./actions/plan step needs an id for its outputs")
	}
	uploaded := slices.ContainsFunc(plan.Steps, func(s step) bool {
		return strings.HasPrefix(s.Uses, "actions/upload-artifact@") && strings.Contains(s.With["path"], outputs+"plan-file")
	})
	if !uploaded {
		t.Error("infra-environment.yml: the plan job must upload the plan step's plan-file with actions/upload-artifact")
	}
	if !strings.Contains(plan.Outputs["digest"], outputs+"plan-digest") {
		t.Errorf("infra-environment.yml: the plan job's digest output %q must be the plan step's plan-digest", plan.Outputs["digest"])
	}

	applyID, ensure := stepUsing(env, "./actions/ensure-env")
	if applyID == "" {
		t.Fatal("infra-environment.yml: no job uses ./actions/ensure-env")
	}
	apply := env.Jobs[applyID]
	if apply.Environment == nil {
		t.Error("infra-environment.yml: the apply job must run in a GitHub environment (production's reviewers gate it)")
	}
	if needs, _ := apply.Needs.(string); needs != planID {
		t.Errorf("infra-environment.yml: the apply job needs %v, want the plan job %q", apply.Needs, planID)
	}
	if !slices.ContainsFunc(apply.Steps[:ensure], func(s step) bool { return strings.HasPrefix(s.Uses, "actions/download-artifact@") }) {
		t.Error("infra-environment.yml: the apply job must download the plan artifact before ./actions/ensure-env")
	}
	with := apply.Steps[ensure].With
	if with["plan-file"] == "" {
		t.Error("infra-environment.yml: ./actions/ensure-env must be given plan-file (apply the saved plan, not plan anew)")
	}
	// The digest, possibly through the job's env, comes from the plan job's
	// output in this run or from the dispatch's input.
	src := with["approved-digest"]
	for k, v := range apply.Env {
		if strings.Contains(src, "env."+k) {
			src += " " + v
		}
	}
	for _, want := range []string{"needs." + planID + ".outputs.digest", "inputs.approved-digest"} {
		if !strings.Contains(src, want) {
			t.Errorf("infra-environment.yml: approved-digest (%s) does not come from %s", src, want)
		}
	}
}

// TestCIWorkflowRunsTheSuite checks that ci.yml runs actionlint and the
// suite as .ci/run does.
func TestCIWorkflowRunsTheSuite(t *testing.T) {
	t.Parallel()
	ci := parse(t, "ci.yml")
	for _, want := range []string{"make lint-workflows", "bash .ci/run"} {
		found := false
		for _, j := range ci.Jobs {
			found = found || slices.ContainsFunc(j.Steps, func(s step) bool { return strings.Contains(s.Run, want) })
		}
		if !found {
			t.Errorf("ci.yml: no step runs %q", want)
		}
	}
}

// TestAvailabilityWorkflowContract checks what availability.yml promises:
// it runs on a schedule; a probe per environment (a matrix) and a drift
// check of all of them, both given the webhook secret.
func TestAvailabilityWorkflowContract(t *testing.T) {
	t.Parallel()
	w := parse(t, "availability.yml")
	if _, ok := w.On["schedule"]; !ok {
		t.Error("availability.yml is not scheduled")
	}
	for _, action := range []string{"./actions/availability", "./actions/drift-detect"} {
		id, i := stepUsing(w, action)
		if id == "" {
			t.Errorf("availability.yml: no job uses %s", action)
			continue
		}
		if hook := w.Jobs[id].Steps[i].With["webhook-url"]; !strings.HasPrefix(hook, "${{ secrets.") {
			t.Errorf("availability.yml: %s's webhook-url is %q; want a secret", action, hook)
		}
	}
	var raw struct {
		Jobs map[string]struct {
			Strategy struct {
				Matrix struct{ Environment []string }
			}
		}
	}
	b, err := os.ReadFile(filepath.Join(root(t), ".github", "workflows", "availability.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	id, _ := stepUsing(w, "./actions/availability")
	if got := raw.Jobs[id].Strategy.Matrix.Environment; !slices.Equal(got, []string{"development", "staging", "production", "system"}) {
		t.Errorf("availability.yml: the probe's matrix is %v; want the four environments", got)
	}
}

// TestDrillAndSmokeRunOnTheCachedControlPlane: the rollback drill and the
// SDK smoke run on the simulator backed by the local control plane, which
// the shared setup restores from the Actions cache (or builds once), and
// never with the Linode token.
func TestDrillAndSmokeRunOnTheCachedControlPlane(t *testing.T) {
	t.Parallel()
	for name, cmd := range map[string]string{"rollback-drill.yml": "make rollback-drill", "sample-smoke.yml": "go run ./examples/all"} {
		w := parse(t, name)
		found := false
		for id, j := range w.Jobs {
			i := slices.IndexFunc(j.Steps, func(s step) bool { return strings.Contains(s.Run, cmd) })
			if i < 0 {
				continue
			}
			found = true
			if !slices.ContainsFunc(j.Steps[:i], func(s step) bool {
				return s.Uses == "./.github/actions/setup" && s.With["controlplane"] == "true"
			}) {
				t.Errorf("%s job %s: %q runs without ./.github/actions/setup restoring the control plane first", name, id, cmd)
			}
			if tok, ok := j.Env["LINODE_TOKEN"]; !ok || tok != "" {
				t.Errorf("%s job %s: LINODE_TOKEN must be set empty (the simulator), got %q", name, id, tok)
			}
		}
		if !found {
			t.Errorf("%s: no step runs %q", name, cmd)
		}
	}
}
