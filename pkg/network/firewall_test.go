package network_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/linodetest"
	"github.com/org/platform/pkg/network"
	"github.com/org/platform/pkg/spec"
)

// wantRules returns the rules the simulator should hold for rules:
// "label proto ports addr,addr" per applied (split) rule, addresses sorted.
func wantRules(rules []spec.FirewallRule) []string {
	var out []string
	for _, r := range rules {
		for _, p := range spec.SplitRule(r) {
			addrs := append(slices.Clone(p.IPv4), p.IPv6...)
			slices.Sort(addrs)
			out = append(out, fmt.Sprintf("%s %s %s %s [%s]", p.Label, p.Action, p.Protocol, p.Ports, strings.Join(addrs, ",")))
		}
	}
	return out
}

func haveRules(rules []linodetest.FirewallRule) []string {
	var out []string
	for _, r := range rules {
		var addrs []string
		if r.Addresses.IPv4 != nil {
			addrs = append(addrs, *r.Addresses.IPv4...)
		}
		if r.Addresses.IPv6 != nil {
			addrs = append(addrs, *r.Addresses.IPv6...)
		}
		slices.Sort(addrs)
		out = append(out, fmt.Sprintf("%s %s %s %s [%s]", r.Label, r.Action, r.Protocol, r.Ports, strings.Join(addrs, ",")))
	}
	return out
}

// assertFirewall checks that the simulator holds exactly one firewall
// labelled as env's and that it carries env's rules, policies and tags.
func assertFirewall(t *testing.T, st *linodetest.State, env spec.Environment) *linodetest.Firewall {
	t.Helper()
	fws := firewallsLabelled(st, env.Network.Firewall.Label)
	if len(fws) != 1 {
		t.Fatalf("%d firewalls labelled %q, want 1", len(fws), env.Network.Firewall.Label)
	}
	fw := fws[0]
	fwSpec := env.Network.Firewall
	if got, want := haveRules(fw.Rules.Inbound), wantRules(fwSpec.Inbound); !slices.Equal(got, want) {
		t.Errorf("inbound rules\n got %q\nwant %q", got, want)
	}
	if got, want := haveRules(fw.Rules.Outbound), wantRules(fwSpec.Outbound); !slices.Equal(got, want) {
		t.Errorf("outbound rules\n got %q\nwant %q", got, want)
	}
	if fw.Rules.InboundPolicy != fwSpec.InboundPolicy || fw.Rules.OutboundPolicy != fwSpec.OutboundPolicy {
		t.Errorf("policies %s/%s, want %s/%s", fw.Rules.InboundPolicy, fw.Rules.OutboundPolicy, fwSpec.InboundPolicy, fwSpec.OutboundPolicy)
	}
	wantTags := append(slices.Clone(env.Cluster.Tags), network.EnvTagPrefix+env.Name)
	slices.Sort(wantTags)
	gotTags := slices.Sorted(slices.Values(fw.Tags))
	if !slices.Equal(gotTags, wantTags) {
		t.Errorf("tags %q, want %q", gotTags, wantTags)
	}
	if fw.Status != "enabled" {
		t.Errorf("status %q, want enabled", fw.Status)
	}
	return fw
}

// TestEnsureFirewallIsIdempotent creates each standard environment's
// firewall, then runs EnsureFirewall and PlanFirewall again: the second
// run must send no mutating request and report nothing to change.
func TestEnsureFirewallIsIdempotent(t *testing.T) {
	t.Parallel()
	for _, name := range spec.StandardNames() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, client, opts := sim(t)
			env := mustDefault(t, name)

			res, err := network.EnsureFirewall(t.Context(), client, env, opts...)
			if err != nil {
				t.Fatalf("EnsureFirewall: %v", err)
			}
			if res.Op() != change.Create || res.ID == 0 || res.Label != "platform-"+name {
				t.Errorf("first run: op %s, id %d, label %q; want create, an id, platform-%s", res.Op(), res.ID, res.Label, name)
			}
			fw := assertFirewall(t, srv.Dump(), env)
			if fw.ID != res.ID {
				t.Errorf("returned id %d, firewall is %d", res.ID, fw.ID)
			}
			if got := mutating(srv); !slices.Equal(got, []string{"POST /networking/firewalls"}) {
				t.Errorf("first run wrote %q, want one POST", got)
			}

			srv.ResetCounts()
			again, err := network.EnsureFirewall(t.Context(), client, env, opts...)
			if err != nil {
				t.Fatalf("second EnsureFirewall: %v", err)
			}
			plan, err := network.PlanFirewall(t.Context(), client, env, opts...)
			if err != nil {
				t.Fatalf("PlanFirewall: %v", err)
			}
			if c := srv.Counts(); c.Mutating != 0 {
				t.Errorf("second run and plan sent %d mutating requests (%v), want 0", c.Mutating, c.ByEndpoint)
			}
			if again.Changed() || again.ID != res.ID {
				t.Errorf("second run: %v (id %d), want unchanged (id %d)", again.Result.Lines(), again.ID, res.ID)
			}
			if !plan.Empty() || plan.ID != change.Known(res.ID) {
				t.Errorf("plan: %v (id %s), want nothing to do (id %d)", plan.Result().Lines(), plan.ID, res.ID)
			}
		})
	}
}

