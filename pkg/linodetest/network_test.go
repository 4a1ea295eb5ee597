package linodetest

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/linode/linodego"
)

func TestFirewallCRUD(t *testing.T) {
	t.Parallel()
	srv, client, clk := newManual(t)
	ctx := t.Context()
	c := mustCluster(t, client, "fw-nodes", 2)
	clk.Advance(instanceMax) // the nodes' Linodes exist
	pools, _ := client.ListLKENodePools(ctx, c.ID, nil)
	inst := pools[0].Linodes[0].InstanceID

	fw, err := client.CreateFirewall(ctx, linodego.FirewallCreateOptions{
		Label: "fw-prod", Rules: standardRules(), Tags: []string{"prod"},
		Devices: linodego.DevicesCreationOptions{Linodes: []int{inst}},
	})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if fw.Status != linodego.FirewallEnabled || fw.Rules.Version != 1 || fw.Rules.Fingerprint == "" || len(fw.Entities) != 1 || fw.Entities[0].ID != inst {
		t.Fatalf("created = %+v", fw)
	}

	rules := standardRules()
	rules.Outbound = []linodego.FirewallRule{{Action: "DROP", Label: "no-smtp", Protocol: linodego.TCP, Ports: "25", Addresses: linodego.NetworkAddresses{IPv4: &[]string{"0.0.0.0/0"}}}}
	rs, err := client.UpdateFirewallRules(ctx, fw.ID, rules)
	if err != nil || rs.Version != 2 || len(rs.Outbound) != 1 || rs.Fingerprint == fw.Rules.Fingerprint {
		t.Fatalf("update rules = %+v, %v", rs, err)
	}
	got, err := client.GetFirewallRules(ctx, fw.ID)
	if err != nil || got.Outbound[0].Ports != "25" || *got.Inbound[0].Addresses.IPv6 == nil {
		t.Fatalf("get rules = %+v, %v", got, err)
	}

	up, err := client.UpdateFirewall(ctx, fw.ID, linodego.FirewallUpdateOptions{Label: "fw-prod-2", Status: linodego.FirewallDisabled, Tags: &[]string{}})
	if err != nil || up.Label != "fw-prod-2" || up.Status != linodego.FirewallDisabled || len(up.Tags) != 0 {
		t.Fatalf("update = %+v, %v", up, err)
	}

	devs, err := client.ListFirewallDevices(ctx, fw.ID, nil)
	if err != nil || len(devs) != 1 || devs[0].Entity.Type != linodego.FirewallDeviceLinode {
		t.Fatalf("devices = %+v, %v", devs, err)
	}
	d2, err := client.CreateFirewallDevice(ctx, fw.ID, linodego.FirewallDeviceCreateOptions{ID: pools[0].Linodes[1].InstanceID, Type: linodego.FirewallDeviceLinode})
	if err != nil {
		t.Fatal(err)
	}
	_, err = client.CreateFirewallDevice(ctx, fw.ID, linodego.FirewallDeviceCreateOptions{ID: pools[0].Linodes[1].InstanceID, Type: linodego.FirewallDeviceLinode})
	wantAPIError(t, err, http.StatusBadRequest)
	_, err = client.CreateFirewallDevice(ctx, fw.ID, linodego.FirewallDeviceCreateOptions{ID: 424242, Type: linodego.FirewallDeviceLinode})
	wantAPIError(t, err, http.StatusBadRequest)
	if d, err := client.GetFirewallDevice(ctx, fw.ID, d2.ID); err != nil || d.Entity.ID != pools[0].Linodes[1].InstanceID {
		t.Fatalf("get device = %+v, %v", d, err)
	}
	if err := client.DeleteFirewallDevice(ctx, fw.ID, d2.ID); err != nil {
		t.Fatal(err)
	}
	_, err = client.GetFirewallDevice(ctx, fw.ID, d2.ID)
	wantAPIError(t, err, http.StatusNotFound)

	// Deleting the cluster deletes its Linodes, which leave the firewall.
	if err := client.DeleteLKECluster(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if devs, _ := client.ListFirewallDevices(ctx, fw.ID, nil); len(devs) != 0 {
		t.Errorf("devices after the cluster's deletion = %+v", devs)
	}

	if err := client.DeleteFirewall(ctx, fw.ID); err != nil {
		t.Fatal(err)
	}
	_, err = client.GetFirewall(ctx, fw.ID)
	wantAPIError(t, err, http.StatusNotFound)

	var actions []string
	for _, e := range srv.Dump().Events {
		if e.EntityType == "firewall" {
			actions = append(actions, e.Action)
		}
	}
	want := []string{"firewall_create", "firewall_update", "firewall_disable", "firewall_device_add", "firewall_device_remove", "firewall_delete"}
	for _, w := range want {
		if !slices.Contains(actions, w) {
			t.Errorf("no %s event in %v", w, actions)
		}
	}
}

func TestFirewallValidation(t *testing.T) {
	t.Parallel()
	_, client, _ := newManual(t)
	if _, err := client.CreateFirewall(t.Context(), linodego.FirewallCreateOptions{Label: "taken", Rules: standardRules()}); err != nil {
		t.Fatal(err)
	}
	rule := func(mut func(r *linodego.FirewallRule)) linodego.FirewallRuleSet {
		rs := standardRules()
		mut(&rs.Inbound[0])
		return rs
	}
	many := standardRules()
	for len(many.Inbound) < MaxFirewallRules+1 {
		many.Inbound = append(many.Inbound, many.Inbound[0])
	}
	addrs := make([]string, MaxRuleAddresses+1)
	for i := range addrs {
		addrs[i] = fmt.Sprintf("10.%d.%d.1", i/250, i%250)
	}
	for _, tc := range []struct {
		name  string
		label string
		rules linodego.FirewallRuleSet
		field string
	}{
		{"label too short", "ab", standardRules(), "label"},
		{"label too long", strings.Repeat("a", 33), standardRules(), "label"},
		{"label starts with digit", "1abc", standardRules(), "label"},
		{"label with --", "ab--cd", standardRules(), "label"},
		{"label with space", "ab cd", standardRules(), "label"},
		{"duplicate label", "taken", standardRules(), "label"},
		{"missing policy", "fw-a", linodego.FirewallRuleSet{OutboundPolicy: "ACCEPT"}, "rules.inbound_policy"},
		{"bad protocol", "fw-b", rule(func(r *linodego.FirewallRule) { r.Protocol = "SCTP" }), "rules.inbound[0].protocol"},
		{"bad action", "fw-c", rule(func(r *linodego.FirewallRule) { r.Action = "ALLOW" }), "rules.inbound[0].action"},
		{"bad ports", "fw-d", rule(func(r *linodego.FirewallRule) { r.Ports = "99999" }), "rules.inbound[0].ports"},
		{"ports on ICMP", "fw-e", rule(func(r *linodego.FirewallRule) { r.Protocol = linodego.ICMP }), "rules.inbound[0].ports"},
		{"bad address", "fw-f", rule(func(r *linodego.FirewallRule) { r.Addresses.IPv4 = &[]string{"10.0.0.300/8"} }), "rules.inbound[0].addresses.ipv4[0]"},
		{"v6 in v4", "fw-g", rule(func(r *linodego.FirewallRule) { r.Addresses.IPv4 = &[]string{"::/0"} }), "rules.inbound[0].addresses.ipv4[0]"},
		{"no addresses", "fw-h", rule(func(r *linodego.FirewallRule) { r.Addresses = linodego.NetworkAddresses{} }), "rules.inbound[0].addresses"},
		{"too many addresses", "fw-i", rule(func(r *linodego.FirewallRule) { r.Addresses = linodego.NetworkAddresses{IPv4: &addrs} }), "rules.inbound[0].addresses"},
		{"too many rules", "fw-j", many, "rules"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := client.CreateFirewall(t.Context(), linodego.FirewallCreateOptions{Label: tc.label, Rules: tc.rules})
			lerr := wantAPIError(t, err, http.StatusBadRequest)
			if !hasField(lerr, tc.field) {
				t.Errorf("error %q does not name field %q", lerr.Message, tc.field)
			}
		})
	}
	for _, l := range []string{"abc", "a.b_c-d", "Prod-Firewall.01", strings.Repeat("a", 32)} {
		if !validFirewallLabel(l) {
			t.Errorf("valid label %q rejected", l)
		}
	}
}

