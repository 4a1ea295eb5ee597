package cluster_test

import (
	"strings"
	"testing"

	"github.com/linode/linodego"

	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/cluster"
)

// TestPlacementInVPC places a new cluster in a VPC subnet: the create
// request carries it, the plan says it, and a second run writes nothing.
func TestPlacementInVPC(t *testing.T) {
	t.Parallel()
	srv, client, opts := sim(t)
	env := mustDefault(t, "development")
	vpc, err := client.CreateVPC(t.Context(), linodego.VPCCreateOptions{
		Label: "platform-development", Region: env.Cluster.Region,
		Subnets: []linodego.VPCSubnetCreateOptions{{Label: "nodes", IPv4: "10.10.0.0/20"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	place := cluster.Placement{VPCID: change.Known(vpc.ID), SubnetID: change.Known(vpc.Subnets[0].ID)}

	plan, err := cluster.PlanCluster(t.Context(), client, env, place, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(plan.Result().Lines(), "\n"); !strings.Contains(got, "Kubernetes 1.33, in VPC ") {
		t.Errorf("plan does not name the VPC:\n%s", got)
	}
	res := ensureAt(t, client, env, place, opts)
	c := clusterOf(t, srv.Dump(), res.Label)
	if c.VPCID != vpc.ID || c.SubnetID != vpc.Subnets[0].ID {
		t.Errorf("cluster in VPC %d subnet %d, want %d %d", c.VPCID, c.SubnetID, vpc.ID, vpc.Subnets[0].ID)
	}
	srv.ResetCounts()
	if again := ensureAt(t, client, env, place, opts); again.Changed() || srv.Counts().Mutating != 0 {
		t.Errorf("second run: %v, %d writes", again.Lines(), srv.Counts().Mutating)
	}
	for _, bad := range []cluster.Placement{
		{VPCID: change.Known(-1), SubnetID: change.Known(1)},
		{VPCID: change.Known(1)},
	} {
		srv.ResetCounts()
		if _, err := cluster.EnsureCluster(t.Context(), client, env, bad, opts...); err == nil || !strings.Contains(err.Error(), "placement") {
			t.Errorf("bad placement %+v accepted: %v", bad, err)
		}
		if n := srv.Counts(); n.Mutating+n.Reading != 0 {
			t.Errorf("a bad placement sent %d requests", n.Mutating+n.Reading)
		}
	}
}

// TestPlacementKnownAfterApply: in a plan for a new environment the
// firewall, VPC and subnet are references to the steps that create them,
// shown as (known after apply) and filled in when the plan is applied.
func TestPlacementKnownAfterApply(t *testing.T) {
	t.Parallel()
	srv, client, opts := sim(t)
	env := mustDefault(t, "staging")
	place := cluster.Placement{
		FirewallID: change.After("staging/linode/firewall/platform-staging", "id"),
		VPCID:      change.After("staging/linode/vpc/platform-staging", "id"),
		SubnetID:   change.After("staging/linode/vpc/platform-staging", "subnet/nodes"),
	}
	plan, err := cluster.PlanCluster(t.Context(), client, env, place, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(plan.Result().Lines(), "\n"); !strings.Contains(got, "in VPC (known after apply) subnet (known after apply)") {
		t.Errorf("plan does not show the VPC as known after apply:\n%s", got)
	}
	if plan.ID.Ref == nil || plan.ID.String() != change.KnownAfterApply {
		t.Errorf("the new cluster's id is %v, want a reference", plan.ID)
	}
	if len(plan.Steps) != 1 || len(plan.Steps[0].Fills) != 2+len(env.Cluster.NodePools) {
		t.Fatalf("steps %+v, want one create with a fill per pool firewall, VPC and subnet", plan.Steps)
	}

	// What the network steps would produce.
	fw, err := client.CreateFirewall(t.Context(), linodego.FirewallCreateOptions{Label: "platform-staging",
		Rules: linodego.FirewallRuleSet{InboundPolicy: "DROP", OutboundPolicy: "ACCEPT"}})
	if err != nil {
		t.Fatal(err)
	}
	vpc, err := client.CreateVPC(t.Context(), linodego.VPCCreateOptions{Label: "platform-staging", Region: env.Cluster.Region,
		Subnets: []linodego.VPCSubnetCreateOptions{{Label: "nodes", IPv4: "10.20.0.0/20"}}})
	if err != nil {
		t.Fatal(err)
	}
	var out change.Outputs
	for _, kv := range []struct {
		ref change.Int
		v   int
	}{{place.FirewallID, fw.ID}, {place.VPCID, vpc.ID}, {place.SubnetID, vpc.Subnets[0].ID}} {
		if err := out.Set(kv.ref.Ref.Step, kv.ref.Ref.Output, kv.v); err != nil {
			t.Fatal(err)
		}
	}
	res, err := cluster.ApplyCluster(t.Context(), client, plan, &out, opts...)
	if err != nil {
		t.Fatal(err)
	}
	c := clusterOf(t, srv.Dump(), plan.Label)
	if res.ID != c.ID || c.VPCID != vpc.ID || c.SubnetID != vpc.Subnets[0].ID {
		t.Errorf("cluster %d (result %d) in VPC %d subnet %d, want VPC %d subnet %d", c.ID, res.ID, c.VPCID, c.SubnetID, vpc.ID, vpc.Subnets[0].ID)
	}
	for _, p := range c.Pools {
		if p.FirewallID != fw.ID {
			t.Errorf("pool %d attached to firewall %d, want %d", p.ID, p.FirewallID, fw.ID)
		}
	}
}
