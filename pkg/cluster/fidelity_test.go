package cluster_test

import (
	"context"
	"testing"

	"github.com/linode/linodego"

	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/cluster"
)

// TestBareACLAddressesAreANoOp: the API stores ACL addresses as CIDRs
// ("192.0.2.1" → "192.0.2.1/32"); a spec that names bare addresses must
// compare equal to what the API returns, so a second run writes nothing.
func TestBareACLAddressesAreANoOp(t *testing.T) {
	t.Parallel()
	srv, client, opts := sim(t)
	env := mustDefault(t, "production")
	env.Cluster.ControlPlaneACL.Enabled = true
	env.Cluster.ControlPlaneACL.IPv4 = []string{"203.0.113.7", "198.51.100.0/24"}
	env.Cluster.ControlPlaneACL.IPv6 = []string{"2001:db8::1"}
	ensure(t, client, env, opts)

	acl, err := client.GetLKEClusterControlPlaneACL(t.Context(), clusterOf(t, srv.Dump(), env.Cluster.Label).ID)
	if err != nil {
		t.Fatal(err)
	}
	if v4 := acl.ACL.Addresses.IPv4; len(v4) == 0 || v4[0] == "203.0.113.7" {
		t.Fatalf("the simulator kept the bare address %v: this test needs the API's CIDR normalisation", v4)
	}

	srv.ResetCounts()
	res := ensure(t, client, env, opts)
	if n := srv.Counts(); res.Changed() || n.Mutating != 0 {
		t.Errorf("second run with bare ACL addresses: changed %v, %d writes (%v); want none", res.Result.Lines(), n.Mutating, n.ByEndpoint)
	}
}

// TestListedFirewallIDSavesAReadPerPool: once the pool list carries
// firewall_id, a no-op run with WithFirewallID reads no pool on its own.
func TestListedFirewallIDSavesAReadPerPool(t *testing.T) {
	t.Parallel()
	srv, client, opts := sim(t)
	fw, err := client.CreateFirewall(t.Context(), linodego.FirewallCreateOptions{Label: "listed-fw", Rules: linodego.FirewallRuleSet{InboundPolicy: "DROP", OutboundPolicy: "ACCEPT"}})
	if err != nil {
		t.Fatal(err)
	}
	place := cluster.Placement{FirewallID: change.Known(fw.ID)}
	env := mustDefault(t, "production")
	ensureAt(t, client, env, place, opts)

	srv.ResetCounts()
	res := ensureAt(t, client, env, place, opts)
	n := srv.Counts()
	if res.Changed() || n.Mutating != 0 {
		t.Errorf("second run changed %v with %d writes", res.Result.Lines(), n.Mutating)
	}
	if got := n.ByEndpoint["GET /lke/clusters/{clusterId}/pools/{poolId}"]; got != 0 || n.Reading != 3 {
		t.Errorf("no-op run: %d reads (%d of single pools), want 3 and 0: %v", n.Reading, got, n.ByEndpoint)
	}
}

// listWithoutFirewallID is the API as older recordings show it: pool list
// items without firewall_id.
type listWithoutFirewallID struct {
	cluster.LKEAPI
}

func (l listWithoutFirewallID) ListLKENodePools(ctx context.Context, clusterID int, opts *linodego.ListOptions) ([]linodego.LKENodePool, error) {
	pools, err := l.LKEAPI.ListLKENodePools(ctx, clusterID, opts)
	for i := range pools {
		pools[i].FirewallID = nil
	}
	return pools, err
}

// TestListedPoolWithoutFirewallIDIsRead: a listed pool without firewall_id
// is unknown, not detached: the pool is read, and nothing is written.
func TestListedPoolWithoutFirewallIDIsRead(t *testing.T) {
	t.Parallel()
	srv, client, opts := sim(t)
	fw, err := client.CreateFirewall(t.Context(), linodego.FirewallCreateOptions{Label: "unlisted-fw", Rules: linodego.FirewallRuleSet{InboundPolicy: "DROP", OutboundPolicy: "ACCEPT"}})
	if err != nil {
		t.Fatal(err)
	}
	place := cluster.Placement{FirewallID: change.Known(fw.ID)}
	env := mustDefault(t, "production")
	ensureAt(t, client, env, place, opts)

	srv.ResetCounts()
	res := ensureAt(t, listWithoutFirewallID{client}, env, place, opts)
	n := srv.Counts()
	if res.Changed() || n.Mutating != 0 {
		t.Errorf("a list without firewall_id led to %v with %d writes; want none", res.Result.Lines(), n.Mutating)
	}
	if got, want := n.ByEndpoint["GET /lke/clusters/{clusterId}/pools/{poolId}"], len(env.Cluster.NodePools); got != want {
		t.Errorf("read %d single pools, want one per owned pool (%d)", got, want)
	}
}
