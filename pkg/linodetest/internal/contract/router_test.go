package contract

import "testing"

func TestRouterMatch(t *testing.T) {
	t.Parallel()
	v := validator(t)
	tests := []struct {
		path string
		want string // template, "" for no match
	}{
		{"/v4/lke/clusters", "/{apiVersion}/lke/clusters"},
		{"/v4beta/lke/clusters/12/pools/3", "/{apiVersion}/lke/clusters/{clusterId}/pools/{poolId}"},
		{"/v4/lke/clusters/12/pools?page=2&page_size=25", "/{apiVersion}/lke/clusters/{clusterId}/pools"},
		{"/v4/regions/availability", "/{apiVersion}/regions/availability"},
		{"/v4/regions/us-ord", "/{apiVersion}/regions/{regionId}"},
		{"/v4/regions/us-ord/availability", "/{apiVersion}/regions/{regionId}/availability"},
		{"/v4/vpcs/ips", "/{apiVersion}/vpcs/ips"},
		{"/v4/vpcs/77", "/{apiVersion}/vpcs/{vpcId}"},
		{"/v4/object-storage/buckets/us-ord", "/{apiVersion}/object-storage/buckets/{regionId}"},
		{"/v4/object-storage/buckets/us-ord/b/access", "/{apiVersion}/object-storage/buckets/{regionId}/{bucket}/access"},
		{"/v4beta/lke/tiers/standard/versions", "/{apiVersion}/lke/tiers/{tier}/versions"},
		{"/v4/lke/clusters//pools", ""},
		{"/v4/lke", ""},
		{"/v3/lke/clusters", ""},
		{"v4/lke/clusters", ""},
		{"/", ""},
		{"", ""},
		{"/v4/a/b/c/d/e/f/g/h/i/j/k/l", ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			got := ""
			if m := v.router.match(tt.path); m != nil {
				got = m.path
			}
			if got != tt.want {
				t.Errorf("match(%q) = %q, want %q", tt.path, got, tt.want)
			}
		})
	}
}
