package network_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"

	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/linodetest"
	"github.com/org/platform/pkg/network"
	"github.com/org/platform/pkg/spec"
)

// A firewall plan is data: it shows the id of a firewall still to be
// created as known after apply, can be saved as JSON, and is applied later,
// step by step, by whoever reads it back.
func ExamplePlanFirewall() {
	ctx := context.Background()
	srv, err := linodetest.Start(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	linode := srv.NewClient()
	opts := []network.Option{network.WithClock(srv.Clock())}
	env, err := spec.Default(spec.Staging)
	if err != nil {
		log.Fatal(err)
	}

	plan, err := network.PlanFirewall(ctx, linode, env, opts...)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("firewall id:", plan.ID)
	for _, s := range plan.Steps {
		fmt.Println(s.ID, s.Kind, s.Changes[0].Op)
	}
	saved, err := json.Marshal(plan)
	if err != nil {
		log.Fatal(err)
	}

	// Later, after review, perhaps in another process.
	var approved network.FirewallPlan
	if err := json.Unmarshal(saved, &approved); err != nil {
		log.Fatal(err)
	}
	out := &change.Outputs{}
	for _, s := range approved.Steps {
		s, err := out.Resolve(s) // fills values earlier steps produced
		if err != nil {
			log.Fatal(err)
		}
		if err := network.ApplyFirewallStep(ctx, linode, s, out, opts...); err != nil {
			log.Fatal(err)
		}
	}
	if _, ok := out.Get(*approved.ID.Ref); ok {
		fmt.Println("firewall id known once applied")
	}
	again, err := network.PlanFirewall(ctx, linode, env, opts...)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("then:", again.Result())
	// Output:
	// firewall id: (known after apply)
	// staging/linode/firewall firewall.create create
	// firewall id known once applied
	// then: no changes
}
