package spec

import "testing"

func TestWithDefaultsLeavesTheOriginalAlone(t *testing.T) {
	t.Parallel()
	env := Environment{Name: "custom", Cluster: Cluster{Region: "us-east", NodePools: []NodePool{{Name: "a"}}},
		DataServices: []DataService{{Name: "db", Kind: "postgresql"}},
		Network:      Network{VPC: &VPC{Subnets: []Subnet{{Label: "nodes"}}}}}
	got := env.WithDefaults()
	if got.Cluster.Label != "platform-custom" || got.DataServices[0].Port != DefaultPostgreSQLPort || got.Network.VPC.Label != "platform-custom" {
		t.Errorf("defaults not applied: %+v", got)
	}
	if env.Cluster.Label != "" || env.DataServices[0].Port != 0 || env.Network.VPC.Label != "" {
		t.Errorf("the original was written: %+v", env)
	}
}
