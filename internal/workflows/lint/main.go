// Command lint runs actionlint's Go API over the repository's workflows and
// actions and prints what it found as JSON; internal/workflows' tests run
// it (go run) and fail on every finding.
//
// It is a module of its own because actionlint v1.7.12 is built against
// go.yaml.in/yaml/v4 v4.0.0-rc.3, whose API v4.0.0 — the version the
// platform module requires — changed: in the platform module actionlint's
// package does not compile.
//
// Usage:
//
//	lint -root DIR              lint DIR/.github/workflows/*.y(a)ml together,
//	                            and every DIR/actions/*/action.y(a)ml and
//	                            DIR/.github/actions/*/action.y(a)ml
//	lint -root DIR -stdin NAME  lint the workflow on standard input as if it
//	                            were DIR/.github/workflows/NAME
//
// An action is checked as actionlint checks a local action that a workflow
// calls (metadata parsed; name, description, inputs and runs checked; the
// call given every required input), and a composite action's steps are
// linted as the steps of a job in a reusable workflow whose inputs are the
// action's; a composite run: step without shell: is reported too.
//
// shellcheck runs over run: scripts when -shellcheck names it or it is on
// PATH, as the actionlint command does. Exit status: 0 when the lint ran,
// whatever it found; 2 when it could not run.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/rhysd/actionlint"
	"go.yaml.in/yaml/v4"
)

// Finding is one actionlint error.
type Finding struct {
	// File is the file, relative to the root.
	File string `json:"file"`
	// In says what was linted when it is not the file itself: the
	// synthetic workflow that calls an action, or a composite action's
	// steps (whose line numbers are those of Source).
	In     string `json:"in,omitempty"`
	Line   int    `json:"line"`
	Column int    `json:"column"`
	Kind   string `json:"kind"`
	// Message is actionlint's message.
	Message string `json:"message"`
	// Source is the synthetic workflow linted, when In is set.
	Source string `json:"source,omitempty"`
}

// Report is what the program prints.
type Report struct {
	// Workflows and Actions are the files linted, relative to the root.
	Workflows []string `json:"workflows"`
	Actions   []string `json:"actions"`
	// Shellcheck is the shellcheck used, "" when none was.
	Shellcheck string    `json:"shellcheck"`
	Findings   []Finding `json:"findings"`
}

func main() {
	root := flag.String("root", ".", "the repository root")
	stdin := flag.String("stdin", "", "lint standard input as .github/workflows/`NAME`")
	shellcheck := flag.String("shellcheck", "", "shellcheck executable (default: shellcheck on PATH, if any)")
	flag.Parse()
	rep, err := run(*root, *stdin, *shellcheck, os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "lint:", err)
		os.Exit(2)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		fmt.Fprintln(os.Stderr, "lint:", err)
		os.Exit(2)
	}
}

