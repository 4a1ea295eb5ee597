// Command development rolls out the development environment: it plans its Cloud
// Firewall, VPC, LKE cluster and Kubernetes baseline in one rollout.Plan,
// prints the plan, applies exactly that plan, prints what changed, then
// shows that a fresh plan is empty and what it cost.
//
// With LINODE_TOKEN set it uses the Linode API (LINODE_URL overrides the
// endpoint); without it, the in-process simulator, whose clusters are backed
// by local control planes once make controlplane has built them.
//
//	go run ./examples/development
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
var program = cli.Program{Environments: []string{spec.Development}}

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
