package ghatest

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/org/platform/actions/internal/gha"
)

// CheckTables holds action.yml in actionDir and the Go tables of the
// action to each other: the same inputs with the same defaults and
// required flags; the same outputs, each the Go step's output of that
// name; and the Go step maps every input, and nothing else, to the
// variable the Go code reads it from.
func CheckTables(t *testing.T, actionDir string, inputs []gha.Input, outputs []gha.Output) {
	t.Helper()
	m, err := Load(actionDir)
	if err != nil {
		t.Fatal(err)
	}
	goIn := map[string]gha.Input{}
	for _, in := range inputs {
		goIn[in.Name] = in
	}
	if a, b := slices.Sorted(maps.Keys(m.Inputs)), slices.Sorted(maps.Keys(goIn)); !slices.Equal(a, b) {
		t.Errorf("inputs: action.yml declares %v, the Go table %v", a, b)
	}
	for name, y := range m.Inputs {
		g, ok := goIn[name]
		if !ok {
			continue
		}
		if y.Default != g.Default || y.Required != g.Required {
			t.Errorf("input %s: action.yml default %q required %v; the Go table %q %v", name, y.Default, y.Required, g.Default, g.Required)
		}
		if y.Description == "" {
			t.Errorf("input %s has no description", name)
		}
	}
	goOut := map[string]bool{}
	for _, o := range outputs {
		goOut[o.Name] = true
	}
	if a, b := slices.Sorted(maps.Keys(m.Outputs)), slices.Sorted(maps.Keys(goOut)); !slices.Equal(a, b) {
		t.Errorf("outputs: action.yml declares %v, the Go table %v", a, b)
	}

	var goStep *Step
	for i := range m.Runs.Steps {
		if m.Runs.Steps[i].Run != "" {
			if goStep != nil {
				t.Fatal("more than one run: step")
			}
			goStep = &m.Runs.Steps[i]
		}
	}
	if goStep == nil || goStep.ID == "" {
		t.Fatal("no run: step with an id")
	}
	want := map[string]string{}
	for name := range goIn {
		want[gha.EnvName(name)] = fmt.Sprintf("${{ inputs.%s }}", name)
	}
	if !maps.Equal(goStep.Env, want) {
		t.Errorf("the Go step's env: %v; want each input mapped to the variable the Go code reads: %v", goStep.Env, want)
	}
	for name, o := range m.Outputs {
		if w := fmt.Sprintf("${{ steps.%s.outputs.%s }}", goStep.ID, name); o.Value != w {
			t.Errorf("outputs.%s.value: %q; want %q", name, o.Value, w)
		}
	}
}
