package change_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/org/platform/pkg/change"
)

func TestOutputsResolveFills(t *testing.T) {
	t.Parallel()
	type pool struct {
		Type       string `json:"type"`
		FirewallID int    `json:"firewall_id"`
	}
	type create struct {
		Label string `json:"label"`
		VPCID int    `json:"vpc_id"`
		Pools []pool `json:"node_pools"`
	}
	s, err := change.NewStep("prod/linode/lke/platform-production", change.LayerLinode, "lke.cluster.create", change.Create,
		"lke/platform-production", create{Label: "platform-production", Pools: []pool{{Type: "g6-standard-4"}, {Type: "g6-standard-8"}}})
	if err != nil {
		t.Fatal(err)
	}
	s.Fills = []change.Fill{
		{Path: "/vpc_id", Ref: change.Ref{Step: "vpc", Output: "id"}},
		{Path: "/node_pools/0/firewall_id", Ref: change.Ref{Step: "fw", Output: "id"}},
		{Path: "/node_pools/1/firewall_id", Ref: change.Ref{Step: "fw", Output: "id"}},
	}
	var out change.Outputs
	if _, err := out.Resolve(s); err == nil || !strings.Contains(err.Error(), "vpc") {
		t.Fatalf("resolving before the VPC step ran: err = %v, want one naming the step", err)
	}
	if err := out.Set("vpc", "id", 60001); err != nil {
		t.Fatal(err)
	}
	if err := out.Set("fw", "id", 30001); err != nil {
		t.Fatal(err)
	}
	got, err := out.Resolve(s)
	if err != nil {
		t.Fatal(err)
	}
	var c create
	if err := got.Decode(&c); err != nil {
		t.Fatal(err)
	}
	if c.VPCID != 60001 || c.Pools[0].FirewallID != 30001 || c.Pools[1].FirewallID != 30001 || c.Label != "platform-production" || len(got.Fills) != 0 {
		t.Errorf("resolved action %+v, fills %v", c, got.Fills)
	}
	if s.Fills == nil || strings.Contains(string(s.Action), "60001") {
		t.Error("Resolve changed the step it was given")
	}
}

func TestIntShowsKnownAfterApply(t *testing.T) {
	t.Parallel()
	if got := change.After("fw", "id").String(); got != change.KnownAfterApply {
		t.Errorf("After().String() = %q", got)
	}
	if got := change.Known(42).String(); got != "42" {
		t.Errorf("Known(42).String() = %q", got)
	}
	if !(change.Int{}).IsZero() || change.Known(1).IsZero() || change.After("a", "b").IsZero() {
		t.Error("IsZero is wrong")
	}
	b, _ := json.Marshal(change.After("fw", "id"))
	var back change.Int
	if err := json.Unmarshal(b, &back); err != nil || back.Ref == nil || back.Ref.Step != "fw" {
		t.Errorf("round trip of %s: %+v, %v", b, back, err)
	}
}

func TestPlanMovedNamesEveryDifference(t *testing.T) {
	t.Parallel()
	p := change.Plan{Base: map[string]string{"a count": "3", "b tags": "x", "c gone": "1"}}
	got := p.Moved(map[string]string{"a count": "5", "b tags": "x", "d new": "2"})
	want := []string{"a count: 3 → 5", "c gone: 1 → (gone)", "d new: (not observed) → 2"}
	if !slices.Equal(got, want) {
		t.Errorf("Moved = %q, want %q", got, want)
	}
	if moved := p.Moved(p.Base); len(moved) != 0 {
		t.Errorf("Moved of the same base = %q", moved)
	}
}

func TestDigestIsCanonical(t *testing.T) {
	t.Parallel()
	a, err := change.Digest(map[string]string{"b": "2", "a": "1"})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := change.Digest(map[string]string{"a": "1", "b": "2"})
	c, _ := change.Digest(map[string]string{"a": "1", "b": "3"})
	if a != b || a == c || len(a) != 64 {
		t.Errorf("digests %s %s %s", a, b, c)
	}
	// The same document with its members in another order, as a tool that
	// reads and rewrites JSON may leave it.
	type ordered struct {
		B string `json:"b"`
		A string `json:"a"`
	}
	d, _ := change.Digest(ordered{B: "2", A: "1"})
	if d != a {
		t.Errorf("digest depends on member order: %s vs %s", d, a)
	}
}

func TestPlanResultAndAppend(t *testing.T) {
	t.Parallel()
	var p change.Plan
	p.Observe("fw tags", "x")
	p.Add(change.Step{ID: "1", Changes: []change.Change{{Object: "fw", Op: change.Create}}})
	var q change.Plan
	q.Observe("vpc label", "y")
	q.Add(change.Step{ID: "2", Changes: []change.Change{{Object: "vpc", Field: "description", From: "a", To: "b", Op: change.Update}}})
	q.Retained = []change.Retained{{Object: "ns/team-a", Reason: "runs pods"}}
	p.Append(q)
	r := p.Result()
	if len(p.Steps) != 2 || len(p.Base) != 2 || r.Count(change.Create) != 1 || r.Count(change.Update) != 1 || len(r.Retained) != 1 {
		t.Errorf("appended plan %+v, result %+v", p, r)
	}
	if p.Empty() || !(change.Plan{}).Empty() {
		t.Error("Empty is wrong")
	}
}
