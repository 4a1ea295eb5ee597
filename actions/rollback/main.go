// Command rollback is the GitHub Action org/platform/actions/rollback, run
// by its action.yml with `go run .`: it rolls environments back to a
// snapshot with pkg/rollout — plan, show, approve (GitOps-only
// environments), apply, check — and exits 0 when every environment was
// restored (or only planned, as asked), 1 otherwise. The action is
// actions/internal/rollback; see README.md.
package main

import (
	"os"

	"github.com/org/platform/actions/internal/rollback"
)

func main() { os.Exit(rollback.Main()) }