// itoa3 formats 0–999 with three digits.
func itoa3(i int) string { return fmt.Sprintf("%03d", i) }

func TestVPCCRUD(t *testing.T) {
	t.Parallel()
	srv, client, _ := newManual(t)
	ctx := t.Context()
	v, err := client.CreateVPC(ctx, linodego.VPCCreateOptions{
		Label: "prod-vpc", Region: "us-ord", Description: "production",
		Subnets: []linodego.VPCSubnetCreateOptions{{Label: "nodes", IPv4: "10.0.0.0/24"}},
	})
	if err != nil || len(v.Subnets) != 1 || v.Subnets[0].IPv4 != "10.0.0.0/24" || v.Region != "us-ord" {
		t.Fatalf("create = %+v, %v", v, err)
	}
	sn, err := client.CreateVPCSubnet(ctx, linodego.VPCSubnetCreateOptions{Label: "db", IPv4: "10.0.1.0/24"}, v.ID)
	if err != nil || sn.Label != "db" {
		t.Fatalf("create subnet = %+v, %v", sn, err)
	}
	_, err = client.CreateVPCSubnet(ctx, linodego.VPCSubnetCreateOptions{Label: "overlap", IPv4: "10.0.1.128/25"}, v.ID)
	if lerr := wantAPIError(t, err, http.StatusBadRequest); !hasField(lerr, "ipv4") {
		t.Errorf("overlap error = %q", lerr.Message)
	}
	subs, err := client.ListVPCSubnets(ctx, v.ID, nil)
	if err != nil || len(subs) != 2 {
		t.Fatalf("subnets = %+v, %v", subs, err)
	}
	if s, err := client.UpdateVPCSubnet(ctx, v.ID, sn.ID, linodego.VPCSubnetUpdateOptions{Label: "db-2"}); err != nil || s.Label != "db-2" {
		t.Fatalf("update subnet = %+v, %v", s, err)
	}
	if s, err := client.GetVPCSubnet(ctx, v.ID, sn.ID); err != nil || s.Label != "db-2" {
		t.Fatalf("get subnet = %+v, %v", s, err)
	}
	if got, err := client.UpdateVPC(ctx, v.ID, linodego.VPCUpdateOptions{Label: "prod-vpc-2", Description: "d"}); err != nil || got.Label != "prod-vpc-2" {
		t.Fatalf("update = %+v, %v", got, err)
	}
	if got, err := client.GetVPC(ctx, v.ID); err != nil || got.Description != "d" || len(got.Subnets) != 2 {
		t.Fatalf("get = %+v, %v", got, err)
	}
	if ips, err := client.ListAllVPCIPAddresses(ctx, nil); err != nil || len(ips) != 0 {
		t.Fatalf("vpc ips = %+v, %v", ips, err)
	}
	if err := client.DeleteVPCSubnet(ctx, v.ID, sn.ID); err != nil {
		t.Fatal(err)
	}
	_, err = client.GetVPCSubnet(ctx, v.ID, sn.ID)
	wantAPIError(t, err, http.StatusNotFound)
	if err := client.DeleteVPC(ctx, v.ID); err != nil {
		t.Fatal(err)
	}
	_, err = client.GetVPC(ctx, v.ID)
	wantAPIError(t, err, http.StatusNotFound)
	if n := len(srv.Dump().VPCs); n != 0 {
		t.Errorf("VPCs left: %d", n)
	}
}

