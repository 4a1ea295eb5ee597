package linodetest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/linode/linodego"
)

// member reads one top-level member of a raw JSON object.
func member(t *testing.T, body []byte, name string) json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	v, ok := m[name]
	if !ok {
		t.Fatalf("%s has no member %q", body, name)
	}
	return v
}

// Firewall rule lists keep what was sent: null stays null and [] stays [],
// in the PUT's answer and when read back through the rules and the
// firewall.
func TestFirewallRuleListsKeepNull(t *testing.T) {
	t.Parallel()
	ruleList := []linodego.FirewallRule{standardRules().Inbound[0]}
	tests := []struct {
		name              string
		inbound, outbound []linodego.FirewallRule
		wantIn, wantOut   string // raw JSON of the member
	}{
		{"inbound null", nil, []linodego.FirewallRule{}, "null", "[]"},
		{"outbound null", ruleList, nil, "", "null"},
		{"both null", nil, nil, "null", "null"},
		{"both empty", []linodego.FirewallRule{}, []linodego.FirewallRule{}, "[]", "[]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, client := New(t)
			ctx := t.Context()
			fw, err := client.CreateFirewall(ctx, linodego.FirewallCreateOptions{Label: "fw-null", Rules: standardRules()})
			if err != nil {
				t.Fatal(err)
			}
			rs := linodego.FirewallRuleSet{InboundPolicy: "DROP", OutboundPolicy: "ACCEPT", Inbound: tt.inbound, Outbound: tt.outbound}
			got, err := client.UpdateFirewallRules(ctx, fw.ID, rs)
			if err != nil {
				t.Fatalf("update rules: %v", err)
			}
			// linodego decodes null as a nil slice and [] as an empty one.
			if (got.Inbound == nil) != (tt.inbound == nil) || (got.Outbound == nil) != (tt.outbound == nil) {
				t.Errorf("PUT answered inbound nil=%v outbound nil=%v, sent nil=%v/%v",
					got.Inbound == nil, got.Outbound == nil, tt.inbound == nil, tt.outbound == nil)
			}
			rules := do(t, srv, http.MethodGet, fmt.Sprintf("/v4/networking/firewalls/%d/rules", fw.ID), nil, nil)
			whole := do(t, srv, http.MethodGet, fmt.Sprintf("/v4/networking/firewalls/%d", fw.ID), nil, nil)
			for what, body := range map[string][]byte{"rules": rules.body, "firewall": member(t, whole.body, "rules")} {
				if tt.wantIn != "" {
					if in := string(member(t, body, "inbound")); in != tt.wantIn {
						t.Errorf("%s: inbound = %s, want %s", what, in, tt.wantIn)
					}
				}
				if out := string(member(t, body, "outbound")); out != tt.wantOut {
					t.Errorf("%s: outbound = %s, want %s", what, out, tt.wantOut)
				}
			}
		})
	}
}

