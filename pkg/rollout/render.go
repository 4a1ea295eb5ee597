package rollout

import (
	"fmt"
	"io"
	"strings"

	"github.com/org/platform/pkg/change"
)

// Summary counts a plan's objects by what happens to them, in the manner
// of terraform plan.
type Summary struct {
	Add, Change, Replace, Destroy int
}

func (s Summary) String() string {
	return fmt.Sprintf("%d to add, %d to change, %d to replace, %d to destroy", s.Add, s.Change, s.Replace, s.Destroy)
}

func (s *Summary) add(o Summary) {
	s.Add += o.Add
	s.Change += o.Change
	s.Replace += o.Replace
	s.Destroy += o.Destroy
}

// Summary counts the environment's objects: each object once, by the
// strongest thing that happens to it.
func (e EnvironmentPlan) Summary() Summary {
	ops := map[string]change.Op{}
	var order []string
	for _, s := range e.Steps {
		for _, c := range s.Changes {
			op := c.Op
			if _, ok := ops[c.Object]; !ok {
				order = append(order, c.Object)
			}
			if rank(op) > rank(ops[c.Object]) {
				ops[c.Object] = op
			}
		}
	}
	var sum Summary
	for _, obj := range order {
		switch ops[obj] {
		case change.Create:
			sum.Add++
		case change.Update:
			sum.Change++
		case change.Replace:
			sum.Replace++
		case change.Delete:
			sum.Destroy++
		}
	}
	return sum
}

func rank(op change.Op) int {
	switch op {
	case change.Update:
		return 1
	case change.Delete:
		return 2
	case change.Create:
		return 3
	case change.Replace:
		return 4
	}
	return 0
}

// Summary counts the objects of every environment.
func (p Artifact) Summary() Summary {
	var sum Summary
	for _, e := range p.Environments {
		sum.add(e.Summary())
	}
	return sum
}

// symbol is how terraform marks an operation.
func symbol(op change.Op) string {
	switch op {
	case change.Create:
		return "+"
	case change.Update:
		return "~"
	case change.Replace:
		return "-/+"
	case change.Delete:
		return "-"
	}
	return " "
}

// Human writes the plan for a reviewer, in the manner of terraform plan:
// per environment and layer in dependency order, each object with its
// symbol (+ create, ~ update, -/+ replace, - delete) and each field from →
// to, sensitive values as (sensitive), then a summary that counts objects.
func (p Artifact) Human(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Plan %s (schema %d)\n", p.Digest, p.SchemaVersion)
	for _, e := range p.Environments {
		b.WriteByte('\n')
		e.human(&b)
	}
	fmt.Fprintf(&b, "\nPlan: %s.\n", p.Summary())
	switch {
	case p.Empty() && p.Drifted():
		b.WriteString("No changes to apply, but the security posture has drifted (posture findings above): they are not ours to remove.\n")
	case p.Empty():
		b.WriteString("No changes: the environments match their specs.\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// String is Human into a string.
func (p Artifact) String() string {
	var b strings.Builder
	_ = p.Human(&b)
	return b.String()
}

func (e EnvironmentPlan) human(b *strings.Builder) {
	fmt.Fprintf(b, "environment %s", e.Name)
	if e.GitOpsOnly {
		b.WriteString(" (GitOps-only: applied only with an approval of this plan's digest)")
	}
	b.WriteByte('\n')
	layer := change.Layer("")
	for _, s := range e.Steps {
		if s.Layer != layer {
			layer = s.Layer
			fmt.Fprintf(b, "  %s\n", layer)
		}
		writeStep(b, s)
	}
	if !strings.HasPrefix(e.Kubernetes, "planned against") {
		fmt.Fprintf(b, "  kubernetes: %s\n", e.Kubernetes)
	}
	for _, r := range e.Retained {
		fmt.Fprintf(b, "  kept: %s\n", r)
	}
	if e.Baseline != "" && !strings.HasPrefix(e.Baseline, "planned against") && e.Baseline != KubernetesNew {
		fmt.Fprintf(b, "  baseline: %s\n", e.Baseline)
	}
	for _, r := range e.Rendered {
		fmt.Fprintf(b, "  would install (%s): %s\n", r.Layer, r)
	}
	for _, f := range e.Posture {
		fmt.Fprintf(b, "  posture: %s\n", strings.ReplaceAll(f.String(), "\n", "\n  "))
	}
	for _, w := range e.Warnings {
		fmt.Fprintf(b, "  warning: %s\n", w)
	}
	if len(e.Steps) == 0 {
		b.WriteString("  no changes\n")
	}
	fmt.Fprintf(b, "  %s\n", e.Summary())
}

// writeStep writes a step's objects: a header per object, then its fields.
func writeStep(b *strings.Builder, s change.Step) {
	obj := ""
	for _, c := range s.Changes {
		c = c.Redact()
		if c.Object != obj {
			obj = c.Object
			op := c.Op
			if c.Object == s.Object && s.Op == change.Replace {
				op = change.Replace
			}
			fmt.Fprintf(b, "    %-3s %s", symbol(op), c.Object)
			if c.Field == "" {
				switch {
				case c.Op == change.Create && c.To != "":
					fmt.Fprintf(b, ": %s", c.To)
				case c.Op == change.Delete && c.From != "":
					fmt.Fprintf(b, ": %s", c.From)
				}
			}
			b.WriteByte('\n')
		}
		if c.Field != "" {
			fmt.Fprintf(b, "          %s: %s → %s\n", c.Field, orNone(c.From), orNone(c.To))
		}
	}
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