func TestVPCValidation(t *testing.T) {
	t.Parallel()
	_, client, _ := newManual(t)
	if _, err := client.CreateVPC(t.Context(), linodego.VPCCreateOptions{Label: "taken", Region: "us-ord"}); err != nil {
		t.Fatal(err)
	}
	sub := func(ranges ...string) []linodego.VPCSubnetCreateOptions {
		var out []linodego.VPCSubnetCreateOptions
		for i, r := range ranges {
			out = append(out, linodego.VPCSubnetCreateOptions{Label: "s" + itoa3(i), IPv4: r})
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		opts  linodego.VPCCreateOptions
		field string
	}{
		{"long label", linodego.VPCCreateOptions{Label: strings.Repeat("v", 65), Region: "us-ord"}, "label"},
		{"bad label", linodego.VPCCreateOptions{Label: "my vpc", Region: "us-ord"}, "label"},
		{"duplicate label", linodego.VPCCreateOptions{Label: "taken", Region: "us-ord"}, "label"},
		{"no region", linodego.VPCCreateOptions{Label: "a"}, "region"},
		{"unknown region", linodego.VPCCreateOptions{Label: "a", Region: "nowhere"}, "region"},
		{"public range", linodego.VPCCreateOptions{Label: "a", Region: "us-ord", Subnets: sub("8.8.8.0/24")}, "subnets[0].ipv4"},
		{"not a network", linodego.VPCCreateOptions{Label: "a", Region: "us-ord", Subnets: sub("10.0.0.1/24")}, "subnets[0].ipv4"},
		{"too small", linodego.VPCCreateOptions{Label: "a", Region: "us-ord", Subnets: sub("10.0.0.0/30")}, "subnets[0].ipv4"},
		{"overlapping", linodego.VPCCreateOptions{Label: "a", Region: "us-ord", Subnets: sub("10.0.0.0/16", "10.0.5.0/24")}, "subnets[1].ipv4"},
		{"long subnet label", linodego.VPCCreateOptions{Label: "a", Region: "us-ord", Subnets: []linodego.VPCSubnetCreateOptions{{Label: strings.Repeat("s", 65), IPv4: "10.0.0.0/24"}}}, "subnets[0].label"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := client.CreateVPC(t.Context(), tc.opts)
			lerr := wantAPIError(t, err, http.StatusBadRequest)
			if !hasField(lerr, tc.field) {
				t.Errorf("error %q does not name field %q", lerr.Message, tc.field)
			}
		})
	}
}

