package spec_test

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/org/platform/pkg/spec"
)

// addrs returns n distinct IPv4 (or IPv6) CIDRs.
func addrs(n int, ipv6 bool) []string {
	out := make([]string, n)
	for i := range out {
		if ipv6 {
			out[i] = fmt.Sprintf("2001:db8:%x::/48", i)
		} else {
			out[i] = fmt.Sprintf("10.%d.%d.0/24", i/256, i%256)
		}
	}
	return out
}

func TestSplitRule(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		ipv4, ipv6 int
		label      string
		wantSizes  [][2]int // per part: IPv4 count, IPv6 count
		wantLabels []string
	}{
		{"no addresses", 0, 0, "empty", [][2]int{{0, 0}}, []string{"empty"}},
		{"one", 1, 0, "one", [][2]int{{1, 0}}, []string{"one"}},
		{"exactly 255", 255, 0, "full", [][2]int{{255, 0}}, []string{"full"}},
		{"255 across families", 200, 55, "mixed", [][2]int{{200, 55}}, []string{"mixed"}},
		{"256", 256, 0, "over", [][2]int{{255, 0}, {1, 0}}, []string{"over", "over-2"}},
		{"256 across families", 200, 56, "mixed", [][2]int{{200, 55}, {0, 1}}, []string{"mixed", "mixed-2"}},
		{"511", 300, 211, "big", [][2]int{{255, 0}, {45, 210}, {0, 1}}, []string{"big", "big-2", "big-3"}},
		{"long label truncated", 256, 0, strings.Repeat("x", 32), [][2]int{{255, 0}, {1, 0}},
			[]string{strings.Repeat("x", 32), strings.Repeat("x", 30) + "-2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := spec.FirewallRule{
				Label: tt.label, Action: "ACCEPT", Protocol: "TCP", Ports: "443", Description: "d",
				IPv4: addrs(tt.ipv4, false), IPv6: addrs(tt.ipv6, true),
			}
			orig := r
			orig.IPv4, orig.IPv6 = slices.Clone(r.IPv4), slices.Clone(r.IPv6)
			parts := spec.SplitRule(r)

			var sizes [][2]int
			var labels []string
			var gotV4, gotV6 []string
			for _, p := range parts {
				sizes = append(sizes, [2]int{len(p.IPv4), len(p.IPv6)})
				labels = append(labels, p.Label)
				gotV4 = append(gotV4, p.IPv4...)
				gotV6 = append(gotV6, p.IPv6...)
				if p.Action != r.Action || p.Protocol != r.Protocol || p.Ports != r.Ports || p.Description != r.Description {
					t.Errorf("part %q lost action, protocol, ports or description: %+v", p.Label, p)
				}
				if len(p.Label) > 32 {
					t.Errorf("part label %q is longer than 32 characters", p.Label)
				}
			}
			if !reflect.DeepEqual(sizes, tt.wantSizes) {
				t.Errorf("part sizes = %v, want %v", sizes, tt.wantSizes)
			}
			if !reflect.DeepEqual(labels, tt.wantLabels) {
				t.Errorf("part labels = %q, want %q", labels, tt.wantLabels)
			}
			// Every address lands in exactly one part, in order.
			if !slices.Equal(gotV4, r.IPv4) || !slices.Equal(gotV6, r.IPv6) {
				t.Errorf("addresses were lost or reordered")
			}
			// The parts share no backing array with the input.
			for _, p := range parts {
				for i := range p.IPv4 {
					p.IPv4[i] = "mutated"
				}
			}
			if !reflect.DeepEqual(r, orig) {
				t.Errorf("changing a part changed the input rule")
			}
			fw := spec.Firewall{Inbound: []spec.FirewallRule{r}}
			if got := fw.ExpandedRuleCount(); got != len(parts) {
				t.Errorf("ExpandedRuleCount() = %d, want len(SplitRule) = %d", got, len(parts))
			}
		})
	}
}

func TestExpandedRuleCount(t *testing.T) {
	t.Parallel()
	rule := func(n int) spec.FirewallRule { return spec.FirewallRule{IPv4: addrs(n, false)} }
	tests := []struct {
		name string
		fw   spec.Firewall
		want int
	}{
		{"empty", spec.Firewall{}, 0},
		{"inbound and outbound add up", spec.Firewall{Inbound: []spec.FirewallRule{rule(1), rule(2)}, Outbound: []spec.FirewallRule{rule(3)}}, 3},
		{"split rules count per part", spec.Firewall{Inbound: []spec.FirewallRule{rule(255), rule(256)}, Outbound: []spec.FirewallRule{rule(766)}}, 1 + 2 + 4},
		{"a rule without addresses still counts", spec.Firewall{Inbound: []spec.FirewallRule{{Label: "x"}}}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.fw.ExpandedRuleCount(); got != tt.want {
				t.Errorf("ExpandedRuleCount() = %d, want %d", got, tt.want)
			}
		})
	}
}

// TestFirewallRuleLimit pins Validate to ExpandedRuleCount at the limit: 25
// rules after splitting pass, 26 fail.
func TestFirewallRuleLimit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		last    int // addresses on the last of the 24 extra rules
		wantErr bool
	}{
		{"25 after splitting", 255, false},
		{"26 after splitting", 256, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env, err := spec.Default(spec.Development)
			if err != nil {
				t.Fatal(err)
			}
			fw := &env.Network.Firewall
			fw.Inbound = fw.Inbound[:1]
			for i := range spec.MaxFirewallRules - 2 {
				fw.Inbound = append(fw.Inbound, spec.FirewallRule{Label: fmt.Sprintf("rule-%02d", i), Action: "ACCEPT", Protocol: "TCP", IPv4: []string{"198.51.100.0/24"}})
			}
			fw.Outbound = []spec.FirewallRule{{Label: "many", Action: "ACCEPT", Protocol: "TCP", IPv4: addrs(tt.last, false)}}
			err = env.Validate()
			if gotErr := err != nil; gotErr != tt.wantErr {
				t.Fatalf("Validate() = %v, want error: %v", err, tt.wantErr)
			}
			if tt.wantErr && !strings.HasPrefix(err.Error(), "network.firewall: needs 26 rules") {
				t.Errorf("Validate() = %v, want the rule-count error", err)
			}
		})
	}
}

// TestSplitLabelsStayUnique proves Validate refuses a split whose derived
// label another rule of the same direction already has.
func TestSplitLabelsStayUnique(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		rules []spec.FirewallRule
		want  string
	}{
		{
			name: "derived label taken",
			rules: []spec.FirewallRule{
				{Label: "office", Action: "ACCEPT", Protocol: "TCP", IPv4: addrs(256, false)},
				{Label: "office-2", Action: "ACCEPT", Protocol: "TCP", IPv4: []string{"198.51.100.0/24"}},
			},
			want: `network.firewall.inbound[office]: is split into 2 rules, and the label "office-2" of one is already taken; rename a rule`,
		},
		{
			name: "derived labels free",
			rules: []spec.FirewallRule{
				{Label: "office", Action: "ACCEPT", Protocol: "TCP", IPv4: addrs(256, false)},
				{Label: "office-b", Action: "ACCEPT", Protocol: "TCP", IPv4: []string{"198.51.100.0/24"}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env, err := spec.Default(spec.Development)
			if err != nil {
				t.Fatal(err)
			}
			env.Network.Firewall.Inbound = tt.rules
			got := ""
			if err := env.Validate(); err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("Validate() =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}
