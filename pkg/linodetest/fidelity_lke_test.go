package linodetest

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/linode/linodego"
	"k8s.io/client-go/tools/clientcmd"
)

// object decodes a raw JSON object answer, failing the test on a non-200.
func (r rawResponse) object(t *testing.T) map[string]any {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
	return m
}

// TestACLAddressesNormalisedToCIDR: the API stores control-plane ACL
// addresses in CIDR notation, on cluster create and on the ACL endpoint.
func TestACLAddressesNormalisedToCIDR(t *testing.T) {
	t.Parallel()
	_, client, _ := newManual(t)
	ctx := t.Context()
	on := true
	c, err := client.CreateLKECluster(ctx, linodego.LKEClusterCreateOptions{
		Label: "acl-create", Region: "us-ord", K8sVersion: "1.33",
		NodePools: []linodego.LKENodePoolCreateOptions{{Count: 1, Type: "g6-standard-2"}},
		ControlPlane: &linodego.LKEClusterControlPlaneOptions{ACL: &linodego.LKEClusterControlPlaneACLOptions{
			Enabled: &on,
			Addresses: &linodego.LKEClusterControlPlaneACLAddressesOptions{
				IPv4: &[]string{"192.0.2.1", "198.51.100.0/24"}, IPv6: &[]string{"1234::5678"},
			},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	acl, err := client.GetLKEClusterControlPlaneACL(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := acl.ACL.Addresses; !slices.Equal(got.IPv4, []string{"192.0.2.1/32", "198.51.100.0/24"}) || !slices.Equal(got.IPv6, []string{"1234::5678/128"}) {
		t.Errorf("after create: ACL addresses %+v, want CIDRs", got)
	}

	up, err := client.UpdateLKEClusterControlPlaneACL(ctx, c.ID, linodego.LKEClusterControlPlaneACLUpdateOptions{
		ACL: linodego.LKEClusterControlPlaneACLOptions{Enabled: &on, Addresses: &linodego.LKEClusterControlPlaneACLAddressesOptions{
			IPv4: &[]string{"203.0.113.7"}, IPv6: &[]string{"2001:db8::1", "2001:db8:1::/48"},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := up.ACL.Addresses; !slices.Equal(got.IPv4, []string{"203.0.113.7/32"}) || !slices.Equal(got.IPv6, []string{"2001:db8::1/128", "2001:db8:1::/48"}) {
		t.Errorf("PUT answer: ACL addresses %+v, want CIDRs", got)
	}
	if up.ACL.RevisionID == "" {
		t.Error("an updated ACL has no revision-id")
	}
}

// TestDeletedACLHasNoRevisionID: a deleted ACL reads back disabled, empty
// and without a revision-id member at all.
func TestDeletedACLHasNoRevisionID(t *testing.T) {
	t.Parallel()
	srv, client, _ := newManual(t)
	c := mustCluster(t, client, "acl-delete", 1)
	on := true
	if _, err := client.UpdateLKEClusterControlPlaneACL(t.Context(), c.ID, linodego.LKEClusterControlPlaneACLUpdateOptions{
		ACL: linodego.LKEClusterControlPlaneACLOptions{Enabled: &on, Addresses: &linodego.LKEClusterControlPlaneACLAddressesOptions{IPv4: &[]string{"192.0.2.1"}}},
	}); err != nil {
		t.Fatal(err)
	}
	path := fmt.Sprintf("/v4beta/lke/clusters/%d/control_plane_acl", c.ID)
	before := do(t, srv, "GET", path, nil, nil).object(t)["acl"].(map[string]any)
	if _, ok := before["revision-id"]; !ok {
		t.Fatalf("an enabled ACL has no revision-id: %v", before)
	}
	if err := client.DeleteLKEClusterControlPlaneACL(t.Context(), c.ID); err != nil {
		t.Fatal(err)
	}
	after := do(t, srv, "GET", path, nil, nil).object(t)["acl"].(map[string]any)
	if _, ok := after["revision-id"]; ok || after["enabled"] != false {
		t.Errorf("deleted ACL = %v, want disabled and no revision-id", after)
	}
}

// TestPoolListedAsOnItsOwn: a pool's list item carries exactly what GET of
// the pool carries, firewall_id included (the Terraform provider pairs
// listed pools by it).
func TestPoolListedAsOnItsOwn(t *testing.T) {
	t.Parallel()
	srv, client, clk := newManual(t)
	ctx := t.Context()
	fw, err := client.CreateFirewall(ctx, linodego.FirewallCreateOptions{Label: "pool-fw", Rules: standardRules()})
	if err != nil {
		t.Fatal(err)
	}
	for _, tier := range []struct{ name, tier, version string }{
		{"standard", "standard", "1.33"},
		{"enterprise", "enterprise", "v1.33.4+lke1"},
	} {
		c, err := client.CreateLKECluster(ctx, linodego.LKEClusterCreateOptions{
			Label: "pools-" + tier.name, Region: "us-ord", K8sVersion: tier.version, Tier: tier.tier,
			NodePools: []linodego.LKENodePoolCreateOptions{
				{Count: 2, Type: "g6-standard-2", FirewallID: &fw.ID},
				{Count: 1, Type: "g6-standard-4"},
			},
		})
		if err != nil {
			t.Fatalf("%s: %v", tier.name, err)
		}
		clk.Advance(instanceMax)
		list := do(t, srv, "GET", fmt.Sprintf("/v4beta/lke/clusters/%d/pools", c.ID), nil, nil).object(t)["data"].([]any)
		if len(list) != 2 {
			t.Fatalf("%s: %d pools listed", tier.name, len(list))
		}
		for _, item := range list {
			id := int(item.(map[string]any)["id"].(float64))
			one := do(t, srv, "GET", fmt.Sprintf("/v4beta/lke/clusters/%d/pools/%d", c.ID, id), nil, nil).object(t)
			a, _ := json.Marshal(item)
			b, _ := json.Marshal(one)
			if string(a) != string(b) {
				t.Errorf("%s: pool %d listed as\n%s\nbut reads as\n%s", tier.name, id, a, b)
			}
			_, hasVersion := one["k8s_version"]
			_, hasStrategy := one["update_strategy"]
			if want := tier.tier == "enterprise"; hasVersion != want || hasStrategy != want {
				t.Errorf("%s: pool %d has k8s_version %v, update_strategy %v; want both %v", tier.name, id, hasVersion, hasStrategy, want)
			}
		}
		pools, err := client.ListLKENodePools(ctx, c.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		if pools[0].FirewallID == nil || *pools[0].FirewallID != fw.ID || pools[1].FirewallID != nil {
			t.Errorf("%s: listed firewall ids %v, %v; want %d and none", tier.name, pools[0].FirewallID, pools[1].FirewallID, fw.ID)
		}
	}
}

// TestClusterFieldsOnlyWhereTheAPISendsThem: stack_type, subnet_id and
// vpc_id are absent for a standard cluster outside a VPC.
func TestClusterFieldsOnlyWhereTheAPISendsThem(t *testing.T) {
	t.Parallel()
	srv, client, _ := newManual(t)
	ctx := t.Context()
	vpc, err := client.CreateVPC(ctx, linodego.VPCCreateOptions{Label: "fields", Region: "us-ord",
		Subnets: []linodego.VPCSubnetCreateOptions{{Label: "nodes", IPv4: "10.0.0.0/24"}}})
	if err != nil {
		t.Fatal(err)
	}
	pools := []linodego.LKENodePoolCreateOptions{{Count: 1, Type: "g6-standard-2"}}
	cases := []struct {
		name string
		opts linodego.LKEClusterCreateOptions
		want []string // of stack_type, subnet_id, vpc_id
	}{
		{"standard", linodego.LKEClusterCreateOptions{Label: "f-standard", K8sVersion: "1.33"}, nil},
		{"enterprise", linodego.LKEClusterCreateOptions{Label: "f-enterprise", K8sVersion: "v1.33.4+lke1", Tier: "enterprise"}, []string{"stack_type"}},
		{"in a VPC", linodego.LKEClusterCreateOptions{Label: "f-vpc", K8sVersion: "1.33", VpcID: &vpc.ID, SubnetID: &vpc.Subnets[0].ID}, []string{"stack_type", "subnet_id", "vpc_id"}},
	}
	for _, tc := range cases {
		tc.opts.Region, tc.opts.NodePools = "us-ord", pools
		c, err := client.CreateLKECluster(ctx, tc.opts)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got := do(t, srv, "GET", fmt.Sprintf("/v4beta/lke/clusters/%d", c.ID), nil, nil).object(t)
		var have []string
		for _, f := range []string{"stack_type", "subnet_id", "vpc_id"} {
			if _, ok := got[f]; ok {
				have = append(have, f)
			}
		}
		if !slices.Equal(have, tc.want) {
			t.Errorf("%s: cluster carries %v, want %v", tc.name, have, tc.want)
		}
	}
}

// TestKubeconfigLoadsInClientGo: the kubeconfig holds a real, parseable CA,
// the same on every read, so client-go builds a config from it.
func TestKubeconfigLoadsInClientGo(t *testing.T) {
	t.Parallel()
	srv, client, _ := newManual(t)
	c := mustCluster(t, client, "kubeconfig-ca", 1)
	if err := srv.MarkClusterReady(c.ID); err != nil {
		t.Fatal(err)
	}
	read := func() []byte {
		kc, err := client.GetLKEClusterKubeconfig(t.Context(), c.ID)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := base64.StdEncoding.DecodeString(kc.KubeConfig)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	raw := read()
	cfg, err := clientcmd.RESTConfigFromKubeConfig(raw)
	if err != nil {
		t.Fatalf("client-go cannot load the kubeconfig: %v", err)
	}
	block, _ := pem.Decode(cfg.TLSClientConfig.CAData)
	if block == nil {
		t.Fatalf("CA data is not PEM: %q", cfg.TLSClientConfig.CAData)
	}
	ca, err := x509.ParseCertificate(block.Bytes)
	if err != nil || !ca.IsCA {
		t.Fatalf("CA certificate: %v (IsCA %v)", err, ca != nil && ca.IsCA)
	}
	if cfg.BearerToken == "" {
		t.Error("no bearer token")
	}
	again, err := clientcmd.RESTConfigFromKubeConfig(read())
	if err != nil || string(again.TLSClientConfig.CAData) != string(cfg.TLSClientConfig.CAData) {
		t.Errorf("the CA changed between two reads (err %v)", err)
	}
	other := mustCluster(t, client, "kubeconfig-ca-2", 1)
	if err := srv.MarkClusterReady(other.ID); err != nil {
		t.Fatal(err)
	}
	kc, err := client.GetLKEClusterKubeconfig(t.Context(), other.ID)
	if err != nil {
		t.Fatal(err)
	}
	raw2, _ := base64.StdEncoding.DecodeString(kc.KubeConfig)
	cfg2, err := clientcmd.RESTConfigFromKubeConfig(raw2)
	if err != nil || string(cfg2.TLSClientConfig.CAData) == string(cfg.TLSClientConfig.CAData) {
		t.Errorf("two clusters share a CA (err %v)", err)
	}
}

// TestLifecycleAsTheAPIShowsIt covers what a new cluster and pool look like.
func TestLifecycleAsTheAPIShowsIt(t *testing.T) {
	t.Parallel()
	srv, client, clk := newManual(t)
	ctx := t.Context()

	t.Run("status ready in the create response, locks empty", func(t *testing.T) {
		c := mustCluster(t, client, "life-status", 1)
		if c.Status != linodego.LKEClusterReady {
			t.Errorf("create status = %s", c.Status)
		}
		got := do(t, srv, "GET", fmt.Sprintf("/v4beta/lke/clusters/%d", c.ID), nil, nil).object(t)
		if locks, ok := got["locks"].([]any); !ok || len(locks) != 0 {
			t.Errorf("locks = %#v, want []", got["locks"])
		}
	})

	t.Run("instance_id null until the Linode exists, label empty string", func(t *testing.T) {
		c := mustCluster(t, client, "life-nodes", 2)
		path := fmt.Sprintf("/v4beta/lke/clusters/%d/pools", c.ID)
		pool := do(t, srv, "GET", path, nil, nil).object(t)["data"].([]any)[0].(map[string]any)
		if pool["label"] != "" {
			t.Errorf("label = %#v, want \"\"", pool["label"])
		}
		for _, n := range pool["nodes"].([]any) {
			if id := n.(map[string]any)["instance_id"]; id != nil {
				t.Errorf("instance_id = %v right after create, want null", id)
			}
		}
		clk.Advance(instanceMax)
		pool = do(t, srv, "GET", path, nil, nil).object(t)["data"].([]any)[0].(map[string]any)
		for _, n := range pool["nodes"].([]any) {
			if id, ok := n.(map[string]any)["instance_id"].(float64); !ok || id == 0 {
				t.Errorf("instance_id = %v once the Linode exists", n.(map[string]any)["instance_id"])
			}
		}
	})

	t.Run("apl_enabled forces an HA control plane", func(t *testing.T) {
		c, err := client.CreateLKECluster(ctx, linodego.LKEClusterCreateOptions{
			Label: "life-apl", Region: "us-ord", K8sVersion: "1.33", APLEnabled: true,
			NodePools: []linodego.LKENodePoolCreateOptions{{Count: 3, Type: "g6-standard-4"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if !c.APLEnabled || !c.ControlPlane.HighAvailability {
			t.Errorf("apl_enabled %v, high_availability %v; want both true", c.APLEnabled, c.ControlPlane.HighAvailability)
		}
	})

	t.Run("disk_encryption follows the region's default", func(t *testing.T) {
		regions, err := client.ListRegions(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, r := range regions {
			if !slices.Contains(r.Capabilities, "Kubernetes") {
				continue
			}
			want := linodego.InstanceDiskEncryptionDisabled
			if slices.Contains(r.Capabilities, "Disk Encryption") || slices.Contains(r.Capabilities, "LA Disk Encryption") {
				want = linodego.InstanceDiskEncryptionEnabled
			}
			if seen[string(want)] {
				continue
			}
			seen[string(want)] = true
			c, err := client.CreateLKECluster(ctx, linodego.LKEClusterCreateOptions{
				Label: "life-lde-" + string(want), Region: r.ID, K8sVersion: "1.33",
				NodePools: []linodego.LKENodePoolCreateOptions{{Count: 1, Type: "g6-standard-2"}},
			})
			if err != nil {
				t.Fatalf("create in %s: %v", r.ID, err)
			}
			pools, err := client.ListLKENodePools(ctx, c.ID, nil)
			if err != nil {
				t.Fatal(err)
			}
			if pools[0].DiskEncryption != want {
				t.Errorf("pool in %s (capabilities %v): disk_encryption %s, want %s", r.ID, r.Capabilities, pools[0].DiskEncryption, want)
			}
		}
		if !seen[string(linodego.InstanceDiskEncryptionEnabled)] {
			t.Error("no region with disk encryption to test the default in")
		}
	})
}

// TestVersionRefusedInTheAPIsWords: a version the API does not offer is
// refused with the reason clients quote ("k8s_version is not valid", as in
// linode-cli's own tests), on the field k8s_version.
func TestVersionRefusedInTheAPIsWords(t *testing.T) {
	t.Parallel()
	srv, _, _ := newManual(t)
	for _, tc := range []struct {
		name string
		body map[string]any
	}{
		{"retired standard version", map[string]any{"label": "v-old", "region": "us-ord", "k8s_version": "1.28",
			"node_pools": []any{map[string]any{"type": "g6-standard-2", "count": 1}}}},
		{"unknown version", map[string]any{"label": "v-unknown", "region": "us-ord", "k8s_version": "9.99",
			"node_pools": []any{map[string]any{"type": "g6-standard-2", "count": 1}}}},
	} {
		resp := do(t, srv, "POST", "/v4beta/lke/clusters", tc.body, nil)
		errs := resp.errors(t)
		if resp.status != http.StatusBadRequest || len(errs) != 1 || errs[0].Field != "k8s_version" || errs[0].Reason != "k8s_version is not valid" {
			t.Errorf("%s: %d %+v; want 400 [k8s_version] k8s_version is not valid", tc.name, resp.status, errs)
		}
	}
}
