package linodetest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/linode/linodego"
)

func TestFirewallSettings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		set  func(fw int) DefaultFirewallIDs
		// want maps the firewall's ID to the Linode default expected.
		deleteFirewall bool
		wantLinode     bool
	}{
		{"no defaults", func(int) DefaultFirewallIDs { return DefaultFirewallIDs{} }, false, false},
		{"a Linode default", func(fw int) DefaultFirewallIDs { return DefaultFirewallIDs{Linode: fw} }, false, true},
		{"a default that was deleted", func(fw int) DefaultFirewallIDs { return DefaultFirewallIDs{Linode: fw} }, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, client := New(t)
			fw, err := client.CreateFirewall(t.Context(), linodego.FirewallCreateOptions{Label: "fw-default", Rules: standardRules()})
			if err != nil {
				t.Fatal(err)
			}
			srv.Mutate(func(st *State) { st.DefaultFirewalls = tt.set(fw.ID) })
			if tt.deleteFirewall {
				if err := client.DeleteFirewall(t.Context(), fw.ID); err != nil {
					t.Fatal(err)
				}
			}
			got, err := client.GetFirewallSettings(t.Context())
			if err != nil {
				t.Fatalf("get firewall settings: %v", err)
			}
			ids := got.DefaultFirewallIDs
			if ids.NodeBalancer != nil || ids.PublicInterface != nil || ids.VPCInterface != nil {
				t.Errorf("defaults = %+v, want only linode set (or none)", ids)
			}
			if tt.wantLinode != (ids.Linode != nil) || (ids.Linode != nil && *ids.Linode != fw.ID) {
				t.Errorf("linode default = %v, want firewall %d: %v", ids.Linode, fw.ID, tt.wantLinode)
			}
		})
	}
}

func TestFirewallTemplates(t *testing.T) {
	t.Parallel()
	_, client := New(t)
	list, err := client.ListFirewallTemplates(t.Context(), nil)
	if err != nil {
		t.Fatalf("list firewall templates: %v", err)
	}
	var slugs []string
	for _, tp := range list {
		slugs = append(slugs, tp.Slug)
	}
	if !slices.Equal(slugs, []string{"vpc", "public"}) {
		t.Fatalf("templates %v, want vpc and public", slugs)
	}
	tests := []struct {
		slug       string
		wantLabels []string
	}{
		{"public", []string{"accept-inbound-ssh", "accept-inbound-icmp"}},
		{"vpc", []string{"accept-inbound-ssh", "accept-inbound-icmp", "accept-inbound-rfc1918", "accept-inbound-rfc1918"}},
	}
	for _, tt := range tests {
		t.Run(tt.slug, func(t *testing.T) {
			t.Parallel()
			tp, err := client.GetFirewallTemplate(t.Context(), tt.slug)
			if err != nil {
				t.Fatal(err)
			}
			var labels []string
			for _, r := range tp.Rules.Inbound {
				labels = append(labels, r.Label)
			}
			if tp.Slug != tt.slug || tp.Rules.InboundPolicy != "DROP" || tp.Rules.OutboundPolicy != "ACCEPT" || !slices.Equal(labels, tt.wantLabels) {
				t.Errorf("template = %+v, want %s dropping inbound but %v", tp, tt.slug, tt.wantLabels)
			}
			// A template is a valid rule set: a firewall can be made from it.
			if _, err := client.CreateFirewall(t.Context(), linodego.FirewallCreateOptions{Label: "from-" + tt.slug, Rules: tp.Rules}); err != nil {
				t.Errorf("create a firewall from template %s: %v", tt.slug, err)
			}
		})
	}
	_, err = client.GetFirewallTemplate(t.Context(), "no-such-template")
	wantAPIError(t, err, http.StatusNotFound)
}

func TestObjectStorageQuotas(t *testing.T) {
	t.Parallel()
	srv, client := New(t)
	ctx := t.Context()
	for _, l := range []string{"quota-1", "quota-2"} {
		if _, err := client.CreateObjectStorageBucket(ctx, linodego.ObjectStorageBucketCreateOptions{Region: "us-east", Label: l}); err != nil {
			t.Fatal(err)
		}
	}
	quotas, err := client.ListObjectStorageQuotas(ctx, nil)
	if err != nil {
		t.Fatalf("list quotas: %v", err)
	}
	if want := 3 * len(objRegions(defaultCataloguePtr())); len(quotas) != want {
		t.Fatalf("%d quotas, want %d (three per endpoint)", len(quotas), want)
	}
	for _, q := range quotas {
		if !strings.HasSuffix(q.QuotaID, "-"+q.S3Endpoint) || !strings.HasPrefix(q.QuotaID, q.QuotaType+"-") || q.QuotaLimit <= 0 || !q.HasUsage {
			t.Errorf("quota %+v: want id <type>-<endpoint>, a limit and usage", q)
		}
	}
	east := mustS3Endpoint(t, srv, "us-east")
	tests := []struct {
		id        string
		wantUsage int
	}{
		{"obj-buckets-" + east, 2},
		{"obj-objects-" + east, 0},
		{"obj-buckets-" + mustS3Endpoint(t, srv, "us-ord"), 0},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			t.Parallel()
			q, err := client.GetObjectStorageQuota(ctx, tt.id)
			if err != nil || q.QuotaID != tt.id {
				t.Fatalf("get quota = %+v (%v)", q, err)
			}
			u, err := client.GetObjectStorageQuotaUsage(ctx, tt.id)
			if err != nil {
				t.Fatal(err)
			}
			if u.Usage == nil || *u.Usage != tt.wantUsage || u.QuotaLimit != q.QuotaLimit {
				t.Errorf("usage = %+v, want %d of %d", u, tt.wantUsage, q.QuotaLimit)
			}
		})
	}
	_, err = client.GetObjectStorageQuota(ctx, "obj-buckets-nowhere.linodeobjects.com")
	wantAPIError(t, err, http.StatusNotFound)
}

// The profile says which kind of user the simulator acts as; linodego's
// Profile has no field for it, so it is read raw.
func TestProfileUserType(t *testing.T) {
	t.Parallel()
	srv, client := New(t)
	if _, err := client.GetProfile(t.Context()); err != nil {
		t.Fatalf("get profile: %v", err)
	}
	raw := do(t, srv, http.MethodGet, "/v4/profile", nil, nil)
	var typ linodego.UserType
	if err := json.Unmarshal(member(t, raw.body, "user_type"), &typ); err != nil {
		t.Fatal(err)
	}
	if typ != linodego.UserTypeDefault {
		t.Errorf("user_type = %q, want %q", typ, linodego.UserTypeDefault)
	}
}
