package network_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/org/platform/internal/reconcile"
	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/linodetest"
	"github.com/org/platform/pkg/network"
	"github.com/org/platform/pkg/spec"
)

// throughJSON writes v as JSON and reads it back, as a plan saved for review
// and applied later by another process is.
func throughJSON[T any](t *testing.T, v T) T {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("write the plan as JSON: %v", err)
	}
	var out T
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("read the plan back: %v\n%s", err, b)
	}
	return out
}

var apiVersion = regexp.MustCompile(`^/v4(beta)?`)

// stepRequest returns "METHOD /path" of the one write a step of this
// package sends, from the ids its Action holds.
func stepRequest(t *testing.T, s change.Step) string {
	t.Helper()
	var a struct {
		FirewallID int `json:"firewall_id"`
		VPCID      int `json:"vpc_id"`
		SubnetID   int `json:"subnet_id"`
	}
	if s.Kind != network.KindFirewallCreate && s.Kind != network.KindVPCCreate {
		if err := s.Decode(&a); err != nil {
			t.Fatal(err)
		}
	}
	switch s.Kind {
	case network.KindFirewallCreate:
		return "POST /networking/firewalls"
	case network.KindFirewallUpdate:
		return fmt.Sprintf("PUT /networking/firewalls/%d", a.FirewallID)
	case network.KindFirewallRules:
		return fmt.Sprintf("PUT /networking/firewalls/%d/rules", a.FirewallID)
	case network.KindFirewallDelete:
		return fmt.Sprintf("DELETE /networking/firewalls/%d", a.FirewallID)
	case network.KindVPCCreate:
		return "POST /vpcs"
	case network.KindVPCUpdate:
		return fmt.Sprintf("PUT /vpcs/%d", a.VPCID)
	case network.KindVPCDelete:
		return fmt.Sprintf("DELETE /vpcs/%d", a.VPCID)
	case network.KindVPCSubnetCreate:
		return fmt.Sprintf("POST /vpcs/%d/subnets", a.VPCID)
	case network.KindVPCSubnetDelete:
		return fmt.Sprintf("DELETE /vpcs/%d/subnets/%d", a.VPCID, a.SubnetID)
	}
	t.Fatalf("step %s: unexpected kind %q", s.ID, s.Kind)
	return ""
}

// writesSince returns the simulator's writes after the first n requests of
// its log as "METHOD /path", without the API version.
func writesSince(srv *linodetest.Server, n int) []string {
	var out []string
	for _, r := range srv.Requests()[n:] {
		if r.Method != "GET" {
			out = append(out, r.Method+" "+apiVersion.ReplaceAllString(r.Path, ""))
		}
	}
	return out
}

// applySaved applies p with step through reconcile.Apply and checks that the
// simulator received exactly the writes of p's steps, one each, in order,
// and that the result lists the plan's changes.
func applySaved(t *testing.T, srv *linodetest.Server, p change.Plan, step reconcile.StepFunc) *change.Outputs {
	t.Helper()
	n := len(srv.Requests())
	out := &change.Outputs{}
	res, err := reconcile.Apply(t.Context(), p, out, step)
	if err != nil {
		t.Fatalf("apply the saved plan: %v", err)
	}
	var want []string
	for _, s := range p.Steps {
		want = append(want, stepRequest(t, s))
	}
	if got := writesSince(srv, n); !slices.Equal(got, want) {
		t.Errorf("writes of the saved plan\n got %q\nwant %q (one per step)", got, want)
	}
	if got, want := res.Lines(), p.Result().Lines(); !slices.Equal(got, want) {
		t.Errorf("applied changes\n got %q\nwant %q", got, want)
	}
	return out
}