func run(root, stdinName, shellcheck string, stdin io.Reader) (*Report, error) {
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	if shellcheck == "" {
		if p, err := exec.LookPath("shellcheck"); err == nil {
			shellcheck = p
		}
	}
	rep := &Report{Shellcheck: shellcheck, Findings: []Finding{}}
	newLinter := func() (*actionlint.Linter, error) {
		return actionlint.NewLinter(io.Discard, &actionlint.LinterOptions{
			WorkingDir: root, LogWriter: io.Discard, Shellcheck: shellcheck,
		})
	}
	proj, err := actionlint.NewProject(root)
	if err != nil {
		return nil, err
	}
	add := func(file, in, source string, errs []*actionlint.Error) {
		for _, e := range errs {
			f := Finding{File: file, In: in, Line: e.Line, Column: e.Column, Kind: e.Kind, Message: e.Message}
			if in != "" {
				f.Source = source
			} else if rel, err := filepath.Rel(root, e.Filepath); err == nil {
				f.File = filepath.ToSlash(rel)
			}
			rep.Findings = append(rep.Findings, f)
		}
	}

	if stdinName != "" {
		src, err := io.ReadAll(stdin)
		if err != nil {
			return nil, err
		}
		l, err := newLinter()
		if err != nil {
			return nil, err
		}
		errs, err := l.Lint(filepath.Join(root, ".github", "workflows", stdinName), src, proj)
		if err != nil {
			return nil, err
		}
		rep.Workflows = []string{".github/workflows/" + stdinName}
		add(".github/workflows/"+stdinName, "", "", errs)
		return rep, nil
	}

	workflows := glob(root, ".github/workflows/*.yml", ".github/workflows/*.yaml")
	for _, f := range workflows {
		rep.Workflows = append(rep.Workflows, rel(root, f))
	}
	if len(workflows) > 0 {
		l, err := newLinter()
		if err != nil {
			return nil, err
		}
		errs, err := l.LintFiles(workflows, proj)
		if err != nil {
			return nil, err
		}
		add("", "", "", errs)
	}

	for _, f := range glob(root, "actions/*/action.yml", "actions/*/action.yaml",
		".github/actions/*/action.yml", ".github/actions/*/action.yaml") {
		r := rel(root, f)
		rep.Actions = append(rep.Actions, r)
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var meta actionlint.ActionMetadata
		if err := yaml.Unmarshal(raw, &meta); err != nil {
			rep.Findings = append(rep.Findings, Finding{File: r, Kind: "action-metadata", Message: err.Error()})
			continue
		}
		// A fresh linter per action: actionlint checks a local action's
		// metadata once per linter, at its first call.
		l, err := newLinter()
		if err != nil {
			return nil, err
		}
		caller := callerWorkflow("./"+filepath.ToSlash(filepath.Dir(r)), meta)
		errs, err := l.Lint(filepath.Join(root, ".github", "workflows", "call-action.yml"), []byte(caller), proj)
		if err != nil {
			return nil, err
		}
		add(r, "a workflow calling the action", caller, errs)

		if meta.Runs.Using != "composite" {
			continue
		}
		steps, noShell, err := compositeAsWorkflow(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r, err)
		}
		for _, i := range noShell {
			rep.Findings = append(rep.Findings, Finding{File: r, Kind: "composite",
				Message: fmt.Sprintf("runs.steps[%d]: a composite action's run: step needs shell:", i)})
		}
		errs, err = l.Lint(filepath.Join(root, ".github", "workflows", "composite-steps.yml"), steps, proj)
		if err != nil {
			return nil, err
		}
		add(r, "runs.steps, as a job's steps", string(steps), errs)
	}
	return rep, nil
}

// glob returns the files matching the patterns under root, sorted.
func glob(root string, patterns ...string) []string {
	var out []string
	for _, p := range patterns {
		m, _ := filepath.Glob(filepath.Join(root, p)) // the patterns are well-formed
		out = append(out, m...)
	}
	slices.Sort(out)
	return out
}

func rel(root, path string) string {
	r, err := filepath.Rel(root, path)
	if err != nil {
		return path
	}
	return filepath.ToSlash(r)
}

// callerWorkflow is a workflow with one job that calls the local action at
// spec, giving every required input.
func callerWorkflow(spec string, meta actionlint.ActionMetadata) string {
	var b strings.Builder
	b.WriteString("on: push\njobs:\n  call:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v6\n")
	fmt.Fprintf(&b, "      - uses: %s\n", spec)
	var required []string
	for _, in := range meta.Inputs {
		if in.Required {
			required = append(required, in.Name)
		}
	}
	slices.Sort(required)
	if len(required) > 0 {
		b.WriteString("        with:\n")
		for _, name := range required {
			fmt.Fprintf(&b, "          %s: x\n", name)
		}
	}
	return b.String()
}

// compositeAsWorkflow returns a reusable workflow whose inputs are the
// composite action's and whose one job's steps are the action's steps, and
// the indexes of the run: steps that lack shell:.
func compositeAsWorkflow(actionYAML []byte) (wf []byte, noShell []int, err error) {
	var doc struct {
		Inputs map[string]yaml.Node `yaml:"inputs"`
		Runs   struct {
			Steps yaml.Node `yaml:"steps"`
		} `yaml:"runs"`
	}
	if err := yaml.Unmarshal(actionYAML, &doc); err != nil {
		return nil, nil, err
	}
	var steps []map[string]any
	if err := doc.Runs.Steps.Decode(&steps); err != nil {
		return nil, nil, fmt.Errorf("runs.steps: %w", err)
	}
	for i, s := range steps {
		if _, run := s["run"]; run {
			if _, shell := s["shell"]; !shell {
				noShell = append(noShell, i)
			}
		}
	}
	call := map[string]any{}
	if len(doc.Inputs) > 0 {
		inputs := map[string]any{}
		for name := range doc.Inputs {
			inputs[name] = map[string]any{"type": "string", "required": false}
		}
		call["inputs"] = inputs
	}
	wf, err = yaml.Marshal(map[string]any{
		"on":   map[string]any{"workflow_call": call},
		"jobs": map[string]any{"steps": map[string]any{"runs-on": "ubuntu-latest", "steps": &doc.Runs.Steps}},
	})
	return wf, noShell, err
}