// A firewall created with null rule lists (linodego sends nil slices as
// null) reads back null.
func TestFirewallCreatedWithNullRules(t *testing.T) {
	t.Parallel()
	_, client := New(t)
	fw, err := client.CreateFirewall(t.Context(), linodego.FirewallCreateOptions{Label: "fw-empty",
		Rules: linodego.FirewallRuleSet{InboundPolicy: "DROP", OutboundPolicy: "ACCEPT"}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := client.GetFirewall(t.Context(), fw.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Rules.Inbound != nil || got.Rules.Outbound != nil {
		t.Errorf("rules = %+v, want inbound and outbound null", got.Rules)
	}
}

func TestOptionalMembersAreNullWhenUnset(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		check func(t *testing.T, srv *Server, client *linodego.Client)
	}{
		{"unlimited key has null bucket_access", func(t *testing.T, srv *Server, client *linodego.Client) {
			k, err := client.CreateObjectStorageKey(t.Context(), linodego.ObjectStorageKeyCreateOptions{Label: "all"})
			if err != nil {
				t.Fatal(err)
			}
			if k.Limited || k.BucketAccess != nil {
				t.Errorf("created key limited=%v bucket_access=%v, want false and null", k.Limited, k.BucketAccess)
			}
			got, err := client.GetObjectStorageKey(t.Context(), k.ID)
			if err != nil || got.BucketAccess != nil {
				t.Errorf("read back bucket_access = %v (%v), want null", got.BucketAccess, err)
			}
			list, err := client.ListObjectStorageKeys(t.Context(), nil)
			if err != nil || len(list) != 1 || list[0].BucketAccess != nil {
				t.Errorf("listed keys = %+v (%v), want one with null bucket_access", list, err)
			}
		}},
		{"limited key lists its buckets", func(t *testing.T, srv *Server, client *linodego.Client) {
			if _, err := client.CreateObjectStorageBucket(t.Context(), linodego.ObjectStorageBucketCreateOptions{Region: "us-east", Label: "bucket-1"}); err != nil {
				t.Fatal(err)
			}
			k, err := client.CreateObjectStorageKey(t.Context(), linodego.ObjectStorageKeyCreateOptions{Label: "one",
				BucketAccess: &[]linodego.ObjectStorageKeyBucketAccess{{Region: "us-east", BucketName: "bucket-1", Permissions: "read_only"}}})
			if err != nil {
				t.Fatal(err)
			}
			if !k.Limited || k.BucketAccess == nil || len(*k.BucketAccess) != 1 {
				t.Errorf("key limited=%v bucket_access=%v, want one bucket", k.Limited, k.BucketAccess)
			}
		}},
		{"VPC and subnet without IPv6 have null ipv6", func(t *testing.T, srv *Server, client *linodego.Client) {
			v, err := client.CreateVPC(t.Context(), linodego.VPCCreateOptions{Label: "v4-only", Region: "us-ord",
				Subnets: []linodego.VPCSubnetCreateOptions{{Label: "a", IPv4: "10.0.0.0/24"}}})
			if err != nil {
				t.Fatal(err)
			}
			if v.IPv6 != nil || v.Subnets[0].IPv6 != nil {
				t.Errorf("created VPC ipv6 %v, subnet ipv6 %v, want null", v.IPv6, v.Subnets[0].IPv6)
			}
			sn, err := client.CreateVPCSubnet(t.Context(), linodego.VPCSubnetCreateOptions{Label: "b", IPv4: "10.0.1.0/24"}, v.ID)
			if err != nil || sn.IPv6 != nil {
				t.Errorf("created subnet ipv6 %v (%v), want null", sn.IPv6, err)
			}
			raw := do(t, srv, http.MethodGet, fmt.Sprintf("/v4/vpcs/%d", v.ID), nil, nil)
			if got := string(member(t, raw.body, "ipv6")); got != "null" {
				t.Errorf("GET VPC ipv6 = %s, want null", got)
			}
		}},
		{"bucket without CORS has null cors_xml", func(t *testing.T, srv *Server, client *linodego.Client) {
			if _, err := client.CreateObjectStorageBucket(t.Context(), linodego.ObjectStorageBucketCreateOptions{Region: "us-east", Label: "no-cors", CorsEnabled: ptr(false)}); err != nil {
				t.Fatal(err)
			}
			acc, err := client.GetObjectStorageBucketAccessV2(t.Context(), "us-east", "no-cors")
			if err != nil {
				t.Fatal(err)
			}
			if acc.CorsEnabled == nil || *acc.CorsEnabled || acc.CorsXML != nil {
				t.Errorf("access = %+v, want cors_enabled false and cors_xml null", acc)
			}
			if err := client.UpdateObjectStorageBucketAccess(t.Context(), "us-east", "no-cors", linodego.ObjectStorageBucketUpdateAccessOptions{CorsEnabled: ptr(true)}); err != nil {
				t.Fatal(err)
			}
			acc, err = client.GetObjectStorageBucketAccessV2(t.Context(), "us-east", "no-cors")
			if err != nil || acc.CorsXML == nil || *acc.CorsXML == "" {
				t.Errorf("access with CORS = %+v (%v), want a cors_xml", acc, err)
			}
		}},
		{"profile without keys has null authorized_keys", func(t *testing.T, srv *Server, client *linodego.Client) {
			p, err := client.GetProfile(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if p.AuthorizedKeys != nil || p.Username != profileUsername {
				t.Errorf("profile = %+v, want authorized_keys null", p)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, client := New(t)
			tt.check(t, srv, client)
		})
	}
}
