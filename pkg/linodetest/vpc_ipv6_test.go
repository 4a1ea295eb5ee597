package linodetest

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/linode/linodego"
)

const vpcLabelReason = "Label must include only ASCII letters, numbers, and dashes"

// wantFieldReason asserts a 400 whose errors include reason on field.
func wantFieldReason(t *testing.T, err error, field, reason string) {
	t.Helper()
	lerr := wantAPIError(t, err, http.StatusBadRequest)
	if !hasField(lerr, field) {
		t.Fatalf("error %q names no field %q", lerr.Message, field)
	}
	if reason != "" && !strings.Contains(lerr.Message, "["+field+"] "+reason) {
		t.Fatalf("error %q, want [%s] %s", lerr.Message, field, reason)
	}
}

func TestVPCLabelsRefusedWithTheAPIsReason(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		field string
		call  func(t *testing.T, client *linodego.Client, vpcID, subnetID int) error
	}{
		{"create VPC", "label", func(t *testing.T, c *linodego.Client, _, _ int) error {
			_, err := c.CreateVPC(t.Context(), linodego.VPCCreateOptions{Label: "under_score", Region: "us-ord"})
			return err
		}},
		{"create VPC with a bad subnet", "subnets[0].label", func(t *testing.T, c *linodego.Client, _, _ int) error {
			_, err := c.CreateVPC(t.Context(), linodego.VPCCreateOptions{Label: "fine", Region: "us-ord",
				Subnets: []linodego.VPCSubnetCreateOptions{{Label: "has space", IPv4: "10.0.0.0/24"}}})
			return err
		}},
		{"update VPC", "label", func(t *testing.T, c *linodego.Client, vpcID, _ int) error {
			_, err := c.UpdateVPC(t.Context(), vpcID, linodego.VPCUpdateOptions{Label: "dot.ted"})
			return err
		}},
		{"create subnet", "label", func(t *testing.T, c *linodego.Client, vpcID, _ int) error {
			_, err := c.CreateVPCSubnet(t.Context(), linodego.VPCSubnetCreateOptions{Label: "ünïcode", IPv4: "10.0.9.0/24"}, vpcID)
			return err
		}},
		{"update subnet", "label", func(t *testing.T, c *linodego.Client, vpcID, subnetID int) error {
			_, err := c.UpdateVPCSubnet(t.Context(), vpcID, subnetID, linodego.VPCSubnetUpdateOptions{Label: "slash/ed"})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, client := New(t)
			v, err := client.CreateVPC(t.Context(), linodego.VPCCreateOptions{Label: "base", Region: "us-ord",
				Subnets: []linodego.VPCSubnetCreateOptions{{Label: "a", IPv4: "10.0.0.0/24"}}})
			if err != nil {
				t.Fatal(err)
			}
			wantFieldReason(t, tt.call(t, client, v.ID, v.Subnets[0].ID), tt.field, vpcLabelReason)
		})
	}
}

var docPrefix = netip.MustParsePrefix("2001:db8::/32")