// resolve returns the value of id, from out when it refers to a step.
func resolve(t *testing.T, id change.Int, out *change.Outputs) int {
	t.Helper()
	if id.Ref == nil {
		return id.Value
	}
	raw, ok := out.Get(*id.Ref)
	if !ok {
		t.Fatalf("no output %s after applying the plan", id.Ref)
	}
	var v int
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// applySavedFirewallPlan plans env's firewall, saves the plan as JSON, reads
// it back and applies it step by step with ApplyFirewallStep. EnsureFirewall
// must then find nothing left to do, and the plan's id must be the firewall's.
func applySavedFirewallPlan(t *testing.T, srv *linodetest.Server, api network.FirewallAPI, env spec.Environment, opts []network.Option) network.FirewallPlan {
	t.Helper()
	plan, err := network.PlanFirewall(t.Context(), api, env, opts...)
	if err != nil {
		t.Fatalf("PlanFirewall: %v", err)
	}
	saved := throughJSON(t, plan)
	out := applySaved(t, srv, saved.Plan, func(ctx context.Context, s change.Step, out *change.Outputs) error {
		return network.ApplyFirewallStep(ctx, api, s, out, opts...)
	})
	n := len(srv.Requests())
	res, err := network.EnsureFirewall(t.Context(), api, env, opts...)
	if err != nil || res.Changed() || len(writesSince(srv, n)) != 0 {
		t.Errorf("EnsureFirewall after the saved plan: %q, %v, writes %q; want nothing left to do", res.Result.Lines(), err, writesSince(srv, n))
	}
	if id := resolve(t, saved.ID, out); id != res.ID {
		t.Errorf("the plan's id resolves to %d, the firewall is %d", id, res.ID)
	}
	return saved
}

// applySavedVPCPlan is applySavedFirewallPlan for the VPC, its id and its
// subnets' ids.
func applySavedVPCPlan(t *testing.T, srv *linodetest.Server, api network.VPCAPI, env spec.Environment, opts []network.Option) network.VPCPlan {
	t.Helper()
	plan, err := network.PlanVPC(t.Context(), api, env, opts...)
	if err != nil {
		t.Fatalf("PlanVPC: %v", err)
	}
	saved := throughJSON(t, plan)
	out := applySaved(t, srv, saved.Plan, func(ctx context.Context, s change.Step, out *change.Outputs) error {
		return network.ApplyVPCStep(ctx, api, s, out, opts...)
	})
	n := len(srv.Requests())
	res, err := network.EnsureVPC(t.Context(), api, env, opts...)
	if err != nil || res.Changed() || len(writesSince(srv, n)) != 0 {
		t.Errorf("EnsureVPC after the saved plan: %q, %v, writes %q; want nothing left to do", res.Result.Lines(), err, writesSince(srv, n))
	}
	if id := resolve(t, saved.ID, out); id != res.ID {
		t.Errorf("the plan's id resolves to %d, the VPC is %d", id, res.ID)
	}
	got := map[string]int{}
	for label, id := range saved.Subnets {
		got[label] = resolve(t, id, out)
	}
	if !maps.Equal(got, res.Subnets) {
		t.Errorf("the plan's subnet ids resolve to %v, the subnets are %v", got, res.Subnets)
	}
	return saved
}

// TestObserveLinodeCostsTwoRequests observes the four standard
// environments, converged: one filtered list of firewalls (rules included)
// and one of VPCs (subnets included), whatever the number of environments;
// plans made from that observation send nothing and find nothing to do.
// Another account's firewall is not in the observation.
func TestObserveLinodeCostsTwoRequests(t *testing.T) {
	t.Parallel()
	srv, client, opts := sim(t)
	var envs []spec.Environment
	for _, name := range spec.StandardNames() {
		env := mustDefault(t, name)
		ensureBoth(t.Context(), t, client, env, opts)
		envs = append(envs, env)
	}
	srv.Mutate(func(st *linodetest.State) {
		st.Firewalls[999] = &linodetest.Firewall{ID: 999, Label: "someone-elses", Status: "enabled"}
	})

	srv.ResetCounts()
	obs, err := network.ObserveLinode(t.Context(), client, envs, opts...)
	if err != nil {
		t.Fatalf("ObserveLinode: %v", err)
	}
	var plans []string
	for _, env := range envs {
		fp, err := network.PlanFirewallFrom(obs, env, opts...)
		if err != nil || !fp.Empty() || fp.ID.Ref != nil || fp.ID.Value == 0 {
			t.Errorf("%s: PlanFirewallFrom: %q id %s, %v; want nothing to do and a known id", env.Name, fp.Result().Lines(), fp.ID, err)
		}
		vp, err := network.PlanVPCFrom(obs, env, opts...)
		if err != nil || !vp.Empty() || vp.ID.Ref != nil || vp.ID.Value == 0 || len(vp.Subnets) != len(env.Network.VPC.Subnets) {
			t.Errorf("%s: PlanVPCFrom: %q id %s subnets %v, %v; want nothing to do and known ids", env.Name, vp.Result().Lines(), vp.ID, vp.Subnets, err)
		}
		plans = append(plans, fp.Label, vp.Label)
	}
	c := srv.Counts()
	want := map[string]int{"GET /networking/firewalls": 1, "GET /vpcs": 1}
	if c.Reading != 2 || c.Mutating != 0 || !maps.Equal(c.ByEndpoint, want) {
		t.Errorf("observing and planning %d environments sent %v (%d reads, %d writes), want exactly %v", len(envs), c.ByEndpoint, c.Reading, c.Mutating, want)
	}
	if len(obs.Firewalls) != len(envs) || len(obs.VPCs) != len(envs) {
		t.Errorf("observed %d firewalls and %d VPCs, want %d of each (and not someone-elses)", len(obs.Firewalls), len(obs.VPCs), len(envs))
	}
	for _, r := range srv.Requests()[len(srv.Requests())-2:] {
		if !strings.Contains(r.Filter, `"+or"`) {
			t.Errorf("%s %s sent X-Filter %q, want a +or of the labels", r.Method, r.Route, r.Filter)
		}
	}

	// An observation that did not look up a label cannot say it is absent.
	partial, err := network.ObserveLinode(t.Context(), client, envs[:1], opts...)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := network.PlanFirewallFrom(partial, envs[1], opts...); err == nil {
		t.Errorf("PlanFirewallFrom for a label not observed: %q, want an error", p.Result().Lines())
	}
	if p, err := network.PlanVPCFrom(partial, envs[1], opts...); err == nil {
		t.Errorf("PlanVPCFrom for a label not observed: %q, want an error", p.Result().Lines())
	}
}

// TestObserveLinodeRejectsBadInput: a bad spec fails before any request.
func TestObserveLinodeRejectsBadInput(t *testing.T) {
	t.Parallel()
	srv, client, opts := sim(t)
	env := mustDefault(t, spec.Staging)
	env.Network.Firewall.Inbound[0].Ports = "70000"
	if _, err := network.ObserveLinode(t.Context(), client, []spec.Environment{mustDefault(t, spec.Production), env}, opts...); !errors.Is(err, spec.ErrInvalid) {
		t.Errorf("ObserveLinode: %v, want %v", err, spec.ErrInvalid)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests sent, want 0", n)
	}
}

// TestSavedPlanOfFreshEnvironment plans each standard environment's
// firewall and VPC in an empty account: the ids are references to the
// create steps, shown "(known after apply)". The plans, written to JSON and
// read back, applied step by step, create exactly what EnsureFirewall and
// EnsureVPC create (they find nothing left to do after), with one write per
// step, and the references resolve to the ids created.
func TestSavedPlanOfFreshEnvironment(t *testing.T) {
	t.Parallel()
	for _, name := range spec.StandardNames() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, client, opts := sim(t)
			env := mustDefault(t, name)

			fp, err := network.PlanFirewall(t.Context(), client, env, opts...)
			if err != nil {
				t.Fatal(err)
			}
			wantRef := change.Ref{Step: network.FirewallStepID(name), Output: "id"}
			if fp.ID.String() != change.KnownAfterApply || fp.ID.Ref == nil || *fp.ID.Ref != wantRef {
				t.Errorf("firewall plan id %s (%v), want %s (%s)", fp.ID, fp.ID.Ref, change.KnownAfterApply, wantRef)
			}
			if len(fp.Steps) != 1 || fp.Steps[0].ID != wantRef.Step || !fp.Steps[0].Creates || fp.Steps[0].Env != name {
				t.Errorf("firewall plan steps %+v, want one create step %s", fp.Steps, wantRef.Step)
			}
			vp, err := network.PlanVPC(t.Context(), client, env, opts...)
			if err != nil {
				t.Fatal(err)
			}
			if vp.ID.String() != change.KnownAfterApply || *vp.ID.Ref != (change.Ref{Step: network.VPCStepID(name), Output: "id"}) {
				t.Errorf("VPC plan id %s (%v), want %s", vp.ID, vp.ID.Ref, change.KnownAfterApply)
			}
			for _, s := range env.Network.VPC.Subnets {
				id, ok := vp.Subnets[s.Label]
				if !ok || id.String() != change.KnownAfterApply || *id.Ref != (change.Ref{Step: network.VPCStepID(name), Output: "subnet/" + s.Label}) {
					t.Errorf("subnet %s: plan id %s (%v), want %s from the VPC's create step", s.Label, id, id.Ref, change.KnownAfterApply)
				}
			}
			if len(vp.Subnets) != len(env.Network.VPC.Subnets) {
				t.Errorf("plan subnets %v, want the spec's %d", vp.Subnets, len(env.Network.VPC.Subnets))
			}

			applySavedFirewallPlan(t, srv, client, env, opts)
			applySavedVPCPlan(t, srv, client, env, opts)
			st := srv.Dump()
			assertFirewall(t, st, env)
			assertVPC(t, st, env)
		})
	}
}

