package cluster_test

import (
	"slices"
	"testing"

	"github.com/org/platform/pkg/cluster"
)

// TestEnterpriseUpgrade ensures an LKE Enterprise cluster, whose versions
// are full releases ("v1.32.8+lke2"), and upgrades it to the next release:
// Plan names the version change, Ensure replaces every node, and a second
// Ensure writes nothing.
func TestEnterpriseUpgrade(t *testing.T) {
	t.Parallel()
	srv, client, opts := sim(t)
	env := mustDefault(t, "staging")
	env.Cluster.Tier, env.Cluster.KubernetesVersion, env.Cluster.HighAvailability = "enterprise", "v1.32.8+lke2", true
	ensure(t, client, env, opts)

	env.Cluster.KubernetesVersion = "v1.33.4+lke1"
	plan, err := cluster.PlanCluster(t.Context(), client, env, cluster.Placement{}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"update lke/platform-staging k8s_version: v1.32.8+lke2 → v1.33.4+lke1"}
	if got := plan.Result().Lines(); !slices.Equal(got, want) {
		t.Fatalf("plan %q, want %q", got, want)
	}
	before := srv.Dump()
	ensure(t, client, env, opts)
	after := srv.Dump()
	old := map[string]bool{}
	for _, p := range clusterOf(t, before, "platform-staging").Pools {
		for _, n := range p.Nodes {
			old[n.ID] = true
		}
	}
	c := clusterOf(t, after, "platform-staging")
	if c.K8sVersion != "v1.33.4+lke1" {
		t.Errorf("cluster version %s, want v1.33.4+lke1", c.K8sVersion)
	}
	for _, p := range c.Pools {
		for _, n := range p.Nodes {
			if old[n.ID] || n.K8sVersion != "v1.33.4+lke1" || n.Status != "ready" {
				t.Errorf("node %s after the upgrade: replaced %v, version %s, %s", n.ID, !old[n.ID], n.K8sVersion, n.Status)
			}
		}
	}
	srv.ResetCounts()
	res := ensure(t, client, env, opts)
	if res.Changed() || srv.Counts().Mutating != 0 {
		t.Errorf("second Ensure: %v with %d writes", res.Lines(), srv.Counts().Mutating)
	}
}
