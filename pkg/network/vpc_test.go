package network_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/linode/linodego"

	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/linodetest"
	"github.com/org/platform/pkg/network"
	"github.com/org/platform/pkg/spec"
)

// assertVPC checks that the simulator holds exactly one VPC labelled as
// env's, in its region, with exactly the spec's subnets and description.
func assertVPC(t *testing.T, st *linodetest.State, env spec.Environment) *linodetest.VPC {
	t.Helper()
	vs := vpcsLabelled(st, env.Network.VPC.Label)
	if len(vs) != 1 {
		t.Fatalf("%d VPCs labelled %q, want 1", len(vs), env.Network.VPC.Label)
	}
	v := vs[0]
	var got, want []string
	for _, s := range v.Subnets {
		got = append(got, s.Label+" "+s.IPv4)
	}
	for _, s := range env.Network.VPC.Subnets {
		want = append(want, s.Label+" "+s.IPv4)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("subnets %q, want %q", got, want)
	}
	if v.Region != env.Cluster.Region || v.Description != env.Network.VPC.Description {
		t.Errorf("region %q description %q, want %q %q", v.Region, v.Description, env.Cluster.Region, env.Network.VPC.Description)
	}
	return v
}

// TestEnsureVPCIsIdempotent creates each standard environment's VPC, then
// ensures and plans again: no mutating request the second time.
func TestEnsureVPCIsIdempotent(t *testing.T) {
	t.Parallel()
	for _, name := range spec.StandardNames() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, client, opts := sim(t)
			env := mustDefault(t, name)
			res, err := network.EnsureVPC(t.Context(), client, env, opts...)
			if err != nil {
				t.Fatalf("EnsureVPC: %v", err)
			}
			v := assertVPC(t, srv.Dump(), env)
			if res.Op() != change.Create || res.ID != v.ID || len(res.Subnets) != 2 {
				t.Errorf("first run: op %s id %d subnets %v; want create, %d, 2 subnets", res.Op(), res.ID, res.Subnets, v.ID)
			}
			if got := mutating(srv); !slices.Equal(got, []string{"POST /vpcs"}) {
				t.Errorf("first run wrote %q, want one POST with the subnets", got)
			}
			srv.ResetCounts()
			again, err := network.EnsureVPC(t.Context(), client, env, opts...)
			if err != nil {
				t.Fatal(err)
			}
			plan, err := network.PlanVPC(t.Context(), client, env, opts...)
			if err != nil {
				t.Fatal(err)
			}
			if c := srv.Counts(); c.Mutating != 0 {
				t.Errorf("second run and plan sent %d mutating requests", c.Mutating)
			}
			if again.Changed() || again.ID != v.ID || !maps_equal(again.Subnets, res.Subnets) {
				t.Errorf("second run: %q id %d subnets %v", again.Result.Lines(), again.ID, again.Subnets)
			}
			planned := map[string]int{}
			for label, id := range plan.Subnets {
				planned[label] = id.Value
			}
			if !plan.Empty() || plan.ID != change.Known(v.ID) || !maps_equal(planned, res.Subnets) {
				t.Errorf("plan: %q id %s subnets %v", plan.Result().Lines(), plan.ID, plan.Subnets)
			}
		})
	}
}

