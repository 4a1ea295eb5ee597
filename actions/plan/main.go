// Command plan is the GitHub Action org/platform/actions/plan, run by its
// action.yml with `go run .`: it plans the environments with pkg/rollout,
// writes the plan's JSON and shows it in the step summary. The action is
// actions/internal/plan; see README.md.
package main

import (
	"os"

	"github.com/org/platform/actions/internal/gha"
	"github.com/org/platform/actions/internal/plan"
)

func main() { os.Exit(gha.Main(plan.Run)) }
