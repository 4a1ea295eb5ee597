package network_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"k8s.io/client-go/kubernetes/fake"

	"github.com/org/platform/pkg/network"
	"github.com/org/platform/pkg/spec"
)

// TestBadInputSendsNothing feeds specs that are wrong in one way each to
// every entry point that reads the broken section: each must return
// spec.FieldErrors naming the field from the YAML root, and send no
// request at all — neither to the Linode simulator nor to the Kubernetes
// clientset.
func TestBadInputSendsNothing(t *testing.T) {
	t.Parallel()
	manyRules := func(e *spec.Environment) {
		for i := range 20 {
			e.Network.Firewall.Inbound = append(e.Network.Firewall.Inbound, spec.FirewallRule{
				Label: fmt.Sprintf("extra-%d", i), Action: "ACCEPT", Protocol: "TCP", Ports: "443", IPv4: []string{"203.0.113.0/24"}})
		}
	}
	tests := []struct {
		name   string
		break_ func(e *spec.Environment)
		layer  string // "firewall", "vpc" or "kubernetes"
		want   string
	}{
		{"more than 25 rules", manyRules, "firewall", "network.firewall: needs 26 rules"},
		{"more than 25 rules after splitting", func(e *spec.Environment) {
			addrs := make([]string, 0, 255*20+1)
			for i := range cap(addrs) {
				addrs = append(addrs, fmt.Sprintf("10.%d.%d.0/24", 100+i/256, i%256))
			}
			e.Network.Firewall.Inbound[0].IPv4 = addrs
		}, "firewall", "network.firewall: needs 26 rules once rules with more than 255 addresses are split (6 as written)"},
		{"port out of range", func(e *spec.Environment) { e.Network.Firewall.Inbound[0].Ports = "70000" },
			"firewall", `network.firewall.inbound[kubelet].ports: "70000" is outside 1–65535`},
		{"port range backwards", func(e *spec.Environment) { e.Network.Firewall.Inbound[4].Ports = "32767-30000" },
			"firewall", `network.firewall.inbound[nodeports].ports: range "32767-30000" must end above its start`},
		{"unknown protocol", func(e *spec.Environment) { e.Network.Firewall.Inbound[1].Protocol = "SCTP" },
			"firewall", `network.firewall.inbound[wireguard].protocol: must be one of TCP, UDP, ICMP, IPENCAP (got "SCTP")`},
		{"ports on ICMP", func(e *spec.Environment) { e.Network.Firewall.Inbound[5].Ports = "8" },
			"firewall", "network.firewall.inbound[icmp].ports: must be empty for ICMP"},
		{"address not canonical", func(e *spec.Environment) { e.Network.Firewall.Inbound[0].IPv4 = []string{"192.168.128.7/17"} },
			"firewall", "network.firewall.inbound[kubelet].ipv4[0]: must be in canonical form (192.168.128.0/17, not 192.168.128.7/17)"},
		{"split labels clash", func(e *spec.Environment) {
			addrs := make([]string, 300)
			for i := range addrs {
				addrs[i] = fmt.Sprintf("198.51.%d.%d/32", 100+i/200, i%200)
			}
			e.Network.Firewall.Inbound = append(e.Network.Firewall.Inbound,
				spec.FirewallRule{Label: "admin", Action: "ACCEPT", Protocol: "TCP", Ports: "22", IPv4: addrs},
				spec.FirewallRule{Label: "admin-2", Action: "ACCEPT", Protocol: "TCP", Ports: "80", IPv4: []string{"203.0.113.0/24"}})
		}, "firewall", `network.firewall.inbound[admin-2].label: rule label "admin-2", once the rule is split`},
		{"overlapping subnets", func(e *spec.Environment) {
			e.Network.VPC.Subnets = append(e.Network.VPC.Subnets, spec.Subnet{Label: "pods", IPv4: "10.30.8.0/21"})
		}, "vpc", "network.vpc.subnets[pods].ipv4: overlaps network.vpc.subnets[nodes] (10.30.0.0/20 and 10.30.8.0/21)"},
		{"public subnet", func(e *spec.Environment) { e.Network.VPC.Subnets[1].IPv4 = "203.0.113.0/24" },
			"vpc", "network.vpc.subnets[data].ipv4: must be inside an RFC 1918 private range"},
		{"unknown data service", func(e *spec.Environment) { e.Namespaces[1].DataServices = []string{"postgres", "mysql"} },
			"kubernetes", `namespaces[jobs].dataServices[1]: unknown data service "mysql"`},
		{"data service port", func(e *spec.Environment) { e.DataServices[0].Port = 99999 },
			"kubernetes", "dataServices[postgres].port: must be between 1 and 65535 (got 99999)"},
		{"data service CIDR not canonical", func(e *spec.Environment) { e.DataServices[1].CIDRs = []string{"10.30.101.5/24"} },
			"kubernetes", "dataServices[redis].cidrs[0]: must be in canonical form (10.30.101.0/24, not 10.30.101.5/24)"},
		{"ingress without a controller", func(e *spec.Environment) { e.Ingress.Enabled = false },
			"kubernetes", "namespaces[apps].ingress: needs ingress.enabled"},
		{"namespace of the observability stack", func(e *spec.Environment) { e.Namespaces[1].Name = "monitoring" },
			"kubernetes", `namespaces[monitoring].name: "monitoring" is observability.namespace`},
		{"the platform's own namespace", func(e *spec.Environment) { e.Namespaces[1].Name = network.SystemNamespace },
			"kubernetes", `namespaces[platform-system].name: "platform-system" is where the platform keeps its CI deployer`},
		{"reserved label", func(e *spec.Environment) { e.Namespaces[0].Labels = map[string]string{network.LabelManagedBy: "me"} },
			"kubernetes", "namespaces[apps].labels[app.kubernetes.io/managed-by]: is set by the platform"},
		{"default request above limit", func(e *spec.Environment) { e.Namespaces[0].Quota.DefaultRequestCPU = "2" },
			"kubernetes", "namespaces[apps].quota.defaultRequestCPU: must be ≤ defaultLimitCPU (2 > 500m)"},
		{"bad quantity", func(e *spec.Environment) { e.Namespaces[0].Quota.LimitsMemory = "lots" },
			"kubernetes", `namespaces[apps].quota.limitsMemory: must be a Kubernetes quantity`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := mustDefault(t, spec.Production)
			tt.break_(&env)
			srv, client, opts := sim(t)
			cs := fake.NewClientset()
			calls := map[string]func() error{
				"firewall":        func() error { _, err := network.EnsureFirewall(t.Context(), client, env, opts...); return err },
				"plan firewall":   func() error { _, err := network.PlanFirewall(t.Context(), client, env, opts...); return err },
				"vpc":             func() error { _, err := network.EnsureVPC(t.Context(), client, env, opts...); return err },
				"plan vpc":        func() error { _, err := network.PlanVPC(t.Context(), client, env, opts...); return err },
				"kubernetes":      func() error { _, err := network.EnsureKubernetes(t.Context(), cs, env, opts...); return err },
				"plan kubernetes": func() error { _, err := network.PlanKubernetes(t.Context(), cs, env, opts...); return err },
			}
			for name, call := range calls {
				err := call()
				if !strings.HasSuffix(name, tt.layer) {
					continue // other layers do not read the broken section
				}
				var fes spec.FieldErrors
				if !errors.Is(err, spec.ErrInvalid) || !errors.As(err, &fes) {
					t.Errorf("%s: %v, want spec.FieldErrors", name, err)
					continue
				}
				if !strings.Contains(err.Error(), tt.want) {
					t.Errorf("%s: %v\nwant a line with %q", name, err, tt.want)
				}
			}
			// The layer whose section is broken sent nothing (the others may run).
			switch tt.layer {
			case "kubernetes":
				if n := len(cs.Actions()); n != 0 {
					t.Errorf("%d Kubernetes requests, want 0: %v", n, cs.Actions())
				}
			default:
				for _, r := range srv.Requests() {
					if strings.Contains(r.Route, map[string]string{"firewall": "firewalls", "vpc": "vpcs"}[tt.layer]) {
						t.Errorf("%s %s sent for a broken %s", r.Method, r.Path, tt.layer)
					}
				}
			}
		})
	}
}

