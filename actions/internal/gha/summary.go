package gha

import (
	"fmt"
	"strings"

	"github.com/org/platform/pkg/rollout"
)

// PlanTable is a markdown table of the plan's changes per environment:
// objects to add, change, replace and destroy (as rollout.Summary counts
// them), whether the environment is GitOps-only, and a total row.
func PlanTable(p rollout.Artifact) string {
	var b strings.Builder
	b.WriteString("| Environment | Add | Change | Replace | Destroy | GitOps-only |\n")
	b.WriteString("|---|---:|---:|---:|---:|---|\n")
	for _, e := range p.Environments {
		s := e.Summary()
		gitops := "no"
		if e.GitOpsOnly {
			gitops = "yes: needs an approval of the digest"
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %s |\n", e.Name, s.Add, s.Change, s.Replace, s.Destroy, gitops)
	}
	t := p.Summary()
	fmt.Fprintf(&b, "| **Total** | %d | %d | %d | %d | |\n", t.Add, t.Change, t.Replace, t.Destroy)
	return b.String()
}

// Changes counts the objects the plan changes: added, changed, replaced
// and destroyed, as the table's total row.
func Changes(p rollout.Artifact) int {
	s := p.Summary()
	return s.Add + s.Change + s.Replace + s.Destroy
}

// PlanSummary is the step summary of a plan: a heading, the digest, the
// table of changes per environment and the human plan (Artifact.Human) in
// a fenced block.
func PlanSummary(heading string, p rollout.Artifact) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## %s\n\n", heading)
	fmt.Fprintf(&b, "Plan digest: `%s`\n\n", p.Digest)
	b.WriteString(PlanTable(p))
	b.WriteString("\n")
	human := p.String()
	fence := fenceFor(human)
	fmt.Fprintf(&b, "%stext\n%s%s\n", fence, human, fence)
	return b.String()
}

// ResultTable is a markdown table of what Apply or Ensure did per
// environment: its outcome, its cluster and the objects changed.
func ResultTable(r rollout.Result) string {
	var b strings.Builder
	b.WriteString("| Environment | Outcome | Cluster | Objects changed |\n")
	b.WriteString("|---|---|---:|---:|\n")
	for _, e := range r.Environments {
		outcome := "applied"
		if e.Err != nil {
			outcome = "failed: " + strings.ReplaceAll(e.Err.Error(), "|", `\|`)
		}
		seen := map[string]bool{}
		for _, c := range e.Changes {
			seen[c.Object] = true
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %d |\n", e.Name, outcome, e.ClusterID, len(seen))
	}
	return b.String()
}

// fenceFor returns a backtick fence longer than any run of backticks in s.
func fenceFor(s string) string {
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}
