// Command availability is the GitHub Action
// org/platform/actions/availability, run by its action.yml with
// `go run .`: it probes an environment's API server, ingress controller and
// sample service, each within a budget, and reports a failure in the step
// summary and to a webhook. The action is actions/internal/availability;
// see README.md.
package main

import (
	"os"

	"github.com/org/platform/actions/internal/availability"
	"github.com/org/platform/actions/internal/gha"
)

func main() { os.Exit(gha.Main(availability.Run)) }