func TestVPCIPv6RangesAreAllocated(t *testing.T) {
	t.Parallel()
	_, client := New(t)
	ctx := t.Context()
	a, err := client.CreateVPC(ctx, linodego.VPCCreateOptions{Label: "dual", Region: "us-ord",
		IPv6: []linodego.VPCCreateOptionsIPv6{{Range: ptr("/52")}},
		Subnets: []linodego.VPCSubnetCreateOptions{
			{Label: "auto", IPv4: "10.0.0.0/24", IPv6: []linodego.VPCSubnetCreateOptionsIPv6{{Range: ptr("auto")}}},
			{Label: "v4only", IPv4: "10.0.1.0/24"},
		}})
	if err != nil {
		t.Fatalf("create dual-stack VPC: %v", err)
	}
	if len(a.IPv6) != 1 {
		t.Fatalf("VPC ipv6 = %v, want one range", a.IPv6)
	}
	vpcRange := netip.MustParsePrefix(a.IPv6[0].Range)
	if vpcRange.Bits() != 52 || !docPrefix.Contains(vpcRange.Addr()) {
		t.Errorf("VPC range %s, want a /52 within %s", vpcRange, docPrefix)
	}
	if len(a.Subnets[0].IPv6) != 1 || a.Subnets[1].IPv6 != nil {
		t.Fatalf("subnet ipv6 = %v and %v, want one range and null", a.Subnets[0].IPv6, a.Subnets[1].IPv6)
	}
	first := netip.MustParsePrefix(a.Subnets[0].IPv6[0].Range)
	if first.Bits() != 64 || !vpcRange.Contains(first.Addr()) {
		t.Errorf("subnet range %s, want a /64 within %s", first, vpcRange)
	}

	// Another subnet gets another /64; an explicit free /64 is taken as is.
	sn, err := client.CreateVPCSubnet(ctx, linodego.VPCSubnetCreateOptions{Label: "second", IPv4: "10.0.2.0/24",
		IPv6: []linodego.VPCSubnetCreateOptionsIPv6{{Range: ptr("/64")}}}, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	second := netip.MustParsePrefix(sn.IPv6[0].Range)
	if second.Overlaps(first) || !vpcRange.Contains(second.Addr()) {
		t.Errorf("second subnet range %s, want a free /64 within %s (first is %s)", second, vpcRange, first)
	}
	explicit := netip.PrefixFrom(vpcRange.Addr(), 64)
	for explicit.Overlaps(first) || explicit.Overlaps(second) {
		explicit = nthPrefix(explicit, 64, 1)
	}
	sn3, err := client.CreateVPCSubnet(ctx, linodego.VPCSubnetCreateOptions{Label: "third", IPv4: "10.0.3.0/24",
		IPv6: []linodego.VPCSubnetCreateOptionsIPv6{{Range: ptr(explicit.String())}}}, a.ID)
	if err != nil || sn3.IPv6[0].Range != explicit.String() {
		t.Fatalf("explicit subnet range = %+v (%v), want %s", sn3, err, explicit)
	}

	// A second VPC gets a different /52; the ranges read back.
	b, err := client.CreateVPC(ctx, linodego.VPCCreateOptions{Label: "dual-2", Region: "us-ord", IPv6: []linodego.VPCCreateOptionsIPv6{{}}})
	if err != nil {
		t.Fatal(err)
	}
	if other := netip.MustParsePrefix(b.IPv6[0].Range); other.Overlaps(vpcRange) || other.Bits() != 52 {
		t.Errorf("second VPC range %s overlaps %s or is not a /52", other, vpcRange)
	}
	got, err := client.GetVPC(ctx, a.ID)
	if err != nil || got.IPv6[0].Range != vpcRange.String() || len(got.Subnets) != 4 {
		t.Errorf("read back VPC = %+v (%v)", got, err)
	}
}

func TestVPCIPv6RequestsNotModelledAreRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, field string
		call        func(t *testing.T, srv *Server, c *linodego.Client, dual, plain *linodego.VPC) error
	}{
		{"allocation class", "ipv6[0].allocation_class", func(t *testing.T, _ *Server, c *linodego.Client, _, _ *linodego.VPC) error {
			_, err := c.CreateVPC(t.Context(), linodego.VPCCreateOptions{Label: "x", Region: "us-ord",
				IPv6: []linodego.VPCCreateOptionsIPv6{{AllocationClass: ptr("special")}}})
			return err
		}},
		{"VPC prefix length other than /52", "ipv6[0].range", func(t *testing.T, _ *Server, c *linodego.Client, _, _ *linodego.VPC) error {
			_, err := c.CreateVPC(t.Context(), linodego.VPCCreateOptions{Label: "x", Region: "us-ord",
				IPv6: []linodego.VPCCreateOptionsIPv6{{Range: ptr("/48")}}})
			return err
		}},
		{"VPC range outside the simulated pool", "ipv6[0].range", func(t *testing.T, _ *Server, c *linodego.Client, _, _ *linodego.VPC) error {
			_, err := c.CreateVPC(t.Context(), linodego.VPCCreateOptions{Label: "x", Region: "us-ord",
				IPv6: []linodego.VPCCreateOptionsIPv6{{Range: ptr("2600:3c04:e000:1000::/52")}}})
			return err
		}},
		{"two VPC ranges", "ipv6", func(t *testing.T, _ *Server, c *linodego.Client, _, _ *linodego.VPC) error {
			_, err := c.CreateVPC(t.Context(), linodego.VPCCreateOptions{Label: "x", Region: "us-ord",
				IPv6: []linodego.VPCCreateOptionsIPv6{{}, {}}})
			return err
		}},
		{"subnet range in a VPC without IPv6", "ipv6", func(t *testing.T, _ *Server, c *linodego.Client, _, plain *linodego.VPC) error {
			_, err := c.CreateVPCSubnet(t.Context(), linodego.VPCSubnetCreateOptions{Label: "s", IPv4: "10.0.5.0/24",
				IPv6: []linodego.VPCSubnetCreateOptionsIPv6{{Range: ptr("auto")}}}, plain.ID)
			return err
		}},
		{"subnet range in a new VPC without IPv6", "subnets[0].ipv6", func(t *testing.T, _ *Server, c *linodego.Client, _, _ *linodego.VPC) error {
			_, err := c.CreateVPC(t.Context(), linodego.VPCCreateOptions{Label: "x", Region: "us-ord",
				Subnets: []linodego.VPCSubnetCreateOptions{{Label: "s", IPv4: "10.0.0.0/24", IPv6: []linodego.VPCSubnetCreateOptionsIPv6{{}}}}})
			return err
		}},
		{"subnet prefix length other than /64", "ipv6[0].range", func(t *testing.T, _ *Server, c *linodego.Client, dual, _ *linodego.VPC) error {
			_, err := c.CreateVPCSubnet(t.Context(), linodego.VPCSubnetCreateOptions{Label: "s", IPv4: "10.0.5.0/24",
				IPv6: []linodego.VPCSubnetCreateOptionsIPv6{{Range: ptr("/60")}}}, dual.ID)
			return err
		}},
		{"subnet range outside the VPC's", "ipv6[0].range", func(t *testing.T, _ *Server, c *linodego.Client, dual, _ *linodego.VPC) error {
			_, err := c.CreateVPCSubnet(t.Context(), linodego.VPCSubnetCreateOptions{Label: "s", IPv4: "10.0.5.0/24",
				IPv6: []linodego.VPCSubnetCreateOptionsIPv6{{Range: ptr("2001:db8:ffff:ffff::/64")}}}, dual.ID)
			return err
		}},
		{"subnet range taken", "ipv6[0].range", func(t *testing.T, _ *Server, c *linodego.Client, dual, _ *linodego.VPC) error {
			_, err := c.CreateVPCSubnet(t.Context(), linodego.VPCSubnetCreateOptions{Label: "s", IPv4: "10.0.5.0/24",
				IPv6: []linodego.VPCSubnetCreateOptionsIPv6{{Range: ptr(dual.Subnets[0].IPv6[0].Range)}}}, dual.ID)
			return err
		}},
		{"VPC update asking for IPv6", "ipv6", func(t *testing.T, srv *Server, _ *linodego.Client, dual, _ *linodego.VPC) error {
			return rawAsError(t, do(t, srv, http.MethodPut, fmt.Sprintf("/v4beta/vpcs/%d", dual.ID),
				map[string]any{"ipv6": []map[string]string{{"range": "/52"}}}, nil))
		}},
		{"subnet update asking for IPv6", "ipv6", func(t *testing.T, srv *Server, _ *linodego.Client, dual, _ *linodego.VPC) error {
			return rawAsError(t, do(t, srv, http.MethodPut, fmt.Sprintf("/v4beta/vpcs/%d/subnets/%d", dual.ID, dual.Subnets[0].ID),
				map[string]any{"label": "renamed", "ipv6": []map[string]string{{"range": "auto"}}}, nil))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, client := New(t)
			dual, err := client.CreateVPC(t.Context(), linodego.VPCCreateOptions{Label: "dual", Region: "us-ord",
				IPv6:    []linodego.VPCCreateOptionsIPv6{{Range: ptr("/52")}},
				Subnets: []linodego.VPCSubnetCreateOptions{{Label: "a", IPv4: "10.0.0.0/24", IPv6: []linodego.VPCSubnetCreateOptionsIPv6{{}}}}})
			if err != nil {
				t.Fatal(err)
			}
			plain, err := client.CreateVPC(t.Context(), linodego.VPCCreateOptions{Label: "plain", Region: "us-ord"})
			if err != nil {
				t.Fatal(err)
			}
			before := srv.Dump()
			wantFieldReason(t, tt.call(t, srv, client, dual, plain), tt.field, "")
			after := srv.Dump()
			if len(after.VPCs) != len(before.VPCs) || len(after.VPCs[dual.ID].Subnets) != len(before.VPCs[dual.ID].Subnets) ||
				after.VPCs[dual.ID].Subnets[0].Label != "a" {
				t.Errorf("a refused request changed the VPCs")
			}
		})
	}
}

