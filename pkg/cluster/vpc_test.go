package cluster_test

import (
	"strings"
	"testing"

	"github.com/linode/linodego"

	"github.com/org/platform/pkg/cluster"
)

// TestWithVPC places a new cluster in a VPC subnet: the create request
// carries it, the plan says it, and a second run writes nothing.
func TestWithVPC(t *testing.T) {
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
	opts = with(opts, cluster.WithVPC(vpc.ID, vpc.Subnets[0].ID))

	plan, err := cluster.PlanCluster(t.Context(), client, env, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(plan.Lines(), "\n"); !strings.Contains(got, "Kubernetes 1.33, in VPC ") {
		t.Errorf("plan does not name the VPC:\n%s", got)
	}
	res := ensure(t, client, env, opts)
	c := clusterOf(t, srv.Dump(), res.Label)
	if c.VPCID != vpc.ID || c.SubnetID != vpc.Subnets[0].ID {
		t.Errorf("cluster in VPC %d subnet %d, want %d %d", c.VPCID, c.SubnetID, vpc.ID, vpc.Subnets[0].ID)
	}
	srv.ResetCounts()
	if again := ensure(t, client, env, opts); again.Changed() || srv.Counts().Mutating != 0 {
		t.Errorf("second run: %v, %d writes", again.Lines(), srv.Counts().Mutating)
	}
	for _, bad := range []cluster.Option{cluster.WithVPC(0, 1), cluster.WithVPC(1, -1)} {
		srv.ResetCounts()
		if _, err := cluster.EnsureCluster(t.Context(), client, env, with(opts, bad)...); err == nil || !strings.Contains(err.Error(), "WithVPC") {
			t.Errorf("bad WithVPC accepted: %v", err)
		}
		if n := srv.Counts(); n.Mutating+n.Reading != 0 {
			t.Errorf("a bad option sent %d requests", n.Mutating+n.Reading)
		}
	}
}