// TestPlanBaseRecordsWhatWasCompared: a plan's base holds the values its
// decisions compared, so that a change of one of them shows in Moved, and
// nothing that moves on its own: Linodes joining a subnet the spec keeps
// as it is do not move the base.
func TestPlanBaseRecordsWhatWasCompared(t *testing.T) {
	t.Parallel()
	srv, client, opts := sim(t)
	env := mustDefault(t, spec.Staging)
	fresh, err := network.PlanFirewall(t.Context(), client, env, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"firewall/platform-staging id": "absent"}; !maps.Equal(fresh.Base, want) {
		t.Errorf("base of a fresh firewall %v, want %v", fresh.Base, want)
	}
	fw, err := network.EnsureFirewall(t.Context(), client, env, opts...)
	if err != nil {
		t.Fatal(err)
	}
	before, err := network.PlanFirewall(t.Context(), client, env, opts...)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range before.Base {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	wantKeys := []string{"firewall/platform-staging duplicates", "firewall/platform-staging id", "firewall/platform-staging rules",
		"firewall/platform-staging status", "firewall/platform-staging tags"}
	if !slices.Equal(keys, wantKeys) {
		t.Errorf("base keys %q, want %q", keys, wantKeys)
	}
	srv.Mutate(func(st *linodetest.State) { st.Firewalls[fw.ID].Rules.Inbound[4].Ports = "30000-32000" })
	after, err := network.PlanFirewall(t.Context(), client, env, opts...)
	if err != nil {
		t.Fatal(err)
	}
	moved := before.Moved(after.Base)
	if len(moved) != 1 || !strings.HasPrefix(moved[0], "firewall/platform-staging rules: ") {
		t.Errorf("moved %q, want the rules only", moved)
	}

	if _, err := network.EnsureVPC(t.Context(), client, env, opts...); err != nil {
		t.Fatal(err)
	}
	vbefore, err := network.PlanVPC(t.Context(), client, env, opts...)
	if err != nil {
		t.Fatal(err)
	}
	scaled := attachedNodes{Client: client, labels: map[string]int{"nodes": 5}}
	vafter, err := network.PlanVPC(t.Context(), scaled, env, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if moved := vbefore.Moved(vafter.Base); len(moved) != 0 {
		t.Errorf("nodes joining a kept subnet moved the base: %q", moved)
	}
	if got := vbefore.Base["vpc/platform-staging/subnet/nodes ipv4"]; got != "10.20.0.0/20" {
		t.Errorf("base range of subnet nodes %q, want 10.20.0.0/20", got)
	}
}

// TestApplyStepRefusesOtherKinds: each Apply function carries out its own
// kinds only, and sends nothing for another.
func TestApplyStepRefusesOtherKinds(t *testing.T) {
	t.Parallel()
	srv, client, opts := sim(t)
	tests := []struct {
		name  string
		apply func(s change.Step) error
		kind  string
	}{
		{"firewall given a VPC step", func(s change.Step) error {
			return network.ApplyFirewallStep(t.Context(), client, s, nil, opts...)
		}, network.KindVPCDelete},
		{"VPC given a firewall step", func(s change.Step) error { return network.ApplyVPCStep(t.Context(), client, s, nil, opts...) }, network.KindFirewallDelete},
		{"firewall given a Kubernetes step", func(s change.Step) error {
			return network.ApplyFirewallStep(t.Context(), client, s, nil, opts...)
		}, "k8s.apply"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := change.Step{ID: "x", Kind: tt.kind, Action: json.RawMessage(`{"firewall_id":1,"vpc_id":1}`)}
			if err := tt.apply(s); !errors.Is(err, network.ErrUnknownKind) {
				t.Errorf("apply %s: %v, want %v", tt.kind, err, network.ErrUnknownKind)
			}
		})
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests sent, want 0", n)
	}
}