// rawAsError turns a raw error response into the *linodego.Error linodego
// would return for it.
func rawAsError(t *testing.T, r rawResponse) error {
	t.Helper()
	if r.status < 400 {
		return nil
	}
	msg := ""
	for i, e := range r.errors(t) {
		if i > 0 {
			msg += "; "
		}
		if e.Field != "" {
			msg += "[" + e.Field + "] "
		}
		msg += e.Reason
	}
	return &linodego.Error{Code: r.status, Message: msg}
}

func TestUnmodelledRequestFieldsAreRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, field string
		call        func(t *testing.T, c *linodego.Client) error
	}{
		{"firewall for Linode interfaces", "devices.linode_interfaces", func(t *testing.T, c *linodego.Client) error {
			_, err := c.CreateFirewall(t.Context(), linodego.FirewallCreateOptions{Label: "fw-if", Rules: standardRules(),
				Devices: linodego.DevicesCreationOptions{LinodeInterfaces: []int{123}}})
			return err
		}},
		{"firewall rule naming a Rule Set", "inbound[0].ruleset", func(t *testing.T, c *linodego.Client) error {
			fw, err := c.CreateFirewall(t.Context(), linodego.FirewallCreateOptions{Label: "fw-rs", Rules: standardRules()})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.UpdateFirewallRules(t.Context(), fw.ID, linodego.FirewallRuleSet{InboundPolicy: "DROP", OutboundPolicy: "ACCEPT",
				Inbound: []linodego.FirewallRule{{RuleSet: 7}}})
			return err
		}},
		{"bucket on another S3 endpoint", "s3_endpoint", func(t *testing.T, c *linodego.Client) error {
			_, err := c.CreateObjectStorageBucket(t.Context(), linodego.ObjectStorageBucketCreateOptions{Region: "us-east", Label: "b-e3",
				S3Endpoint: "us-east-9.linodeobjects.com"})
			return err
		}},
		{"bucket of an unknown endpoint type", "endpoint_type", func(t *testing.T, c *linodego.Client) error {
			_, err := c.CreateObjectStorageBucket(t.Context(), linodego.ObjectStorageBucketCreateOptions{Region: "us-east", Label: "b-e9",
				EndpointType: "E9"})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, client := New(t)
			wantFieldReason(t, tt.call(t, client), tt.field, "")
			st := srv.Dump()
			if len(st.Buckets) != 0 {
				t.Errorf("a refused request made buckets %v", st.Buckets)
			}
		})
	}
}

// A bucket naming its own region's endpoint is accepted, by the name the
// simulator reports or by the real API's.
func TestBucketOnItsRegionsEndpoint(t *testing.T) {
	t.Parallel()
	srv, client := New(t)
	ep := mustS3Endpoint(t, srv, "us-east")
	for i, named := range []string{ep, realS3Endpoint("us-east")} {
		b, err := client.CreateObjectStorageBucket(t.Context(), linodego.ObjectStorageBucketCreateOptions{Region: "us-east", Label: fmt.Sprintf("b-own-%d", i),
			S3Endpoint: named, EndpointType: "E1"})
		if err != nil || b.S3Endpoint != ep || b.Hostname != ep {
			t.Fatalf("bucket naming %s = %+v (%v), want it on %s", named, b, err, ep)
		}
	}
}