func maps_equal(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// attachedNodes wraps a client so that ListVPCs shows Linodes on the
// subnets named, without starting an LKE cluster in them.
type attachedNodes struct {
	*linodego.Client
	labels map[string]int // subnet label → Linodes attached
}

func (a attachedNodes) ListVPCs(ctx context.Context, opts *linodego.ListOptions) ([]linodego.VPC, error) {
	vpcs, err := a.Client.ListVPCs(ctx, opts)
	for i := range vpcs {
		for j, s := range vpcs[i].Subnets {
			for n := range a.labels[s.Label] {
				vpcs[i].Subnets[j].Linodes = append(vpcs[i].Subnets[j].Linodes, linodego.VPCSubnetLinode{ID: 1000 + n})
			}
		}
	}
	return vpcs, err
}

// TestVPCSubnets changes the subnets of an existing VPC: a new one is
// added, one the spec dropped is deleted when empty and kept (reported,
// not deleted) when LKE nodes are attached, an empty one whose range
// changed is replaced, and one with nodes whose range changed is an error
// found before any write.
func TestVPCSubnets(t *testing.T) {
	t.Parallel()
	const (
		subnetPOST = "POST /vpcs/{vpcId}/subnets"
		subnetDEL  = "DELETE /vpcs/{vpcId}/subnets/{vpcSubnetId}"
	)
	tests := []struct {
		name     string
		attached map[string]int
		subnets  []spec.Subnet
		want     []string
		writes   []string
		retained []string // change.Retained
		kept     []string // subnets kept beside the spec's: "label ipv4"
		wantErr  error
	}{
		{
			name:    "subnet added",
			subnets: []spec.Subnet{{Label: "nodes", IPv4: "10.20.0.0/20"}, {Label: "data", IPv4: "10.20.100.0/23"}, {Label: "batch", IPv4: "10.20.16.0/20"}},
			want:    []string{"create vpc/platform-staging/subnet/batch: 10.20.16.0/20"},
			writes:  []string{subnetPOST},
		},
		{
			name:    "empty subnet dropped",
			subnets: []spec.Subnet{{Label: "nodes", IPv4: "10.20.0.0/20"}},
			want:    []string{"delete vpc/platform-staging/subnet/data: 10.20.100.0/23"},
			writes:  []string{subnetDEL},
		},
		{
			name:     "subnet with nodes dropped",
			attached: map[string]int{"nodes": 3},
			subnets:  []spec.Subnet{{Label: "data", IPv4: "10.20.100.0/23"}},
			retained: []string{"vpc/platform-staging/subnet/nodes: not in the spec, but 10.20.0.0/20 holds 3 Linodes; deleted once empty"},
			kept:     []string{"nodes 10.20.0.0/20"},
		},
		{
			name:    "empty subnet moved",
			subnets: []spec.Subnet{{Label: "nodes", IPv4: "10.20.0.0/20"}, {Label: "data", IPv4: "10.20.102.0/23"}},
			want:    []string{"update vpc/platform-staging/subnet/data ipv4: 10.20.100.0/23 → 10.20.102.0/23 (replaced: empty)"},
			writes:  []string{subnetDEL, subnetPOST},
		},
		{
			name:     "subnet with nodes moved",
			attached: map[string]int{"nodes": 1},
			subnets:  []spec.Subnet{{Label: "nodes", IPv4: "10.20.32.0/20"}, {Label: "data", IPv4: "10.20.100.0/23"}},
			wantErr:  change.ErrIrreversible,
		},
		{
			name:     "new subnet over a kept one",
			attached: map[string]int{"nodes": 1},
			subnets:  []spec.Subnet{{Label: "data", IPv4: "10.20.100.0/23"}, {Label: "pods", IPv4: "10.20.0.0/21"}},
			wantErr:  change.ErrConflict,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, client, opts := sim(t)
			api := attachedNodes{Client: client, labels: tt.attached}
			env := mustDefault(t, spec.Staging)
			if _, err := network.EnsureVPC(t.Context(), api, env, opts...); err != nil {
				t.Fatal(err)
			}
			n := len(srv.Requests())
			env.Network.VPC.Subnets = tt.subnets

			plan, perr := network.PlanVPC(t.Context(), api, env, opts...)
			res, err := network.EnsureVPC(t.Context(), api, env, opts...)
			if tt.wantErr != nil {
				if !errors.Is(perr, tt.wantErr) || !errors.Is(err, tt.wantErr) {
					t.Fatalf("plan: %v; ensure: %v; want %v", perr, err, tt.wantErr)
				}
				if w := mutating(srv, n); len(w) != 0 {
					t.Errorf("wrote %q before failing", w)
				}
				return
			}
			if perr != nil || err != nil {
				t.Fatalf("plan: %v; ensure: %v", perr, err)
			}
			for _, r := range []change.Result{plan.Result(), res.Result} {
				if got := r.Lines(); !slices.Equal(got, tt.want) {
					t.Errorf("changes\n got %q\nwant %q", got, tt.want)
				}
				var retained []string
				for _, s := range r.Retained {
					retained = append(retained, s.String())
				}
				if !slices.Equal(retained, tt.retained) {
					t.Errorf("retained %q, want %q", retained, tt.retained)
				}
			}
			if w := mutating(srv, n); !slices.Equal(w, tt.writes) {
				t.Errorf("writes %q, want %q", w, tt.writes)
			}
			v := vpcsLabelled(srv.Dump(), "platform-staging")[0]
			var have []string
			for _, s := range v.Subnets {
				have = append(have, s.Label+" "+s.IPv4)
				if id, ok := res.Subnets[s.Label]; ok && id != s.ID {
					t.Errorf("result says subnet %s is %d; it is %d", s.Label, id, s.ID)
				}
			}
			slices.Sort(have)
			var want []string
			for _, s := range tt.subnets {
				want = append(want, s.Label+" "+s.IPv4)
			}
			want = append(want, tt.kept...)
			slices.Sort(want)
			if !slices.Equal(have, want) {
				t.Errorf("subnets now %q, want %q", have, want)
			}
			// Converged: nothing more to do (a kept subnet stays kept).
			n = len(srv.Requests())
			again, err := network.EnsureVPC(t.Context(), api, env, opts...)
			if err != nil || again.Changed() {
				t.Errorf("third run: %q, %v", again.Result.Lines(), err)
			}
			if w := mutating(srv, n); len(w) != 0 {
				t.Errorf("third run wrote %q", w)
			}

			// A plan saved as JSON and applied step by step does the same; a
			// subnet it adds has the id "(known after apply)" until then.
			twin, tclient, topts := sim(t)
			tapi := attachedNodes{Client: tclient, labels: tt.attached}
			before := mustDefault(t, spec.Staging)
			if _, err := network.EnsureVPC(t.Context(), tapi, before, topts...); err != nil {
				t.Fatal(err)
			}
			saved := applySavedVPCPlan(t, twin, tapi, env, topts)
			if !slices.Equal(saved.Result().Lines(), tt.want) {
				t.Errorf("saved plan\n got %q\nwant %q", saved.Result().Lines(), tt.want)
			}
			for _, s := range tt.subnets {
				added := !slices.Contains(before.Network.VPC.Subnets, s)
				if id := saved.Subnets[s.Label]; added != (id.String() == change.KnownAfterApply) {
					t.Errorf("saved plan: subnet %s id %s (added: %t)", s.Label, id, added)
				}
			}
			if tv := vpcsLabelled(twin.Dump(), "platform-staging")[0]; len(tv.Subnets) != len(v.Subnets) {
				t.Errorf("saved plan left %d subnets, ensure %d", len(tv.Subnets), len(v.Subnets))
			}
		})
	}
}

