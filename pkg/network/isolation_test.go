package network_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/org/platform/pkg/network"
	"github.com/org/platform/pkg/spec"
)

func standardEnvs(t *testing.T) []spec.Environment {
	t.Helper()
	var envs []spec.Environment
	for _, name := range spec.StandardNames() {
		envs = append(envs, mustDefault(t, name))
	}
	return envs
}

func exposureLines(xs []network.Exposure) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = x.String()
	}
	return out
}

// TestStandardEnvironmentsAreIsolated computes the effective inbound
// admission of the four standard environments for each other's node
// ranges (their VPC subnets). What it finds, exactly:
//
//   - ICMP (ping, path MTU discovery) from anywhere, by each firewall's
//     "icmp" rule: a reachability probe, not a path for data;
//   - the Kubernetes API of development, staging and system, whose specs
//     leave the control-plane ACL off, which admits every address.
//
// No TCP, UDP or IP-in-IP path reaches another environment's nodes, and
// nothing reaches production's control plane, whose ACL admits only the
// operators' range.
func TestStandardEnvironmentsAreIsolated(t *testing.T) {
	t.Parallel()
	envs := standardEnvs(t)
	xs, err := network.CrossEnvironmentExposures(envs)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, to := range envs {
		for _, from := range envs {
			if from.Name == to.Name {
				continue
			}
			for _, src := range network.NodeRanges(from) {
				if !to.Cluster.ControlPlaneACL.Enabled {
					want = append(want, from.Name+" "+src.String()+" → "+to.Name+" control-plane: TCP 443 via cluster.controlPlaneACL.enabled")
				}
				want = append(want, from.Name+" "+src.String()+" → "+to.Name+" nodes: ICMP via network.firewall.inbound[icmp]")
			}
		}
	}
	got := exposureLines(xs)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("exposures\n got %q\nwant %q", got, want)
	}
	for _, x := range xs {
		if x.Target == network.TargetNodes && x.Protocol != "ICMP" {
			t.Errorf("data path between environments: %s", x)
		}
		if x.To == spec.Production && x.Target == network.TargetControlPlane {
			t.Errorf("production's control plane reachable: %s", x)
		}
	}
	if len(xs) != 4*3*2+3*3*2 { // ICMP: 4 receivers × 3 senders × 2 subnets; open ACLs: 3 × 3 × 2
		t.Errorf("%d exposures, want %d", len(xs), 4*3*2+3*3*2)
	}
}

// TestHardenedEnvironmentsAreFullyIsolated turns the control-plane ACL on
// in every standard environment (admitting only the operators' range, as
// production does) and limits ICMP to addresses outside the platform's
// 10.0.0.0/8: then no environment admits another at all.
func TestHardenedEnvironmentsAreFullyIsolated(t *testing.T) {
	t.Parallel()
	envs := standardEnvs(t)
	for i := range envs {
		harden(&envs[i])
	}
	xs, err := network.CrossEnvironmentExposures(envs)
	if err != nil {
		t.Fatal(err)
	}
	if len(xs) != 0 {
		t.Errorf("exposures between hardened environments:\n%s", strings.Join(exposureLines(xs), "\n"))
	}
}

func harden(e *spec.Environment) {
	e.Cluster.ControlPlaneACL = spec.ControlPlaneACL{Enabled: true, IPv4: []string{spec.ControlPlaneACLPlaceholder}}
	for j, r := range e.Network.Firewall.Inbound {
		if r.Label == "icmp" {
			e.Network.Firewall.Inbound[j].IPv4 = []string{"203.0.113.0/24"}
			e.Network.Firewall.Inbound[j].IPv6 = nil
		}
	}
}