func TestLKEClusterInVPC(t *testing.T) {
	t.Parallel()
	_, client, _ := newManual(t)
	ctx := t.Context()
	v, err := client.CreateVPC(ctx, linodego.VPCCreateOptions{Label: "lke", Region: "us-ord", Subnets: []linodego.VPCSubnetCreateOptions{{Label: "nodes", IPv4: "10.1.0.0/16"}}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.CreateLKECluster(ctx, linodego.LKEClusterCreateOptions{
		Label: "in-vpc", Region: "us-ord", K8sVersion: "1.33", VpcID: &v.ID, SubnetID: &v.Subnets[0].ID,
		NodePools: []linodego.LKENodePoolCreateOptions{{Count: 1, Type: "g6-standard-2"}},
	})
	if err != nil || c.VpcID != v.ID || c.SubnetID != v.Subnets[0].ID {
		t.Fatalf("create = %+v, %v", c, err)
	}
	wantAPIError(t, client.DeleteVPC(ctx, v.ID), http.StatusBadRequest)
}

func TestRecycledNodesLeaveTheirFirewall(t *testing.T) {
	t.Parallel()
	_, client, clk := newManual(t)
	ctx := t.Context()
	c := mustCluster(t, client, "fw-recycle", 1)
	clk.Advance(instanceMax) // the node's Linode exists
	pools, _ := client.ListLKENodePools(ctx, c.ID, nil)
	old := pools[0].Linodes[0]
	fw, err := client.CreateFirewall(ctx, linodego.FirewallCreateOptions{Label: "fw-rc", Rules: standardRules(),
		Devices: linodego.DevicesCreationOptions{Linodes: []int{old.InstanceID}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := client.RecycleLKENodePoolNode(ctx, c.ID, old.ID); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Second)
	if devs, _ := client.ListFirewallDevices(ctx, fw.ID, nil); len(devs) != 0 {
		t.Errorf("the replaced node is still a device: %+v", devs)
	}
	p, _ := client.GetLKENodePool(ctx, c.ID, pools[0].ID)
	if p.Linodes[0].ID == old.ID || p.Linodes[0].InstanceID == old.InstanceID {
		t.Errorf("node not replaced: %+v", p.Linodes)
	}
}

// TestSubnetListsClusterNodes places an LKE cluster in a VPC subnet and
// checks that the subnet lists the Linodes behind the cluster's nodes, as
// the API does, and follows the pool as it grows.
func TestSubnetListsClusterNodes(t *testing.T) {
	t.Parallel()
	srv, client := New(t)
	ctx := t.Context()
	vpc, err := client.CreateVPC(ctx, linodego.VPCCreateOptions{
		Label: "v", Region: "us-ord",
		Subnets: []linodego.VPCSubnetCreateOptions{{Label: "nodes", IPv4: "10.0.0.0/24"}, {Label: "empty", IPv4: "10.0.1.0/24"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	subnet := vpc.Subnets[0].ID
	c, err := client.CreateLKECluster(ctx, linodego.LKEClusterCreateOptions{
		Label: "in-vpc", Region: "us-ord", K8sVersion: "1.33", VpcID: &vpc.ID, SubnetID: &subnet,
		NodePools: []linodego.LKENodePoolCreateOptions{{Count: 2, Type: "g6-standard-2"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	instances := func() []int {
		var ids []int
		for _, sc := range srv.Dump().Clusters {
			if sc.ID == c.ID {
				for _, p := range sc.Pools {
					for _, n := range p.Nodes {
						ids = append(ids, n.InstanceID)
					}
				}
			}
		}
		return ids
	}
	listed := func(id int) []int {
		sn, err := client.GetVPCSubnet(ctx, vpc.ID, id)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int
		for _, l := range sn.Linodes {
			if len(l.Interfaces) != 1 || !l.Interfaces[0].Active {
				t.Errorf("linode %d interfaces %+v", l.ID, l.Interfaces)
			}
			ids = append(ids, l.ID)
		}
		return ids
	}
	if got, want := listed(subnet), instances(); len(want) != 2 || !slices.Equal(got, want) {
		t.Errorf("subnet lists %v, want the cluster's instances %v", got, want)
	}
	if got := listed(vpc.Subnets[1].ID); len(got) != 0 {
		t.Errorf("empty subnet lists %v", got)
	}
	pools, err := client.ListLKENodePools(ctx, c.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.UpdateLKENodePool(ctx, c.ID, pools[0].ID, linodego.LKENodePoolUpdateOptions{Count: 3}); err != nil {
		t.Fatal(err)
	}
	if got, want := listed(subnet), instances(); len(want) != 3 || !slices.Equal(got, want) {
		t.Errorf("after growing the pool the subnet lists %v, want %v", got, want)
	}
}

// TestPoolFirewallAttachesNodes checks that a pool's firewall_id attaches
// its nodes to that firewall, moves them when it changes, and follows
// recycled nodes, as LKE does.
func TestPoolFirewallAttachesNodes(t *testing.T) {
	t.Parallel()
	_, client, clk := newManual(t)
	ctx := t.Context()
	mk := func(label string) *linodego.Firewall {
		fw, err := client.CreateFirewall(ctx, linodego.FirewallCreateOptions{Label: label, Rules: standardRules()})
		if err != nil {
			t.Fatal(err)
		}
		return fw
	}
	a, b := mk("fw-a"), mk("fw-b")
	c, err := client.CreateLKECluster(ctx, linodego.LKEClusterCreateOptions{
		Label: "attached", Region: "us-ord", K8sVersion: "1.33",
		NodePools: []linodego.LKENodePoolCreateOptions{{Count: 2, Type: "g6-standard-2", FirewallID: &a.ID}},
	})
	if err != nil {
		t.Fatal(err)
	}
	nodes := func() []int {
		pools, err := client.ListLKENodePools(ctx, c.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int
		for _, n := range pools[0].Linodes {
			ids = append(ids, n.InstanceID)
		}
		slices.Sort(ids)
		return ids
	}
	devices := func(fw *linodego.Firewall) []int {
		ds, err := client.ListFirewallDevices(ctx, fw.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int
		for _, d := range ds {
			if d.Entity.Type != linodego.FirewallDeviceLinode {
				t.Errorf("device %d is a %s", d.ID, d.Entity.Type)
			}
			ids = append(ids, d.Entity.ID)
		}
		slices.Sort(ids)
		return ids
	}
	if got := devices(a); len(got) != 0 {
		t.Fatalf("firewall a devices %v before the nodes' Linodes exist, want none", got)
	}
	clk.Advance(instanceMax) // the nodes' Linodes exist and join the pool's firewall
	if got, want := devices(a), nodes(); len(want) != 2 || !slices.Equal(got, want) {
		t.Fatalf("firewall a devices %v, want the pool's nodes %v", got, want)
	}
	pools, _ := client.ListLKENodePools(ctx, c.ID, nil)
	if _, err := client.UpdateLKENodePool(ctx, c.ID, pools[0].ID, linodego.LKENodePoolUpdateOptions{FirewallID: &b.ID}); err != nil {
		t.Fatal(err)
	}
	if got := devices(a); len(got) != 0 {
		t.Errorf("firewall a still holds %v after the pool moved", got)
	}
	if got, want := devices(b), nodes(); !slices.Equal(got, want) {
		t.Errorf("firewall b devices %v, want %v", got, want)
	}
	before := nodes()
	if err := client.RecycleLKENodePool(ctx, c.ID, pools[0].ID); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour) // every node replaced, one after another
	after := nodes()
	if slices.Equal(before, after) {
		t.Fatalf("recycle replaced no node: %v", after)
	}
	if got := devices(b); !slices.Equal(got, after) {
		t.Errorf("after recycling firewall b devices %v, want the new nodes %v", got, after)
	}
}