// TestFirewallDrift changes the live firewall behind the package's back
// and checks what PlanFirewall reports and what EnsureFirewall sends: one
// PUT /rules for any rule change, one PUT on the firewall for tags or
// status, nothing for a mere reordering of addresses or ports.
func TestFirewallDrift(t *testing.T) {
	t.Parallel()
	const rulesPUT, fwPUT = "PUT /networking/firewalls/{firewallId}/rules", "PUT /networking/firewalls/{firewallId}"
	tests := []struct {
		name   string
		mutate func(f *linodetest.Firewall)
		want   []string // change lines
		writes []string
	}{
		{
			name: "rules reordered",
			mutate: func(f *linodetest.Firewall) {
				f.Rules.Inbound[0], f.Rules.Inbound[1] = f.Rules.Inbound[1], f.Rules.Inbound[0]
			},
			want: []string{"update firewall/platform-staging rules.inbound: wireguard, kubelet, calico-bgp, calico-ipip, nodeports, icmp → " +
				"kubelet, wireguard, calico-bgp, calico-ipip, nodeports, icmp"},
			writes: []string{rulesPUT},
		},
		{
			name: "address added and port changed",
			mutate: func(f *linodetest.Firewall) {
				*f.Rules.Inbound[0].Addresses.IPv4 = append(*f.Rules.Inbound[0].Addresses.IPv4, "198.51.100.7/32")
				f.Rules.Inbound[4].Ports = "30000-32000"
			},
			want: []string{
				"update firewall/platform-staging rules.inbound[kubelet].ipv4: 192.168.128.0/17, 198.51.100.7/32 → 192.168.128.0/17",
				"update firewall/platform-staging rules.inbound[nodeports].ports: 30000-32000 → 30000-32767",
			},
			writes: []string{rulesPUT},
		},
		{
			name:   "inbound policy opened",
			mutate: func(f *linodetest.Firewall) { f.Rules.InboundPolicy = "ACCEPT" },
			want:   []string{"update firewall/platform-staging rules.inboundPolicy: ACCEPT → DROP"},
			writes: []string{rulesPUT},
		},
		{
			name:   "rule removed",
			mutate: func(f *linodetest.Firewall) { f.Rules.Inbound = f.Rules.Inbound[:5] },
			want: []string{"update firewall/platform-staging rules.inbound: kubelet, wireguard, calico-bgp, calico-ipip, nodeports → " +
				"kubelet, wireguard, calico-bgp, calico-ipip, nodeports, icmp"},
			writes: []string{rulesPUT},
		},
		{
			name:   "tags lost and disabled",
			mutate: func(f *linodetest.Firewall) { f.Tags = []string{"platform"}; f.Status = "disabled" },
			want: []string{
				"update firewall/platform-staging status: disabled → enabled",
				"update firewall/platform-staging tags: platform → env-staging, platform, platform.org/env=staging",
			},
			writes: []string{fwPUT},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, client, opts := sim(t)
			env := mustDefault(t, spec.Staging)
			created, err := network.EnsureFirewall(t.Context(), client, env, opts...)
			if err != nil {
				t.Fatal(err)
			}
			srv.Mutate(func(st *linodetest.State) { tt.mutate(st.Firewalls[created.ID]) })
			n := len(srv.Requests())

			plan, err := network.PlanFirewall(t.Context(), client, env, opts...)
			if err != nil {
				t.Fatalf("PlanFirewall: %v", err)
			}
			if got := plan.Result().Lines(); !slices.Equal(got, tt.want) {
				t.Errorf("plan\n got %q\nwant %q", got, tt.want)
			}
			if w := mutating(srv, n); len(w) != 0 {
				t.Fatalf("PlanFirewall wrote %q", w)
			}
			res, err := network.EnsureFirewall(t.Context(), client, env, opts...)
			if err != nil {
				t.Fatalf("EnsureFirewall: %v", err)
			}
			if got := res.Result.Lines(); !slices.Equal(got, tt.want) {
				t.Errorf("ensure\n got %q\nwant %q", got, tt.want)
			}
			var writes []string
			for _, r := range srv.Requests()[n:] {
				if r.Method != "GET" {
					writes = append(writes, r.Method+" "+r.Route)
				}
			}
			if !slices.Equal(writes, tt.writes) {
				t.Errorf("writes %q, want %q", writes, tt.writes)
			}
			assertFirewall(t, srv.Dump(), env)

			// The same drift, put back by a plan saved as JSON and applied
			// step by step, reaches the same firewall.
			twin, tclient, topts := sim(t)
			tcreated, err := network.EnsureFirewall(t.Context(), tclient, env, topts...)
			if err != nil {
				t.Fatal(err)
			}
			twin.Mutate(func(st *linodetest.State) { tt.mutate(st.Firewalls[tcreated.ID]) })
			if saved := applySavedFirewallPlan(t, twin, tclient, env, topts); !slices.Equal(saved.Result().Lines(), tt.want) {
				t.Errorf("saved plan\n got %q\nwant %q", saved.Result().Lines(), tt.want)
			}
			assertFirewall(t, twin.Dump(), env)
		})
	}
}

