package contract

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

func jsonHeader() http.Header { return http.Header{"Content-Type": {"application/json"}} }

// Real-shaped bodies: the fields of the README's "recorded traffic" table,
// zone-less timestamps as the API sends them.
const (
	clusterGet = `{"id":12345,"label":"prod-lke","region":"us-ord","k8s_version":"1.31",
		"status":"ready","tier":"standard","apl_enabled":false,
		"control_plane":{"high_availability":true},
		"created":"2018-01-02T03:04:05","updated":"2018-01-02T03:04:05","tags":["env:prod"],
		"vpc_id":77,"subnet_id":78,"stack_type":"ipv4"}`
	clusterListItem = `{"id":12345,"label":"prod-lke","region":"us-ord","k8s_version":"1.31",
		"status":"not_ready","tier":"enterprise","apl_enabled":false,
		"control_plane":{"high_availability":false},
		"created":"2018-01-02T03:04:05","updated":"2018-01-02T03:04:05","tags":[]}`
	poolGet = `{"id":456,"count":3,"type":"g6-standard-4","label":"general",
		"labels":{"pool":"general","example.com/tier":"web"},
		"taints":[{"key":"dedicated","value":"web","effect":"NoSchedule"}],
		"tags":["env:prod"],"disks":[],"autoscaler":{"enabled":true,"min":3,"max":6},
		"disk_encryption":"enabled","firewall_id":789,"k8s_version":"1.31",
		"update_strategy":"rolling_update","locks":[],
		"nodes":[{"id":"456-abcdef0001","instance_id":31415926,"status":"ready"},
		         {"id":"456-abcdef0002","instance_id":null,"status":"not_ready"}]}`
	poolListItem = `{"id":456,"count":1,"type":"g6-standard-2","label":null,"labels":{},
		"taints":[],"tags":[],"disks":[],"autoscaler":{"enabled":false,"min":1,"max":1},
		"disk_encryption":"disabled","locks":["cannot_delete_with_subresources"],
		"nodes":[{"id":"456-abcdef0001","instance_id":31415926,"status":"ready"}]}`
	firewallRules = `{"fingerprint":"4ef67a05","version":3,
		"inbound":[{"action":"ACCEPT","label":"allow-https","description":"HTTPS from anywhere",
		  "ports":"443","protocol":"TCP","addresses":{"ipv4":["0.0.0.0/0"],"ipv6":["::/0"]}}],
		"inbound_policy":"DROP","outbound":[],"outbound_policy":"ACCEPT"}`
	firewall = `{"id":789,"label":"prod-lke-nodes","status":"enabled","tags":[],
		"created":"2018-01-02T03:04:05","updated":"2018-01-02T03:04:05",
		"entities":[{"id":31415926,"label":"lke12345-456-abcdef0001","type":"linode","url":"/v4/linode/instances/31415926"}],
		"rules":` + firewallRules + `}`
	subnet = `{"id":78,"label":"nodes","ipv4":"10.0.0.0/24",
		"ipv6":[{"range":"2600:3c04:e000:101::/64"}],
		"linodes":[{"id":31415926,"interfaces":[{"id":1,"active":true}]}],
		"databases":[],"nodebalancers":[{"id":5,"ipv4_range":"10.0.0.32/30","ipv6_ranges":[]}],
		"created":"2018-01-02T03:04:05","updated":"2018-01-02T03:04:05"}`
	vpc = `{"id":77,"label":"prod","description":"production network","region":"us-ord",
		"ipv6":[{"range":"2600:3c04:e000:100::/52"}],"subnets":[` + subnet + `],
		"created":"2018-01-02T03:04:05","updated":"2018-01-02T03:04:05"}`
	bucket = `{"label":"prod-backups","cluster":"us-ord-1","region":"us-ord",
		"hostname":"prod-backups.us-ord-10.linodeobjects.com","s3_endpoint":"us-ord-10.linodeobjects.com",
		"endpoint_type":"E1","created":"2018-01-02T03:04:05","objects":4,"size":188318981}`
	objectKey = `{"id":11,"label":"prod-backup-writer","access_key":"KVAKUTGBA4WTR2NSJQ81",
		"secret_key":"OiA6F5r0niLs3QA2stbyq7mY5VCV7KqOzcmitmHw","limited":true,
		"bucket_access":[{"bucket_name":"prod-backups","permissions":"read_write","region":"us-ord"}],
		"regions":[{"id":"us-ord","s3_endpoint":"us-ord-10.linodeobjects.com","endpoint_type":"E1"}]}`
	region = `{"id":"us-ord","label":"Chicago, IL","country":"us","status":"ok","site_type":"core",
		"capabilities":["Linodes","Kubernetes","Object Storage","VPCs","Cloud Firewall"],
		"monitors":{"alerts":["Managed Databases"],"metrics":["Managed Databases"]},
		"placement_group_limits":{"maximum_linodes_per_pg":5,"maximum_pgs_per_customer":null},
		"resolvers":{"ipv4":"172.232.0.17,172.232.0.16","ipv6":"2600:3c06::f03c:93ff:fe74:a7dc"}}`
)

