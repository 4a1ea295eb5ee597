// Command all rolls out the four standard environments together, as the
// infra workflow does: one rollout.Plan of development, staging, production
// and system (one observation of the account for all four), printed, then
// applied exactly, environment by environment and concurrently; then a
// fresh plan of all four shows that nothing is left to do and what it cost.
//
// Production is GitOps-only: on the simulator this program approves the
// plan itself, and says so (-approve-simulation, on by default there);
// against the real API that flag is refused and a plan that changes
// production is printed, not applied — the workflow applies it once its
// digest is approved.
//
//	go run ./examples/all
package main

import (
	"context"
	"io"
	"os"
	"os/signal"

	"github.com/org/platform/examples/internal/cli"
	"github.com/org/platform/pkg/spec"
)

// program is what this command does; its test looks at the result through
// AfterRun.
var program = cli.Program{Environments: spec.StandardNames()}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is main's body: it returns the exit code, 0 ok and 1 on error.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return program.Run(ctx, args, stdout, stderr)
}
