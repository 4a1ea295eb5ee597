package linodetest

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/linode/linodego"
)

func TestObjectStorage(t *testing.T) {
	t.Parallel()
	srv, client, _ := newManual(t)
	ctx := t.Context()
	b, err := client.CreateObjectStorageBucket(ctx, linodego.ObjectStorageBucketCreateOptions{Region: "us-east", Label: "backups-prod", ACL: linodego.ACLPrivate})
	if ep := mustS3Endpoint(t, srv, "us-east"); err != nil || b.Hostname != ep || b.S3Endpoint != ep || b.Cluster != "us-east-1" || b.Created == nil {
		t.Fatalf("create bucket = %+v, %v", b, err)
	}
	_, err = client.CreateObjectStorageBucket(ctx, linodego.ObjectStorageBucketCreateOptions{Region: "us-east", Label: "backups-prod"})
	wantAPIError(t, err, http.StatusBadRequest)
	if _, err := client.CreateObjectStorageBucket(ctx, linodego.ObjectStorageBucketCreateOptions{Cluster: "us-ord-1", Label: "logs"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ label, region, field string }{
		{"ab", "us-east", "label"},
		{"Upper", "us-east", "label"},
		{"under_score", "us-east", "label"},
		{strings.Repeat("a", 64), "us-east", "label"},
		{"ok-name", "eu-west", "region"},
		{"ok-name", "", "region"},
	} {
		_, err := client.CreateObjectStorageBucket(ctx, linodego.ObjectStorageBucketCreateOptions{Region: tc.region, Label: tc.label})
		if lerr := wantAPIError(t, err, http.StatusBadRequest); !hasField(lerr, tc.field) {
			t.Errorf("bucket %q in %q: %q does not name %q", tc.label, tc.region, lerr.Message, tc.field)
		}
	}

	all, err := client.ListObjectStorageBuckets(ctx, nil)
	if err != nil || len(all) != 2 {
		t.Fatalf("list = %+v, %v", all, err)
	}
	inRegion, err := client.ListObjectStorageBucketsInCluster(ctx, nil, "us-east")
	if err != nil || len(inRegion) != 1 || inRegion[0].Label != "backups-prod" {
		t.Fatalf("list in region = %+v, %v", inRegion, err)
	}
	if got, err := client.GetObjectStorageBucket(ctx, "us-east", "backups-prod"); err != nil || got.Label != "backups-prod" {
		t.Fatalf("get = %+v, %v", got, err)
	}
	if err := client.UpdateObjectStorageBucketAccess(ctx, "us-east", "backups-prod", linodego.ObjectStorageBucketUpdateAccessOptions{ACL: linodego.ACLPublicRead, CorsEnabled: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	acc, err := client.GetObjectStorageBucketAccessV2(ctx, "us-east", "backups-prod")
	if err != nil || acc.ACL != linodego.ACLPublicRead || acc.CorsEnabled == nil || *acc.CorsEnabled {
		t.Fatalf("access = %+v, %v", acc, err)
	}

	key, err := client.CreateObjectStorageKey(ctx, linodego.ObjectStorageKeyCreateOptions{
		Label: "velero", BucketAccess: &[]linodego.ObjectStorageKeyBucketAccess{{Region: "us-east", BucketName: "backups-prod", Permissions: "read_write"}},
	})
	if err != nil || key.SecretKey == "" || key.SecretKey == redacted || !key.Limited || len(key.Regions) != 1 || key.Regions[0].ID != "us-east" {
		t.Fatalf("create key = %+v, %v", key, err)
	}
	got, err := client.GetObjectStorageKey(ctx, key.ID)
	if err != nil || got.SecretKey != redacted || got.AccessKey != key.AccessKey {
		t.Fatalf("get key = %+v, %v", got, err)
	}
	_, err = client.CreateObjectStorageKey(ctx, linodego.ObjectStorageKeyCreateOptions{
		Label: "bad", BucketAccess: &[]linodego.ObjectStorageKeyBucketAccess{{Region: "us-east", BucketName: "missing", Permissions: "read_write"}},
	})
	wantAPIError(t, err, http.StatusBadRequest)
	if up, err := client.UpdateObjectStorageKey(ctx, key.ID, linodego.ObjectStorageKeyUpdateOptions{Label: "velero-2"}); err != nil || up.Label != "velero-2" || up.SecretKey != redacted {
		t.Fatalf("update key = %+v, %v", up, err)
	}
	keys, err := client.ListObjectStorageKeys(ctx, nil)
	if err != nil || len(keys) != 1 || keys[0].SecretKey != redacted {
		t.Fatalf("keys = %+v, %v", keys, err)
	}
	if err := client.DeleteObjectStorageKey(ctx, key.ID); err != nil {
		t.Fatal(err)
	}
	_, err = client.GetObjectStorageKey(ctx, key.ID)
	wantAPIError(t, err, http.StatusNotFound)

	eps, err := client.ListObjectStorageEndpoints(ctx, nil)
	if err != nil || len(eps) != len(objRegions(defaultCataloguePtr())) || eps[0].S3Endpoint == nil {
		t.Fatalf("endpoints = %+v, %v", eps, err)
	}

	if err := client.DeleteObjectStorageBucket(ctx, "us-east", "backups-prod"); err != nil {
		t.Fatal(err)
	}
	_, err = client.GetObjectStorageBucket(ctx, "us-east", "backups-prod")
	wantAPIError(t, err, http.StatusNotFound)
}

func TestReadOnlyCatalog(t *testing.T) {
	t.Parallel()
	_, client, _ := newManual(t)
	ctx := t.Context()
	regs, err := client.ListRegions(ctx, nil)
	if err != nil || len(regs) < 5 {
		t.Fatalf("regions = %+v, %v", regs, err)
	}
	for _, id := range []string{"us-east", "us-ord", "us-sea", "eu-west", "ap-south"} {
		r, err := client.GetRegion(ctx, id)
		if err != nil {
			t.Fatalf("region %s: %v", id, err)
		}
		for _, c := range []string{linodego.CapabilityLKE, linodego.CapabilityCloudFirewall, linodego.CapabilityVPCs} {
			if !contains(r.Capabilities, c) {
				t.Errorf("region %s lacks %q", id, c)
			}
		}
	}
	_, err = client.GetRegion(ctx, "mars")
	wantAPIError(t, err, http.StatusNotFound)
	avail, err := client.GetRegionAvailability(ctx, "us-ord")
	if err != nil || len(avail) == 0 {
		t.Fatalf("availability = %v, %v", avail, err)
	}
	all, err := client.ListRegionsAvailability(ctx, nil)
	if err != nil || len(all) != len(defaultCataloguePtr().availability) {
		t.Fatalf("all availability = %d, %v", len(all), err)
	}
	types, err := client.ListTypes(ctx, nil)
	if err != nil || len(types) < 10 {
		t.Fatalf("types = %v, %v", types, err)
	}
	for _, id := range []string{"g6-standard-1", "g6-standard-2", "g6-standard-4", "g6-standard-8", "g6-dedicated-2", "g6-dedicated-4", "g6-dedicated-8"} {
		if ty, err := client.GetType(ctx, id); err != nil || ty.ID != id || ty.VCPUs == 0 {
			t.Errorf("type %s = %+v, %v", id, ty, err)
		}
	}
	p, err := client.GetProfile(ctx)
	if err != nil || p.Username != profileUsername {
		t.Fatalf("profile = %+v, %v", p, err)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestEvents(t *testing.T) {
	t.Parallel()
	_, client, clk := newManual(t)
	ctx := t.Context()
	c := mustCluster(t, client, "ev", 1)
	clk.Advance(time.Minute)
	fw, err := client.CreateFirewall(ctx, linodego.FirewallCreateOptions{Label: "fw-ev", Rules: standardRules()})
	if err != nil {
		t.Fatal(err)
	}
	evs, err := client.ListEvents(ctx, nil)
	if err != nil || len(evs) < 3 {
		t.Fatalf("events = %+v, %v", evs, err)
	}
	if evs[0].ID < evs[len(evs)-1].ID {
		t.Error("events are not newest first")
	}
	created, err := client.ListEvents(ctx, linodego.NewListOptions(0, `{"action": "lke_cluster_create"}`))
	if err != nil || len(created) != 1 || created[0].Entity == nil || created[0].Entity.Label != "ev" || created[0].Entity.Type != linodego.EntityLKECluster {
		t.Fatalf("lke_cluster_create events = %+v, %v", created, err)
	}
	byEntity, err := client.ListEvents(ctx, linodego.NewListOptions(0, `{"entity.type": "firewall", "entity.id": `+strconv.Itoa(fw.ID)+`}`))
	if err != nil || len(byEntity) != 1 || byEntity[0].Action != linodego.ActionFirewallCreate {
		t.Fatalf("firewall events = %+v, %v", byEntity, err)
	}
	later, err := client.ListEvents(ctx, linodego.NewListOptions(0, `{"created": {"+gt": "`+t0.Add(30*time.Second).Format(timeFormat)+`"}}`))
	if err != nil || len(later) != 1 {
		t.Fatalf("events after +30 s = %+v, %v", later, err)
	}
	one, err := client.GetEvent(ctx, created[0].ID)
	if err != nil || one.Action != "lke_cluster_create" {
		t.Fatalf("get event = %+v, %v", one, err)
	}
	if id, _ := one.Entity.ID.(float64); int(id) != c.ID {
		t.Errorf("event entity = %+v", one.Entity)
	}
}
