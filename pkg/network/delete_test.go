package network_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/linodetest"
	"github.com/org/platform/pkg/network"
	"github.com/org/platform/pkg/spec"
)

// TestDeleteRemovesOnlyOurs provisions production and staging, adds a
// firewall labelled as production's that is not tagged as ours and a VPC
// labelled as production's in another region, then tears production down:
// exactly production's firewall and VPC are deleted, one DELETE each; the
// look-alikes are reported as retained, staging is untouched. A second
// teardown sends nothing, and a DELETE of what is already gone succeeds.
func TestDeleteRemovesOnlyOurs(t *testing.T) {
	t.Parallel()
	srv, client, opts := sim(t)
	prod, staging := mustDefault(t, spec.Production), mustDefault(t, spec.Staging)
	fw, err := network.EnsureFirewall(t.Context(), client, prod, opts...)
	if err != nil {
		t.Fatal(err)
	}
	vpc, err := network.EnsureVPC(t.Context(), client, prod, opts...)
	if err != nil {
		t.Fatal(err)
	}
	ensureBoth(t.Context(), t, client, staging, opts)
	srv.Mutate(func(st *linodetest.State) {
		st.Firewalls[900] = &linodetest.Firewall{ID: 900, Label: "platform-production", Status: "enabled", Tags: []string{"hand-made"},
			Rules: linodetest.FirewallRules{InboundPolicy: "DROP", OutboundPolicy: "ACCEPT"}}
		st.VPCs[901] = &linodetest.VPC{ID: 901, Label: "platform-production", Region: "eu-west"}
	})
	before := srv.Dump()
	n := len(srv.Requests())

	fres, err := network.DeleteFirewall(t.Context(), client, prod, opts...)
	if err != nil {
		t.Fatalf("DeleteFirewall: %v", err)
	}
	vres, err := network.DeleteVPC(t.Context(), client, prod, opts...)
	if err != nil {
		t.Fatalf("DeleteVPC: %v", err)
	}
	want := []string{fmt.Sprintf("DELETE /networking/firewalls/%d", fw.ID), fmt.Sprintf("DELETE /vpcs/%d", vpc.ID)}
	if got := writesSince(srv, n); !slices.Equal(got, want) {
		t.Errorf("writes %q, want %q", got, want)
	}
	if fres.ID != fw.ID || fres.Op() != change.Delete || vres.ID != vpc.ID || vres.Op() != change.Delete {
		t.Errorf("results: firewall %d %s, VPC %d %s; want %d and %d deleted", fres.ID, fres.Op(), vres.ID, vres.Op(), fw.ID, vpc.ID)
	}
	retained := func(rs []change.Retained) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.Object)
		}
		return out
	}
	if got := retained(fres.Retained); !slices.Equal(got, []string{"firewall/platform-production#900"}) {
		t.Errorf("firewall retained %q, want the untagged look-alike", got)
	}
	if got := retained(vres.Retained); !slices.Equal(got, []string{"vpc/platform-production#901"}) {
		t.Errorf("VPC retained %q, want the one in another region", got)
	}
	after := srv.Dump()
	var gone []string
	for id := range before.Firewalls {
		if after.Firewalls[id] == nil {
			gone = append(gone, "firewall "+strconv.Itoa(id))
		}
	}
	for id := range before.VPCs {
		if after.VPCs[id] == nil {
			gone = append(gone, "vpc "+strconv.Itoa(id))
		}
	}
	slices.Sort(gone)
	if want := []string{"firewall " + strconv.Itoa(fw.ID), "vpc " + strconv.Itoa(vpc.ID)}; !slices.Equal(gone, want) {
		t.Errorf("gone: %q, want exactly %q", gone, want)
	}

	// Again: nothing of ours is left, nothing is written.
	n = len(srv.Requests())
	fagain, ferr := network.DeleteFirewall(t.Context(), client, prod, opts...)
	vagain, verr := network.DeleteVPC(t.Context(), client, prod, opts...)
	if ferr != nil || verr != nil || fagain.Changed() || vagain.Changed() || fagain.ID != 0 || vagain.ID != 0 {
		t.Errorf("second teardown: %q (%v), %q (%v); want nothing done", fagain.Result.Lines(), ferr, vagain.Result.Lines(), verr)
	}
	if w := writesSince(srv, n); len(w) != 0 {
		t.Errorf("second teardown wrote %q", w)
	}

	// A delete step whose object is already gone (answered 404) succeeded.
	for _, tc := range []struct {
		kind   string
		action string
		apply  func(s change.Step) error
	}{
		{network.KindFirewallDelete, fmt.Sprintf(`{"firewall_id":%d,"label":"platform-production"}`, fw.ID),
			func(s change.Step) error { return network.ApplyFirewallStep(t.Context(), client, s, nil, opts...) }},
		{network.KindVPCDelete, fmt.Sprintf(`{"vpc_id":%d,"label":"platform-production"}`, vpc.ID),
			func(s change.Step) error { return network.ApplyVPCStep(t.Context(), client, s, nil, opts...) }},
	} {
		n = len(srv.Requests())
		if err := tc.apply(change.Step{ID: "again", Kind: tc.kind, Action: json.RawMessage(tc.action)}); err != nil {
			t.Errorf("%s of what is gone: %v, want success", tc.kind, err)
		}
		if reqs := srv.Requests()[n:]; len(reqs) != 1 || reqs[0].Status != 404 {
			t.Errorf("%s of what is gone sent %+v, want one DELETE answered 404", tc.kind, reqs)
		}
	}
}

// TestDeleteRefusesWhatIsInUse: a firewall of ours that still protects a
// device, or a VPC whose subnet still holds Linodes, is a conflict found
// before any write.
func TestDeleteRefusesWhatIsInUse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		delete func(t *testing.T, srv *linodetest.Server, api attachedNodes, env spec.Environment, opts []network.Option) error
	}{
		{"firewall protecting a device", func(t *testing.T, srv *linodetest.Server, api attachedNodes, env spec.Environment, opts []network.Option) error {
			fw, err := network.EnsureFirewall(t.Context(), api, env, opts...)
			if err != nil {
				t.Fatal(err)
			}
			srv.Mutate(func(st *linodetest.State) {
				st.Firewalls[fw.ID].Devices = []*linodetest.FirewallDevice{{ID: 1, EntityID: 123, EntityType: "nodebalancer", EntityLabel: "nb"}}
			})
			_, err = network.DeleteFirewall(t.Context(), api, env, opts...)
			return err
		}},
		{"VPC with nodes in a subnet", func(t *testing.T, srv *linodetest.Server, api attachedNodes, env spec.Environment, opts []network.Option) error {
			if _, err := network.EnsureVPC(t.Context(), api, env, opts...); err != nil {
				t.Fatal(err)
			}
			api.labels = map[string]int{"nodes": 3}
			_, err := network.DeleteVPC(t.Context(), api, env, opts...)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, client, opts := sim(t)
			env := mustDefault(t, spec.Production)
			err := tt.delete(t, srv, attachedNodes{Client: client}, env, opts)
			if !errors.Is(err, change.ErrConflict) {
				t.Errorf("delete: %v, want %v", err, change.ErrConflict)
			}
			for _, w := range mutating(srv) {
				if strings.HasPrefix(w, "DELETE") {
					t.Errorf("sent %s, want no delete", w)
				}
			}
		})
	}
}
