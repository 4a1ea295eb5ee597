package ghatest

import (
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Exec runs the run: of an action's Go step, with the environment the
// runner gives the step (its env: evaluated, GITHUB_* added), in dir, the
// step's working directory. It returns the step's stdout and an error for
// a non-zero exit.
type Exec func(ctx context.Context, run, dir string, env map[string]string) (stdout string, err error)

// Run is the result of running a composite action.
type Run struct {
	// Stdout is the Go step's stdout: its workflow commands.
	Stdout string
	// Err is the Go step's failure (a non-zero exit).
	Err error
	// Outputs are the action's outputs, evaluated from action.yml's
	// outputs.*.value against the steps' outputs.
	Outputs map[string]string
	// StepOutputs are the Go step's own outputs (GITHUB_OUTPUT).
	StepOutputs map[string]string
	// Summary is the step summary.
	Summary string
	// Env is the environment the Go step was given.
	Env map[string]string
}

// RunAction runs the composite action in actionDir as the runner would,
// with the with: inputs given (an input not given takes action.yml's
// default; an input action.yml does not declare fails the test): every
// step's expressions (with, env, working-directory, run) are evaluated;
// the setup-go step is checked, not run — its go-version-file must exist;
// each run: step is passed to exec with the step's environment: its env:,
// GITHUB_ACTION_PATH, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY and
// GITHUB_WORKSPACE (workspace). The action's outputs are then evaluated
// from its outputs: block.
func RunAction(t testing.TB, actionDir, workspace string, with map[string]string, exec Exec) Run {
	t.Helper()
	actionDir, err := filepath.Abs(actionDir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Load(actionDir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Runs.Using != "composite" {
		t.Fatalf("runs.using is %q; want composite", m.Runs.Using)
	}
	inputs := map[string]any{}
	for name, in := range m.Inputs {
		inputs[name] = in.Default
	}
	for name, v := range with {
		if _, ok := m.Inputs[name]; !ok {
			t.Fatalf("with: %s: action.yml declares no such input", name)
		}
		inputs[name] = v
	}
	for name, in := range m.Inputs {
		if in.Required && inputs[name] == "" {
			t.Fatalf("input %s is required", name)
		}
	}
	tmp := t.TempDir()
	outFile, summaryFile := filepath.Join(tmp, "output"), filepath.Join(tmp, "summary")
	for _, f := range []string{outFile, summaryFile} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	steps := map[string]any{}
	c := Context{
		"inputs": inputs,
		"github": map[string]any{"action_path": actionDir, "workspace": workspace},
		"runner": map[string]any{"temp": tmp, "os": "Linux"},
		"steps":  steps,
	}
	var res Run
	ran := 0
	for i, st := range m.Runs.Steps {
		where := fmt.Sprintf("runs.steps[%d] (%s)", i, st.Name)
		with := map[string]string{}
		for k, v := range st.With {
			if with[k], err = Interpolate(v, c); err != nil {
				t.Fatalf("%s.with.%s: %v", where, k, err)
			}
		}
		if st.Uses != "" {
			if !strings.HasPrefix(st.Uses, "actions/setup-go@") {
				t.Fatalf("%s: uses %s, which this harness does not know", where, st.Uses)
			}
			if _, err := os.Stat(with["go-version-file"]); err != nil {
				t.Fatalf("%s: go-version-file: %v", where, err)
			}
			continue
		}
		if st.Shell == "" {
			t.Fatalf("%s: a composite run step needs shell:", where)
		}
		env := map[string]string{}
		for k, v := range st.Env {
			if env[k], err = Interpolate(v, c); err != nil {
				t.Fatalf("%s.env.%s: %v", where, k, err)
			}
		}
		dir, err := Interpolate(st.WorkingDirectory, c)
		if err != nil {
			t.Fatalf("%s.working-directory: %v", where, err)
		}
		if dir == "" {
			dir = workspace
		}
		run, err := Interpolate(st.Run, c)
		if err != nil {
			t.Fatalf("%s.run: %v", where, err)
		}
		// A step's GITHUB_OUTPUT is its own file.
		stepOut := filepath.Join(tmp, fmt.Sprintf("output-%d", i))
		if err := os.WriteFile(stepOut, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		maps.Copy(env, map[string]string{
			"GITHUB_ACTION_PATH": actionDir, "GITHUB_OUTPUT": stepOut,
			"GITHUB_STEP_SUMMARY": summaryFile, "GITHUB_WORKSPACE": workspace,
		})
		res.Env = env
		res.Stdout, res.Err = exec(t.Context(), run, dir, env)
		ran++
		res.StepOutputs = ParseOutputs(t, stepOut)
		if st.ID != "" {
			steps[st.ID] = map[string]any{"outputs": StepOutputs(res.StepOutputs)}
		}
		if res.Err != nil {
			break // later steps would not run (no if: always())
		}
	}
	if ran == 0 {
		t.Fatal("the action has no run: step")
	}
	b, err := os.ReadFile(summaryFile)
	if err != nil {
		t.Fatal(err)
	}
	res.Summary = string(b)
	res.Outputs = map[string]string{}
	for name, o := range m.Outputs {
		if res.Outputs[name], err = Interpolate(o.Value, c); err != nil {
			t.Fatalf("outputs.%s.value: %v", name, err)
		}
	}
	return res
}

// BashWithGo is an Exec that runs the step's run: with bash, as the
// runner does for shell: bash, with a `go` on PATH that runs bin for
// `go run .` in the directory of the package bin was built from (pkgDir)
// and fails for anything else. The environment is the step's, plus PATH
// and HOME; nothing else of the test process leaks in. extra adds
// variables the test needs (PLATFORM_CACHE_DIR).
func BashWithGo(t testing.TB, bin, pkgDir string, extra map[string]string) Exec {
	shim := t.TempDir()
	pkgDir, err := filepath.Abs(pkgDir)
	if err != nil {
		t.Fatal(err)
	}
	script := fmt.Sprintf(`#!/bin/sh
if [ "$#" -eq 2 ] && [ "$1" = run ] && [ "$2" = . ] && [ "$(pwd -P)" = %q ]; then exec %q; fi
echo "go shim: unexpected: go $* in $(pwd -P)" >&2
exit 97
`, mustEval(t, pkgDir), bin)
	if err := os.WriteFile(filepath.Join(shim, "go"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return func(ctx context.Context, run, dir string, env map[string]string) (string, error) {
		cmd := exec.CommandContext(ctx, "bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", run)
		cmd.Dir = dir
		cmd.Env = []string{"PATH=" + shim + ":/usr/bin:/bin", "HOME=" + t.TempDir()}
		for k, v := range env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		for k, v := range extra {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Logf("the step's stderr:\n%s", stderr.String())
		}
		return string(out), err
	}
}

func mustEval(t testing.TB, p string) string {
	r, err := filepath.EvalSymlinks(p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Build builds the main package pkg (an import path) into a temporary
// directory and returns the binary's path.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), filepath.Base(pkg))
	out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput()
	if err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}

// InProcess is an Exec that runs the step's `go run .` in this process:
// the run: must be exactly that and the working directory must be
// mainDir, the action's main package, whose main calls run. run gets an
// Action on exactly the step's environment (reading any other variable
// fails the test), connect and log. It returns the workflow commands run
// printed and an error when run failed, as the process would exit 1.
func InProcess(t testing.TB, mainDir string, run func(ctx context.Context, e *Env) error) Exec {
	return func(ctx context.Context, script, dir string, env map[string]string) (string, error) {
		if strings.TrimSpace(script) != "go run ." {
			t.Fatalf("run: %q; the in-process harness runs `go run .` only", script)
		}
		want, err := filepath.Abs(mainDir)
		if err != nil {
			t.Fatal(err)
		}
		if dir != want {
			t.Fatalf("working-directory %s; want the action's main package %s", dir, want)
		}
		e := &Env{t: t, vars: maps.Clone(env), reads: map[string]int{},
			OutputFile: env["GITHUB_OUTPUT"], SummaryFile: env["GITHUB_STEP_SUMMARY"]}
		err = run(ctx, e)
		return e.Stdout.String(), err
	}
}