// TestBrokenIsolationIsCaught breaks the hardened specs one way each and
// checks that exactly the opening made is found.
func TestBrokenIsolationIsCaught(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		break_ func(envs map[string]*spec.Environment)
		want   []string
	}{
		{
			name: "production admits staging's nodes on 443",
			break_: func(envs map[string]*spec.Environment) {
				fw := &envs[spec.Production].Network.Firewall
				fw.Inbound = append(fw.Inbound, spec.FirewallRule{Label: "from-staging", Action: "ACCEPT", Protocol: "TCP", Ports: "443", IPv4: []string{"10.20.0.0/16"}})
			},
			want: []string{
				"staging 10.20.0.0/20 → production nodes: TCP 443 via network.firewall.inbound[from-staging]",
				"staging 10.20.100.0/23 → production nodes: TCP 443 via network.firewall.inbound[from-staging]",
			},
		},
		{
			name: "a rule open to everyone",
			break_: func(envs map[string]*spec.Environment) {
				fw := &envs[spec.System].Network.Firewall
				fw.Inbound = append(fw.Inbound, spec.FirewallRule{Label: "grafana", Action: "ACCEPT", Protocol: "TCP", Ports: "3000", IPv4: []string{"0.0.0.0/0"}})
			},
			want: []string{
				"development 10.10.0.0/20 → system nodes: TCP 3000 via network.firewall.inbound[grafana]",
				"development 10.10.100.0/23 → system nodes: TCP 3000 via network.firewall.inbound[grafana]",
				"production 10.30.0.0/20 → system nodes: TCP 3000 via network.firewall.inbound[grafana]",
				"production 10.30.100.0/23 → system nodes: TCP 3000 via network.firewall.inbound[grafana]",
				"staging 10.20.0.0/20 → system nodes: TCP 3000 via network.firewall.inbound[grafana]",
				"staging 10.20.100.0/23 → system nodes: TCP 3000 via network.firewall.inbound[grafana]",
			},
		},
		{
			name: "an earlier DROP shadows the opening",
			break_: func(envs map[string]*spec.Environment) {
				fw := &envs[spec.Production].Network.Firewall
				fw.Inbound = append([]spec.FirewallRule{{Label: "no-platform", Action: "DROP", Protocol: "TCP", IPv4: []string{"10.0.0.0/8"}}}, fw.Inbound...)
				fw.Inbound = append(fw.Inbound, spec.FirewallRule{Label: "https", Action: "ACCEPT", Protocol: "TCP", Ports: "443", IPv4: []string{"0.0.0.0/0"}})
			},
		},
		{
			name: "a DROP for other ports does not shadow",
			break_: func(envs map[string]*spec.Environment) {
				fw := &envs[spec.Production].Network.Firewall
				fw.Inbound = append([]spec.FirewallRule{{Label: "no-ssh", Action: "DROP", Protocol: "TCP", Ports: "22", IPv4: []string{"10.0.0.0/8"}}}, fw.Inbound...)
				fw.Inbound = append(fw.Inbound, spec.FirewallRule{Label: "https", Action: "ACCEPT", Protocol: "TCP", Ports: "443", IPv4: []string{"10.10.0.0/20"}})
			},
			want: []string{"development 10.10.0.0/20 → production nodes: TCP 443 via network.firewall.inbound[https]"},
		},
		{
			name: "inbound policy ACCEPT",
			break_: func(envs map[string]*spec.Environment) {
				envs[spec.Development].Network.Firewall.InboundPolicy = "ACCEPT"
			},
			want: []string{
				"production 10.30.0.0/20 → development nodes: ALL via network.firewall.inboundPolicy",
				"production 10.30.100.0/23 → development nodes: ALL via network.firewall.inboundPolicy",
				"staging 10.20.0.0/20 → development nodes: ALL via network.firewall.inboundPolicy",
				"staging 10.20.100.0/23 → development nodes: ALL via network.firewall.inboundPolicy",
				"system 10.40.0.0/20 → development nodes: ALL via network.firewall.inboundPolicy",
				"system 10.40.100.0/23 → development nodes: ALL via network.firewall.inboundPolicy",
			},
		},
		{
			name: "production's ACL admits system's node subnet",
			break_: func(envs map[string]*spec.Environment) {
				acl := &envs[spec.Production].Cluster.ControlPlaneACL
				acl.IPv4 = append(acl.IPv4, "10.40.0.0/20")
			},
			want: []string{"system 10.40.0.0/20 → production control-plane: TCP 443 via cluster.controlPlaneACL.ipv4[1]"},
		},
		{
			name: "staging's ACL turned off",
			break_: func(envs map[string]*spec.Environment) {
				envs[spec.Staging].Cluster.ControlPlaneACL = spec.ControlPlaneACL{}
			},
			want: []string{
				"development 10.10.0.0/20 → staging control-plane: TCP 443 via cluster.controlPlaneACL.enabled",
				"development 10.10.100.0/23 → staging control-plane: TCP 443 via cluster.controlPlaneACL.enabled",
				"production 10.30.0.0/20 → staging control-plane: TCP 443 via cluster.controlPlaneACL.enabled",
				"production 10.30.100.0/23 → staging control-plane: TCP 443 via cluster.controlPlaneACL.enabled",
				"system 10.40.0.0/20 → staging control-plane: TCP 443 via cluster.controlPlaneACL.enabled",
				"system 10.40.100.0/23 → staging control-plane: TCP 443 via cluster.controlPlaneACL.enabled",
			},
		},
		{
			name: "two environments share an address plan",
			break_: func(envs map[string]*spec.Environment) {
				// Staging reuses development's ranges: development's own rule
				// for "its" subnet now admits staging.
				envs[spec.Staging].Network.VPC.Subnets = []spec.Subnet{{Label: "nodes", IPv4: "10.10.0.0/20"}}
				fw := &envs[spec.Development].Network.Firewall
				fw.Inbound = append(fw.Inbound, spec.FirewallRule{Label: "self", Action: "ACCEPT", Protocol: "TCP", Ports: "8080", IPv4: []string{"10.10.0.0/20"}})
			},
			want: []string{"staging 10.10.0.0/20 → development nodes: TCP 8080 via network.firewall.inbound[self]"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			envs := standardEnvs(t)
			byName := map[string]*spec.Environment{}
			for i := range envs {
				harden(&envs[i])
				byName[envs[i].Name] = &envs[i]
			}
			tt.break_(byName)
			xs, err := network.CrossEnvironmentExposures(envs)
			if err != nil {
				t.Fatal(err)
			}
			got := exposureLines(xs)
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("exposures\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestExposuresNeedKnownAddresses: without a VPC an environment's node
// addresses are unknown, and a bad spec is reported, not evaluated.
func TestExposuresNeedKnownAddresses(t *testing.T) {
	t.Parallel()
	envs := standardEnvs(t)
	envs[1].Network.VPC = nil
	envs[2].Network.Firewall.Inbound[0].Protocol = "SCTP"
	_, err := network.CrossEnvironmentExposures(envs)
	for _, want := range []string{
		`environment "staging": network.vpc: must be set`,
		`environment "production": network.firewall.inbound[kubelet].protocol: must be one of`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want %q", err, want)
		}
	}
}