func list(items ...string) string {
	n := len(items)
	return `{"data":[` + strings.Join(items, ",") + `],"page":1,"pages":1,"results":` + itoa(n) + `}`
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

func TestValidateResponseAcceptsRealShapes(t *testing.T) {
	t.Parallel()
	v := validator(t)
	tests := []struct {
		name         string
		method, path string
		status       int
		body         string
	}{
		{"LKE cluster GET, every recorded field", "GET", "/v4beta/lke/clusters/12345", 200, clusterGet},
		{"LKE cluster GET, no VPC", "GET", "/v4/lke/clusters/12345",
			200, strings.Replace(strings.Replace(clusterGet, `"vpc_id":77`, `"vpc_id":null`, 1), `"subnet_id":78`, `"subnet_id":null`, 1)},
		{"LKE cluster GET with RFC 3339 timestamps", "GET", "/v4/lke/clusters/12345",
			200, strings.ReplaceAll(clusterGet, `"2018-01-02T03:04:05"`, `"2018-01-02T03:04:05Z"`)},
		{"LKE cluster list envelope", "GET", "/v4beta/lke/clusters?page=1&page_size=100", 200, list(clusterListItem, clusterListItem)},
		{"LKE cluster empty list", "GET", "/v4/lke/clusters", 200, list()},
		{"LKE cluster POST", "POST", "/v4beta/lke/clusters", 200, clusterGet},
		{"LKE cluster PUT", "PUT", "/v4beta/lke/clusters/12345", 200, clusterGet},
		{"LKE cluster DELETE", "DELETE", "/v4/lke/clusters/12345", 200, `{}`},
		{"node pool GET: labels map, firewall_id, integer instance_id", "GET", "/v4beta/lke/clusters/12345/pools/456", 200, poolGet},
		{"node pool POST", "POST", "/v4beta/lke/clusters/12345/pools", 200, poolGet},
		{"node pool PUT", "PUT", "/v4beta/lke/clusters/12345/pools/456", 200, poolGet},
		{"node pool list", "GET", "/v4beta/lke/clusters/12345/pools", 200, list(poolListItem)},
		{"node GET", "GET", "/v4/lke/clusters/12345/nodes/456-abcdef0001", 200, `{"id":"456-abcdef0001","instance_id":31415926,"status":"ready"}`},
		{"kubeconfig", "GET", "/v4/lke/clusters/12345/kubeconfig", 200, `{"kubeconfig":"YXBpVmVyc2lvbjogdjEKa2luZDogQ29uZmlnCg=="}`},
		{"api endpoints", "GET", "/v4/lke/clusters/12345/api-endpoints", 200, list(`{"endpoint":"https://0a1b2c3d.us-ord-1.linodelke.net:443"}`)},
		{"dashboard", "GET", "/v4/lke/clusters/12345/dashboard", 200, `{"url":"https://example.dashboard.linodelke.net"}`},
		{"control plane ACL", "GET", "/v4beta/lke/clusters/12345/control_plane_acl", 200,
			`{"acl":{"enabled":true,"addresses":{"ipv4":["203.0.113.1/32"],"ipv6":[]},"revision-id":"20240127r001"}}`},
		{"LKE versions", "GET", "/v4/lke/versions", 200, list(`{"id":"1.31"}`, `{"id":"1.30"}`)},
		{"LKE tier versions", "GET", "/v4beta/lke/tiers/enterprise/versions", 200, list(`{"id":"v1.31.1+lke1","tier":"enterprise"}`)},
		{"LKE tier version", "GET", "/v4beta/lke/tiers/standard/versions/1.31", 200, `{"id":"1.31","tier":"standard"}`},
		{"firewall GET", "GET", "/v4/networking/firewalls/789", 200, firewall},
		{"firewall POST", "POST", "/v4/networking/firewalls", 200, firewall},
		{"firewall list", "GET", "/v4/networking/firewalls", 200, list(firewall)},
		{"firewall rules GET", "GET", "/v4/networking/firewalls/789/rules", 200, firewallRules},
		{"firewall rules PUT", "PUT", "/v4/networking/firewalls/789/rules", 200, firewallRules},
		{"firewall device", "GET", "/v4/networking/firewalls/789/devices/1", 200,
			`{"id":1,"created":"2018-01-02T03:04:05","updated":"2018-01-02T03:04:05",
			  "entity":{"id":31415926,"label":"lke12345-456-abcdef0001","type":"linode","url":"/v4/linode/instances/31415926"}}`},
		{"VPC GET", "GET", "/v4/vpcs/77", 200, vpc},
		{"VPC list (the spec's allOf envelope)", "GET", "/v4/vpcs", 200, list(vpc)},
		{"VPC subnet GET", "GET", "/v4/vpcs/77/subnets/78", 200, subnet},
		{"VPC subnet list", "GET", "/v4/vpcs/77/subnets", 200, list(subnet)},
		{"bucket GET", "GET", "/v4/object-storage/buckets/us-ord/prod-backups", 200, bucket},
		{"bucket POST", "POST", "/v4/object-storage/buckets", 200, bucket},
		{"bucket list", "GET", "/v4/object-storage/buckets", 200, list(bucket)},
		{"bucket access", "GET", "/v4/object-storage/buckets/us-ord/prod-backups/access", 200,
			`{"acl":"private","acl_xml":"<AccessControlPolicy/>","cors_enabled":false,"cors_xml":null}`},
		{"Object Storage key POST", "POST", "/v4/object-storage/keys", 200, objectKey},
		{"Object Storage key list", "GET", "/v4/object-storage/keys", 200, list(objectKey)},
		{"Object Storage endpoints", "GET", "/v4/object-storage/endpoints", 200,
			list(`{"region":"us-ord","endpoint_type":"E1","s3_endpoint":"us-ord-10.linodeobjects.com"}`,
				`{"region":"us-east","endpoint_type":"E0","s3_endpoint":null}`)},
		{"region GET", "GET", "/v4/regions/us-ord", 200, region},
		{"region list", "GET", "/v4/regions", 200, list(region)},
		{"region availability is not a region", "GET", "/v4/regions/availability", 200,
			list(`{"region":"us-ord","plan":"g6-standard-4","available":true}`)},
		{"400 with field", "POST", "/v4beta/lke/clusters", 400, `{"errors":[{"reason":"Label must be unique","field":"label"}]}`},
		{"404", "GET", "/v4/lke/clusters/999", 404, `{"errors":[{"reason":"Not found"}]}`},
		{"503 kubeconfig not ready", "GET", "/v4/lke/clusters/12345/kubeconfig", 503,
			`{"errors":[{"reason":"Cluster kubeconfig is not yet available. Please try again later."}]}`},
		{"404 on an operation without a default response", "GET", "/v4/lke/clusters/12345/pools/1", 404, `{"errors":[{"reason":"Not found"}]}`},
		{"429 on an operation listing no 429", "PUT", "/v4/lke/clusters/12345", 429, `{"errors":[{"reason":"Too many requests"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := v.ValidateResponse(tt.method, tt.path, tt.status, jsonHeader(), []byte(tt.body)); err != nil {
				t.Errorf("ValidateResponse(%s %s %d) = %v, want nil", tt.method, tt.path, tt.status, err)
			}
		})
	}
}

func TestValidateResponseRejects(t *testing.T) {
	t.Parallel()
	v := validator(t)
	textPlain := http.Header{"Content-Type": {"text/plain"}}
	tests := []struct {
		name         string
		method, path string
		status       int
		header       http.Header
		body         string
		sentinel     error
		want         []string // substrings of the error
	}{
		{"extra unknown field", "GET", "/v4/lke/clusters/12345", 200, jsonHeader(),
			strings.Replace(clusterGet, `"id":12345`, `"id":12345,"surprise":true`, 1),
			ErrContract, []string{"get-lke-cluster", "status 200", `"surprise"`, "unsupported"}},
		{"list-only shape: vpc_id in a list item", "GET", "/v4/lke/clusters", 200, jsonHeader(),
			list(clusterGet), ErrContract, []string{"/data/0", `"vpc_id"`, "unsupported"}},
		{"id as a string", "GET", "/v4/lke/clusters/12345", 200, jsonHeader(),
			strings.Replace(clusterGet, `"id":12345`, `"id":"12345"`, 1), ErrContract, []string{`"/id"`, "integer"}},
		{"status out of its enum", "GET", "/v4/lke/clusters/12345", 200, jsonHeader(),
			strings.Replace(clusterGet, `"status":"ready"`, `"status":"weird"`, 1), ErrContract, []string{`"/status"`, "allowed values"}},
		{"pool instance_id as a string", "GET", "/v4/lke/clusters/12345/pools/456", 200, jsonHeader(),
			strings.Replace(poolGet, `"instance_id":31415926`, `"instance_id":"31415926"`, 1), ErrContract, []string{`"/nodes/0/instance_id"`}},
		{"pool label values must be strings", "GET", "/v4/lke/clusters/12345/pools/456", 200, jsonHeader(),
			strings.Replace(poolGet, `"pool":"general"`, `"pool":1`, 1), ErrContract, []string{`"/labels/pool"`, "string"}},
		{"timestamp that is not one", "GET", "/v4/lke/clusters/12345", 200, jsonHeader(),
			strings.Replace(clusterGet, `"created":"2018-01-02T03:04:05"`, `"created":"yesterday"`, 1), ErrContract, []string{`"/created"`, "date-time"}},
		{"firewall label against the lookahead pattern", "GET", "/v4/networking/firewalls/789", 200, jsonHeader(),
			strings.Replace(firewall, `"label":"prod-lke-nodes"`, `"label":"prod--nodes"`, 1), ErrContract, []string{`"/label"`, "regular expression"}},
		{"region with the spec's misspelt site-type", "GET", "/v4/regions/us-ord", 200, jsonHeader(),
			strings.Replace(region, `"site_type"`, `"site-type"`, 1), ErrContract, []string{`"site-type"`, "unsupported"}},
		{"list without pages", "GET", "/v4/lke/clusters", 200, jsonHeader(),
			`{"data":[],"page":1,"results":0}`, ErrContract, []string{`"pages"`, "missing"}},
		{"VPC list without pages", "GET", "/v4/vpcs", 200, jsonHeader(),
			`{"data":[],"page":1,"results":0}`, ErrContract, []string{`"pages"`, "missing"}},
		{"a bare array instead of the list envelope", "GET", "/v4/lke/clusters", 200, jsonHeader(),
			`[` + clusterListItem + `]`, ErrContract, []string{"object"}},
		{"missing field the spec requires", "GET", "/v4/linode/instances/1/configs/2/interfaces/3", 200, jsonHeader(),
			`{"id":3,"ipam_address":"10.0.0.1/24","label":"eth0"}`, ErrContract, []string{`"purpose"`, "missing"}},
		{"error with a non-JSON Content-Type", "GET", "/v4/lke/clusters/999", 404, textPlain,
			`{"errors":[{"reason":"Not found"}]}`, ErrContract, []string{"Content-Type", "text/plain"}},
		{"error with a charset on its Content-Type", "GET", "/v4/lke/clusters/999", 404,
			http.Header{"Content-Type": {"application/json; charset=utf-8"}},
			`{"errors":[{"reason":"Not found"}]}`, ErrContract, []string{"Content-Type", "exactly"}},
		{"error without Content-Type", "GET", "/v4/lke/clusters/999", 503, http.Header{},
			`{"errors":[{"reason":"busy"}]}`, ErrContract, []string{"Content-Type"}},
		{"error without an errors array", "GET", "/v4/lke/clusters/999", 404, jsonHeader(),
			`{}`, ErrContract, []string{`"errors"`, "missing"}},
		{"error with an empty errors array", "GET", "/v4/lke/clusters/999", 404, jsonHeader(),
			`{"errors":[]}`, ErrContract, []string{`"/errors"`, "minimum number of items"}},
		{"error item without a reason", "GET", "/v4/lke/clusters/999", 503, jsonHeader(),
			`{"errors":[{"field":"label"}]}`, ErrContract, []string{`"reason"`, "missing"}},
		{"error envelope with a stray member", "PUT", "/v4/lke/clusters/1", 429, jsonHeader(),
			`{"errors":[{"reason":"slow down"}],"retry":true}`, ErrContract, []string{`"retry"`, "unsupported"}},
		{"success status the operation does not document", "POST", "/v4/lke/clusters", 201, jsonHeader(),
			clusterGet, ErrContract, []string{"status 201", "not documented", "200"}},
		{"body that is not JSON", "GET", "/v4/lke/clusters/12345", 200, jsonHeader(),
			`{"id":`, ErrContract, []string{"decode"}},
		{"success with a non-JSON Content-Type", "GET", "/v4/lke/clusters/12345", 200, textPlain,
			clusterGet, ErrContract, []string{"text/plain"}},
		{"unknown path", "GET", "/v4/lke/clusterz", 200, jsonHeader(), `{}`, ErrUnknownOperation, []string{"/v4/lke/clusterz"}},
		{"unknown API version", "GET", "/v5/lke/clusters", 200, jsonHeader(), list(), ErrUnknownOperation, []string{"/v5/lke/clusters"}},
		{"trailing slash", "GET", "/v4/lke/clusters/", 200, jsonHeader(), list(), ErrUnknownOperation, []string{"/v4/lke/clusters/"}},
		{"path without its version", "GET", "/lke/clusters", 200, jsonHeader(), list(), ErrUnknownOperation, []string{"/lke/clusters"}},
		{"unknown method", "PATCH", "/v4/lke/clusters/12345", 200, jsonHeader(), clusterGet, ErrUnknownOperation, []string{"PATCH", "has no PATCH"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := v.ValidateResponse(tt.method, tt.path, tt.status, tt.header, []byte(tt.body))
			if err == nil {
				t.Fatalf("ValidateResponse(%s %s %d) = nil, want an error", tt.method, tt.path, tt.status)
			}
			if !errors.Is(err, tt.sentinel) {
				t.Errorf("error %q does not wrap %v", err, tt.sentinel)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %s", err, w)
				}
			}
		})
	}
}

// The error names the operation, the template matched and the status, so a
// failing simulator test points at the handler to fix.
func TestValidateResponseErrorNamesOperation(t *testing.T) {
	t.Parallel()
	v := validator(t)
	body := strings.Replace(poolGet, `"count":3`, `"count":"3","colour":"blue"`, 1)
	err := v.ValidateResponse("put", "/v4beta/lke/clusters/1/pools/2?x=1", 200, jsonHeader(), []byte(body))
	if err == nil {
		t.Fatal("want an error")
	}
	for _, w := range []string{
		"put-lke-node-pool", "PUT /{apiVersion}/lke/clusters/{clusterId}/pools/{poolId}", "status 200",
		`"/count"`, `"colour"`, // both violations, not only the first
	} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %s", err, w)
		}
	}
}

func TestLinodeDateTime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		value string
		ok    bool
	}{
		{"2018-01-02T03:04:05", true},
		{"2018-01-02T03:04:05.123456", true},
		{"2018-01-02T03:04:05Z", true},
		{"2018-01-02T03:04:05+02:00", true},
		{"2018-01-02 03:04:05", false},
		{"2018-01-02", false},
		{"2018-13-02T03:04:05", false},
		{"2018-01-02T03:04", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			t.Parallel()
			if err := (linodeDateTime{}).Validate(tt.value); (err == nil) != tt.ok {
				t.Errorf("Validate(%q) = %v, want ok=%v", tt.value, err, tt.ok)
			}
		})
	}
}