// TestFirewallComparesNormalized checks what is not drift: the live rule
// holds the same addresses in another order, one of them without its /32,
// and the same ports in another order and with a space. Neither plan nor
// ensure finds anything to change.
func TestFirewallComparesNormalized(t *testing.T) {
	t.Parallel()
	srv, client, opts := sim(t)
	env := mustDefault(t, spec.Staging)
	env.Network.Firewall.Inbound = append(env.Network.Firewall.Inbound, spec.FirewallRule{
		Label: "admin", Action: "ACCEPT", Protocol: "TCP", Ports: "22,443,8443-8444",
		IPv4: []string{"198.51.100.7/32", "198.51.100.8/32", "203.0.113.0/24"}})
	created, err := network.EnsureFirewall(t.Context(), client, env, opts...)
	if err != nil {
		t.Fatal(err)
	}
	srv.Mutate(func(st *linodetest.State) {
		r := &st.Firewalls[created.ID].Rules.Inbound[6]
		*r.Addresses.IPv4 = []string{"203.0.113.0/24", "198.51.100.8", "198.51.100.7/32"}
		r.Ports = "8443-8444, 443,22"
	})
	srv.ResetCounts()
	plan, err := network.PlanFirewall(t.Context(), client, env, opts...)
	if err != nil || !plan.Empty() {
		t.Errorf("plan: %q, %v; want no changes", plan.Result().Lines(), err)
	}
	res, err := network.EnsureFirewall(t.Context(), client, env, opts...)
	if err != nil || res.Changed() {
		t.Errorf("ensure: %q, %v; want no changes", res.Result.Lines(), err)
	}
	if c := srv.Counts(); c.Mutating != 0 {
		t.Errorf("%d mutating requests, want 0", c.Mutating)
	}
	// A real difference in the same rule is still seen.
	srv.Mutate(func(st *linodetest.State) {
		*st.Firewalls[created.ID].Rules.Inbound[6].Addresses.IPv4 = []string{"203.0.113.0/24", "198.51.100.7/32"}
	})
	plan, err = network.PlanFirewall(t.Context(), client, env, opts...)
	want := []string{"update firewall/platform-staging rules.inbound[admin].ipv4: 198.51.100.7/32, 203.0.113.0/24 → 198.51.100.7/32, 198.51.100.8/32, 203.0.113.0/24"}
	if got := plan.Result().Lines(); err != nil || !slices.Equal(got, want) {
		t.Errorf("plan after removing an address: %q, %v; want %q", got, err, want)
	}
}

// TestFirewallSplitsLongRules gives a rule 600 addresses: it is applied as
// three rules labelled admin, admin-2 and admin-3 of 255, 255 and 90
// addresses, and applying it again changes nothing.
func TestFirewallSplitsLongRules(t *testing.T) {
	t.Parallel()
	srv, client, opts := sim(t)
	env := mustDefault(t, spec.Development)
	var addrs []string
	for i := range 600 {
		addrs = append(addrs, fmt.Sprintf("198.51.%d.%d/32", 100+i/250, i%250))
	}
	env.Network.Firewall.Inbound = append(env.Network.Firewall.Inbound,
		spec.FirewallRule{Label: "admin", Action: "ACCEPT", Protocol: "TCP", Ports: "22", IPv4: addrs})
	if _, err := network.EnsureFirewall(t.Context(), client, env, opts...); err != nil {
		t.Fatal(err)
	}
	fw := assertFirewall(t, srv.Dump(), env)
	var got []string
	for _, r := range fw.Rules.Inbound {
		if strings.HasPrefix(r.Label, "admin") {
			got = append(got, fmt.Sprintf("%s:%d", r.Label, len(*r.Addresses.IPv4)))
		}
	}
	if want := []string{"admin:255", "admin-2:255", "admin-3:90"}; !slices.Equal(got, want) {
		t.Errorf("split rules %q, want %q", got, want)
	}
	srv.ResetCounts()
	if res, err := network.EnsureFirewall(t.Context(), client, env, opts...); err != nil || res.Changed() {
		t.Errorf("second run: %v, %v", res.Result.Lines(), err)
	}
	if c := srv.Counts(); c.Mutating != 0 {
		t.Errorf("second run sent %d mutating requests", c.Mutating)
	}
}