// TestOptionsAreChecked: a bad option fails the call before any request.
func TestOptionsAreChecked(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opt  network.Option
		want string
	}{
		{"nil logger", network.WithLogger(nil), "WithLogger: nil logger"},
		{"nil clock", network.WithClock(nil), "WithClock: nil clock"},
		{"zero retry interval", network.WithRetryInterval(0), "WithRetryInterval: interval must be > 0"},
		{"no rounds", network.WithMaxRounds(0), "WithMaxRounds: must be ≥ 1"},
		{"no services", network.WithServicesPerEnvironment(0), "WithServicesPerEnvironment: must be ≥ 1"},
		{"same groups", network.WithViewerGroup(network.DefaultAdminGroup), "the two groups must differ"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, client, _ := sim(t)
			cs := fake.NewClientset()
			env := mustDefault(t, spec.Development)
			ctx := context.Background()
			for _, err := range []error{
				func() error { _, err := network.EnsureFirewall(ctx, client, env, tt.opt); return err }(),
				func() error { _, err := network.EnsureVPC(ctx, client, env, tt.opt); return err }(),
				func() error { _, err := network.EnsureKubernetes(ctx, cs, env, tt.opt); return err }(),
			} {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("got %v, want %q", err, tt.want)
				}
			}
			if n := len(srv.Requests()) + len(cs.Actions()); n != 0 {
				t.Errorf("%d requests sent", n)
			}
		})
	}
}
