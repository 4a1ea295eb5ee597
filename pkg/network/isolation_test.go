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
// admission of the four standard environments for each other's node ranges
// (their VPC subnets): no firewall rule and no control-plane ACL of one
// environment admits another's nodes. The shared LKE node range
// 192.168.128.0/17, which LKE itself needs, is not attributable to one
// environment and is left out by CrossEnvironmentExposures.
func TestStandardEnvironmentsAreIsolated(t *testing.T) {
	t.Parallel()
	envs := standardEnvs(t)
	xs, err := network.CrossEnvironmentExposures(envs)
	if err != nil {
		t.Fatal(err)
	}
	if len(xs) != 0 {
		t.Errorf("exposures between the standard environments:\n%s", strings.Join(exposureLines(xs), "\n"))
	}
	for _, e := range envs {
		if !e.Cluster.ControlPlaneACL.Enabled {
			t.Errorf("%s: control-plane ACL off: its API admits every address", e.Name)
		}
	}
}

// TestHardenedEnvironmentsAreFullyIsolated checks the hardening the broken
// cases below start from: it must itself leave no exposure.
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