// TestFirewallFindsByLabel covers what EnsureFirewall finds under its
// label: a hand-made firewall is adopted (tagged, its rules replaced); a
// second firewall of ours with the same label and no devices (which the
// real API forbids, but an eventually consistent read could show) is
// deleted and the older kept; a same-labelled firewall that is not ours,
// or that protects devices, is a conflict, reported before any write.
func TestFirewallFindsByLabel(t *testing.T) {
	t.Parallel()
	ours := network.EnvTagPrefix + "production"
	open := func(id int, tags ...string) *linodetest.Firewall {
		v4 := []string{"0.0.0.0/0"}
		return &linodetest.Firewall{ID: id, Label: "platform-production", Status: "enabled", Tags: tags,
			Rules: linodetest.FirewallRules{InboundPolicy: "ACCEPT", OutboundPolicy: "ACCEPT", Inbound: []linodetest.FirewallRule{
				{Label: "ssh", Action: "ACCEPT", Protocol: "TCP", Ports: "22", Addresses: linodetest.RuleAddresses{IPv4: &v4}}}}}
	}
	tests := []struct {
		name     string
		existing []*linodetest.Firewall
		wantID   int
		wantErr  error
		writes   []string
	}{
		{
			name:     "hand-made firewall adopted",
			existing: []*linodetest.Firewall{open(7, "hand-made")},
			wantID:   7,
			writes:   []string{"PUT /networking/firewalls/{firewallId}", "PUT /networking/firewalls/{firewallId}/rules"},
		},
		{
			name:     "newer duplicate of ours deleted",
			existing: []*linodetest.Firewall{open(7, ours), open(8, ours)},
			wantID:   7,
			writes: []string{"DELETE /networking/firewalls/{firewallId}", "PUT /networking/firewalls/{firewallId}",
				"PUT /networking/firewalls/{firewallId}/rules"},
		},
		{
			name:     "same label, not ours",
			existing: []*linodetest.Firewall{open(7, ours), open(8, "someone-else")},
			wantErr:  change.ErrConflict,
		},
		{
			name: "duplicate protecting a device",
			existing: func() []*linodetest.Firewall {
				dup := open(8, ours)
				dup.Devices = []*linodetest.FirewallDevice{{ID: 1, EntityID: 123, EntityType: "nodebalancer", EntityLabel: "nb"}}
				return []*linodetest.Firewall{open(7, ours), dup}
			}(),
			wantErr: change.ErrConflict,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, client, opts := sim(t)
			env := mustDefault(t, spec.Production)
			existing := throughJSON(t, tt.existing) // for the twin below: the simulator changes what it holds
			srv.Mutate(func(st *linodetest.State) {
				for _, f := range tt.existing {
					st.Firewalls[f.ID] = f
				}
			})
			res, err := network.EnsureFirewall(t.Context(), client, env, opts...)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("EnsureFirewall: %v, want %v", err, tt.wantErr)
				}
				if w := mutating(srv); len(w) != 0 {
					t.Errorf("wrote %q before failing, want nothing", w)
				}
				return
			}
			if err != nil {
				t.Fatalf("EnsureFirewall: %v", err)
			}
			if res.ID != tt.wantID {
				t.Errorf("id %d, want %d", res.ID, tt.wantID)
			}
			if w := mutating(srv); !slices.Equal(w, tt.writes) {
				t.Errorf("writes %q, want %q", w, tt.writes)
			}
			if fw := assertFirewall(t, srv.Dump(), env); fw.ID != tt.wantID {
				t.Errorf("kept firewall %d, want %d", fw.ID, tt.wantID)
			}

			// A plan saved as JSON and applied step by step does the same.
			twin, tclient, topts := sim(t)
			twin.Mutate(func(st *linodetest.State) {
				for _, f := range existing {
					st.Firewalls[f.ID] = f
				}
			})
			saved := applySavedFirewallPlan(t, twin, tclient, env, topts)
			if saved.ID != change.Known(tt.wantID) || !slices.Equal(saved.Result().Lines(), res.Result.Lines()) {
				t.Errorf("saved plan: id %s, %q; want id %d, %q", saved.ID, saved.Result().Lines(), tt.wantID, res.Result.Lines())
			}
			if fw := assertFirewall(t, twin.Dump(), env); fw.ID != tt.wantID {
				t.Errorf("saved plan kept firewall %d, want %d", fw.ID, tt.wantID)
			}
		})
	}
}
