package rollout_test

import (
	"context"
	"fmt"
	"log"

	"github.com/org/platform/pkg/linodetest"
	"github.com/org/platform/pkg/rollout"
	"github.com/org/platform/pkg/spec"
)

// Plan, review, apply exactly that plan; a second plan is empty. Then an
// out-of-band change shows up as drift, and ExitCode says so as terraform
// plan -detailed-exitcode would. The Linode API here is the simulator.
func Example() {
	ctx := context.Background()
	srv, err := linodetest.Start(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	deps := rollout.Deps{
		Linode: srv.NewClient(), Clock: srv.Clock(),
		KubernetesSkipped: "this example runs the Linode layer only",
	}
	staging, err := spec.Default(spec.Staging)
	if err != nil {
		log.Fatal(err)
	}

	plan, err := rollout.Plan(ctx, deps, staging)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("plan:", plan.Summary())
	if _, err := rollout.Apply(ctx, deps, plan); err != nil {
		log.Fatal(err)
	}
	again, err := rollout.Plan(ctx, deps, staging)
	fmt.Println("again:", again.Summary(), "exit", rollout.ExitCode(again, err))

	srv.Mutate(func(st *linodetest.State) {
		for _, c := range st.Clusters {
			c.Tags = append(c.Tags, "rogue")
		}
	})
	drift, err := rollout.Plan(ctx, deps, staging)
	fmt.Println("drift:", drift.Summary(), "exit", rollout.ExitCode(drift, err))
	fmt.Println(drift.Result().String())
	// Output:
	// plan: 4 to add, 0 to change, 0 to replace, 0 to destroy
	// again: 0 to add, 0 to change, 0 to replace, 0 to destroy exit 0
	// drift: 0 to add, 1 to change, 0 to replace, 0 to destroy exit 2
	// update lke/platform-staging tags: env-staging, platform, platform.org/env=staging, rogue → env-staging, platform, platform.org/env=staging
}