// TestVPCDescriptionAndRegion: a changed description is updated with one
// PUT; a VPC in another region is a conflict found before any write.
func TestVPCDescriptionAndRegion(t *testing.T) {
	t.Parallel()
	srv, client, opts := sim(t)
	env := mustDefault(t, spec.System)
	if _, err := network.EnsureVPC(t.Context(), client, env, opts...); err != nil {
		t.Fatal(err)
	}
	n := len(srv.Requests())
	env.Network.VPC.Description = "system services"
	res, err := network.EnsureVPC(t.Context(), client, env, opts...)
	want := []string{"update vpc/platform-system description: platform system environment → system services"}
	if got := res.Result.Lines(); err != nil || !slices.Equal(got, want) {
		t.Errorf("ensure: %q, %v; want %q", got, err, want)
	}
	if w := mutating(srv, n); !slices.Equal(w, []string{"PUT /vpcs/{vpcId}"}) {
		t.Errorf("writes %q, want one PUT", w)
	}
	twin, tclient, topts := sim(t)
	if _, err := network.EnsureVPC(t.Context(), tclient, mustDefault(t, spec.System), topts...); err != nil {
		t.Fatal(err)
	}
	if saved := applySavedVPCPlan(t, twin, tclient, env, topts); !slices.Equal(saved.Result().Lines(), want) {
		t.Errorf("saved plan: %q, want %q", saved.Result().Lines(), want)
	}
	assertVPC(t, twin.Dump(), env)
	n = len(srv.Requests())
	env.Cluster.Region = "eu-west"
	if _, err := network.EnsureVPC(t.Context(), client, env, opts...); !errors.Is(err, change.ErrConflict) {
		t.Errorf("region moved: %v, want %v", err, change.ErrConflict)
	}
	if w := mutating(srv, n); len(w) != 0 {
		t.Errorf("wrote %q", w)
	}
}
