// Command drift-detect is the GitHub Action org/platform/actions/drift-detect,
// run by its action.yml with `go run .`: it plans the environments with
// pkg/rollout against the live world, reports any drift in the step summary
// and to a webhook, and exits 0 (no drift), 2 (drift) or 1 (error). The
// action is actions/internal/driftdetect; see README.md.
package main

import (
	"os"

	"github.com/org/platform/actions/internal/driftdetect"
)

func main() { os.Exit(driftdetect.Main()) }
