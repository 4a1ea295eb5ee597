package linodetest

import (
	"strconv"
	"strings"
	"testing"

	"github.com/linode/linodego"
)

// fixture creates one of everything and returns the path parameters that
// name them.
func fixture(t *testing.T, srv *Server, client *linodego.Client) map[string]string {
	t.Helper()
	ctx := t.Context()
	c := mustCluster(t, client, "fixture", 2, 1)
	if err := srv.MarkClusterReady(c.ID); err != nil {
		t.Fatal(err)
	}
	pools, err := client.ListLKENodePools(ctx, c.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	fw, err := client.CreateFirewall(ctx, linodego.FirewallCreateOptions{Label: "fixture", Rules: standardRules(),
		Devices: linodego.DevicesCreationOptions{Linodes: []int{pools[0].Linodes[0].InstanceID}}})
	if err != nil {
		t.Fatal(err)
	}
	devs, err := client.ListFirewallDevices(ctx, fw.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	v, err := client.CreateVPC(ctx, linodego.VPCCreateOptions{Label: "fixture", Region: "us-ord",
		Subnets: []linodego.VPCSubnetCreateOptions{{Label: "a", IPv4: "10.0.0.0/24"}, {Label: "b", IPv4: "10.0.1.0/24"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateObjectStorageBucket(ctx, linodego.ObjectStorageBucketCreateOptions{Region: "us-east", Label: "fixture"}); err != nil {
		t.Fatal(err)
	}
	key, err := client.CreateObjectStorageKey(ctx, linodego.ObjectStorageKeyCreateOptions{Label: "fixture"})
	if err != nil {
		t.Fatal(err)
	}
	evs, err := client.ListEvents(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	nb, err := srv.AttachLoadBalancer(c.ID, "default/web")
	if err != nil {
		t.Fatal(err)
	}
	vol, err := srv.AttachVolume(c.ID, "default/data")
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"nodeBalancerId": strconv.Itoa(nb), "volumeId": strconv.Itoa(vol),
		"clusterId": strconv.Itoa(c.ID), "poolId": strconv.Itoa(pools[0].ID), "nodeId": pools[0].Linodes[0].ID,
		"firewallId": strconv.Itoa(fw.ID), "deviceId": strconv.Itoa(devs[0].ID),
		"vpcId": strconv.Itoa(v.ID), "vpcSubnetId": strconv.Itoa(v.Subnets[1].ID),
		"regionId": "us-east", "bucket": "fixture", "keyId": strconv.Itoa(key.ID), "eventId": strconv.Itoa(evs[0].ID),
		"version": "1.33", "tier": "standard", "typeId": "g6-standard-2",
		"slug": "vpc", "quotaId": "obj-buckets-us-east-1.linodeobjects.com",
	}
}

// requestBodies are valid bodies for the mutating routes that need one.
var requestBodies = map[string]any{
	"POST /lke/clusters": map[string]any{"label": "another", "region": "us-ord", "k8s_version": "1.33",
		"node_pools": []any{map[string]any{"type": "g6-standard-1", "count": 1}}},
	"PUT /lke/clusters/{clusterId}":                   map[string]any{"tags": []string{"x"}},
	"PUT /lke/clusters/{clusterId}/control_plane_acl": map[string]any{"acl": map[string]any{"enabled": true}},
	"POST /lke/clusters/{clusterId}/regenerate":       map[string]any{"kubeconfig": true},
	"POST /lke/clusters/{clusterId}/pools":            map[string]any{"type": "g6-standard-1", "count": 1},
	"PUT /lke/clusters/{clusterId}/pools/{poolId}":    map[string]any{"count": 3},
	"POST /networking/firewalls": map[string]any{"label": "another", "rules": map[string]any{
		"inbound_policy": "DROP", "outbound_policy": "ACCEPT"}},
	"PUT /networking/firewalls/{firewallId}":          map[string]any{"tags": []string{"x"}},
	"PUT /networking/firewalls/{firewallId}/rules":    map[string]any{"inbound_policy": "ACCEPT", "outbound_policy": "ACCEPT"},
	"POST /networking/firewalls/{firewallId}/devices": map[string]any{"id": 1, "type": "nodebalancer"},
	"POST /vpcs":                                              map[string]any{"label": "another", "region": "us-ord"},
	"PUT /vpcs/{vpcId}":                                       map[string]any{"description": "x"},
	"POST /vpcs/{vpcId}/subnets":                              map[string]any{"label": "c", "ipv4": "10.0.2.0/24"},
	"PUT /vpcs/{vpcId}/subnets/{vpcSubnetId}":                 map[string]any{"label": "d"},
	"POST /object-storage/buckets":                            map[string]any{"label": "another", "region": "us-east"},
	"POST /object-storage/buckets/{regionId}/{bucket}/access": map[string]any{"acl": "private"},
	"PUT /object-storage/buckets/{regionId}/{bucket}/access":  map[string]any{"acl": "private"},
	"POST /object-storage/keys":                               map[string]any{"label": "another"},
	"PUT /object-storage/keys/{keyId}":                        map[string]any{"label": "x"},
}

func expand(pattern string, params map[string]string) string {
	segs := strings.Split(pattern, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, "{") {
			segs[i] = params[s[1:len(s)-1]]
		}
	}
	return strings.Join(segs, "/")
}

// TestCountsEveryRoute sends one request to every route and checks that
// exactly that endpoint's counter moved, on the right side.
func TestCountsEveryRoute(t *testing.T) {
	t.Parallel()
	probe, _ := New(t)
	routes := probe.Routes()
	if len(routes) < 60 {
		t.Fatalf("only %d routes", len(routes))
	}
	for _, key := range routes {
		method, pattern, _ := strings.Cut(key, " ")
		t.Run(key, func(t *testing.T) {
			t.Parallel()
			srv, client, _ := newManual(t)
			params := fixture(t, srv, client)
			if key == "DELETE /volumes/{volumeId}" { // an attached volume cannot be deleted
				srv.Mutate(func(st *State) {
					for _, v := range st.Volumes {
						v.LinodeID = 0
					}
				})
			}
			srv.ResetCounts()
			resp := do(t, srv, method, "/v4beta"+expand(pattern, params), requestBodies[key], nil)
			if resp.status != 200 {
				t.Errorf("%s answered %d: %s", key, resp.status, resp.body)
			}
			c := srv.Counts()
			wantMut, wantRead := 0, 1
			if method != "GET" {
				wantMut, wantRead = 1, 0
			}
			if c.Mutating != wantMut || c.Reading != wantRead || c.Other != 0 {
				t.Errorf("counts = mutating %d reading %d other %d, want %d/%d/0", c.Mutating, c.Reading, c.Other, wantMut, wantRead)
			}
			if len(c.ByEndpoint) != 1 || c.ByEndpoint[key] != 1 {
				t.Errorf("ByEndpoint = %v, want only %q: 1", c.ByEndpoint, key)
			}
		})
	}
}

func TestCountsByMethod(t *testing.T) {
	t.Parallel()
	srv, _, _ := newManual(t)
	for _, tc := range []struct {
		method, path, endpoint string
		mut, read, other       int
	}{
		{"GET", "/v4/regions", "GET /regions", 0, 1, 0},
		{"HEAD", "/v4/regions", "HEAD /regions", 0, 1, 0},
		{"POST", "/v4/lke/clusters", "POST /lke/clusters", 1, 0, 0},
		{"PUT", "/v4/lke/clusters/1", "PUT /lke/clusters/{clusterId}", 1, 0, 0},
		{"DELETE", "/v4/lke/clusters/1", "DELETE /lke/clusters/{clusterId}", 1, 0, 0},
		{"PATCH", "/v4/lke/clusters/1", "PATCH (unmatched)", 1, 0, 0},
		{"OPTIONS", "/v4/regions", "OPTIONS (unmatched)", 0, 0, 1},
		{"GET", "/v4/nowhere", "GET (unmatched)", 0, 1, 0},
	} {
		srv.ResetCounts()
		do(t, srv, tc.method, tc.path, nil, nil)
		c := srv.Counts()
		if c.Mutating != tc.mut || c.Reading != tc.read || c.Other != tc.other || c.ByEndpoint[tc.endpoint] != 1 {
			t.Errorf("%s %s: %+v, want %d/%d/%d and %q", tc.method, tc.path, c, tc.mut, tc.read, tc.other, tc.endpoint)
		}
	}
	// Out-of-band helpers are not requests.
	srv.ResetCounts()
	srv.Mutate(func(*State) {})
	_ = srv.Dump()
	if c := srv.Counts(); c.Mutating+c.Reading+c.Other != 0 {
		t.Errorf("out-of-band calls counted: %+v", c)
	}
}
