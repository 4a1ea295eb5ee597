// Command ensure-env is the GitHub Action org/platform/actions/ensure-env,
// run by its action.yml with `go run .`: it applies a saved, approved plan
// or plans and applies in one step, and outputs each cluster's id, API
// endpoint and kubeconfig. The action is actions/internal/ensureenv; see
// README.md.
package main

import (
	"os"

	"github.com/org/platform/actions/internal/ensureenv"
	"github.com/org/platform/actions/internal/gha"
)

func main() { os.Exit(gha.Main(ensureenv.Run)) }
