package linodetest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/linode/linodego"
)

// seedFirewalls creates n firewalls fw-000… through the API, tagged by
// parity, and returns their labels.
func seedFirewalls(t *testing.T, client *linodego.Client, n int) {
	t.Helper()
	for i := range n {
		tag := "even"
		if i%2 == 1 {
			tag = "odd"
		}
		if _, err := client.CreateFirewall(t.Context(), linodego.FirewallCreateOptions{
			Label: fmt.Sprintf("fw-%03d", i), Rules: standardRules(), Tags: []string{tag, fmt.Sprintf("n%d", i)},
		}); err != nil {
			t.Fatalf("create firewall %d: %v", i, err)
		}
	}
}

func TestPagination(t *testing.T) {
	t.Parallel()
	srv, client, _ := newManual(t)
	seedFirewalls(t, client, 120)

	for _, tc := range []struct {
		query                   string
		wantPage, wantPages, nd int
	}{
		{"", 1, 2, 100},
		{"?page=2", 2, 2, 20},
		{"?page_size=25", 1, 5, 25},
		{"?page_size=25&page=5", 5, 5, 20},
		{"?page_size=25&page=6", 6, 5, 0},
		{"?page_size=500", 1, 1, 120},
	} {
		resp := do(t, srv, "GET", "/v4/networking/firewalls"+tc.query, nil, nil)
		var env struct {
			Data    []json.RawMessage `json:"data"`
			Page    int               `json:"page"`
			Pages   int               `json:"pages"`
			Results int               `json:"results"`
		}
		if err := json.Unmarshal(resp.body, &env); err != nil || resp.status != 200 {
			t.Fatalf("%s: %d %s", tc.query, resp.status, resp.body)
		}
		if env.Page != tc.wantPage || env.Pages != tc.wantPages || env.Results != 120 || len(env.Data) != tc.nd {
			t.Errorf("%s: page %d/%d results %d data %d; want %d/%d 120 %d", tc.query, env.Page, env.Pages, env.Results, len(env.Data), tc.wantPage, tc.wantPages, tc.nd)
		}
	}

	// linodego follows the pages: 120 firewalls at 25 a page are 5 requests.
	srv.ResetCounts()
	all, err := client.ListFirewalls(t.Context(), &linodego.ListOptions{PageSize: 25})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 120 {
		t.Fatalf("linodego collected %d firewalls, want 120", len(all))
	}
	for i, f := range all {
		if f.Label != fmt.Sprintf("fw-%03d", i) {
			t.Fatalf("firewall %d is %q: not in id order", i, f.Label)
		}
	}
	if n := srv.Counts().ByEndpoint["GET /networking/firewalls"]; n != 5 {
		t.Errorf("linodego made %d list requests, want 5", n)
	}

	for _, q := range []string{"?page_size=24", "?page_size=501", "?page_size=x", "?page=0", "?page=-1"} {
		resp := do(t, srv, "GET", "/v4/networking/firewalls"+q, nil, nil)
		errs := resp.errors(t)
		if resp.status != http.StatusBadRequest || len(errs) != 1 || (errs[0].Field != "page_size" && errs[0].Field != "page") {
			t.Errorf("%s: %d %s", q, resp.status, resp.body)
		}
	}
}

func TestFilters(t *testing.T) {
	t.Parallel()
	_, client, _ := newManual(t)
	seedFirewalls(t, client, 30)
	labels := func(fws []linodego.Firewall) []string {
		var out []string
		for _, f := range fws {
			out = append(out, f.Label)
		}
		return out
	}
	first := func(t *testing.T) int {
		fws, err := client.ListFirewalls(t.Context(), linodego.NewListOptions(0, `{"label": "fw-000"}`))
		if err != nil || len(fws) != 1 {
			t.Fatalf("fw-000: %v %v", fws, err)
		}
		return fws[0].ID
	}
	id0 := first(t)
	for _, tc := range []struct {
		name   string
		filter string
		want   []string
	}{
		{"equality", `{"label": "fw-007"}`, []string{"fw-007"}},
		{"two keys AND", `{"label": "fw-007", "tags": "odd"}`, []string{"fw-007"}},
		{"two keys AND, no match", `{"label": "fw-007", "tags": "even"}`, nil},
		{"tag membership", `{"tags": "n12"}`, []string{"fw-012"}},
		{"+contains", `{"label": {"+contains": "-02"}}`, []string{"fw-020", "fw-021", "fw-022", "fw-023", "fw-024", "fw-025", "fw-026", "fw-027", "fw-028", "fw-029"}},
		{"+or", `{"+or": [{"label": "fw-001"}, {"label": "fw-003"}]}`, []string{"fw-001", "fw-003"}},
		{"+and", `{"+and": [{"tags": "odd"}, {"label": {"+contains": "fw-00"}}]}`, []string{"fw-001", "fw-003", "fw-005", "fw-007", "fw-009"}},
		{"nested", `{"+or": [{"+and": [{"tags": "n1"}, {"tags": "odd"}]}, {"label": "fw-002"}]}`, []string{"fw-001", "fw-002"}},
		{"+gt id", fmt.Sprintf(`{"id": {"+gt": %d}, "label": {"+contains": "fw-00"}}`, id0+6), []string{"fw-007", "fw-008", "fw-009"}},
		{"+gte +lt", fmt.Sprintf(`{"id": {"+gte": %d, "+lt": %d}}`, id0+1, id0+3), []string{"fw-001", "fw-002"}},
		{"+lte", fmt.Sprintf(`{"id": {"+lte": %d}}`, id0+1), []string{"fw-000", "fw-001"}},
		{"+neq", `{"label": {"+contains": "fw-00"}, "tags": {"+neq": "odd"}}`, []string{"fw-000", "fw-002", "fw-004", "fw-006", "fw-008"}},
		{"order_by desc", `{"label": {"+contains": "fw-00"}, "+order_by": "label", "+order": "desc"}`, []string{"fw-009", "fw-008", "fw-007", "fw-006", "fw-005", "fw-004", "fw-003", "fw-002", "fw-001", "fw-000"}},
		{"order_by asc", `{"tags": "n3", "+order_by": "id"}`, []string{"fw-003"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fws, err := client.ListFirewalls(t.Context(), linodego.NewListOptions(0, tc.filter))
			if err != nil {
				t.Fatal(err)
			}
			if got := labels(fws); !slices.Equal(got, tc.want) {
				t.Errorf("filter %s = %v, want %v", tc.filter, got, tc.want)
			}
		})
	}
	for _, tc := range []struct{ name, filter string }{
		{"not filterable", `{"status": "enabled"}`},
		{"unknown field", `{"colour": "red"}`},
		{"order by not filterable", `{"+order_by": "status"}`},
		{"order without order_by", `{"+order": "desc"}`},
		{"bad order", `{"+order_by": "id", "+order": "sideways"}`},
		{"unknown operator", `{"id": {"+near": 3}}`},
		{"top-level operator", `{"+gt": 3}`},
		{"not JSON", `{label: x}`},
		{"+or not an array", `{"+or": {"label": "x"}}`},
		{"nested not filterable", `{"+or": [{"status": "enabled"}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := client.ListFirewalls(t.Context(), linodego.NewListOptions(0, tc.filter))
			if lerr := wantAPIError(t, err, http.StatusBadRequest); !hasField(lerr, "X-Filter") {
				t.Errorf("error %q does not name X-Filter", lerr.Message)
			}
		})
	}
}

func TestClusterFilters(t *testing.T) {
	t.Parallel()
	_, client, _ := newManual(t)
	ctx := t.Context()
	mustCluster(t, client, "dev", 1)
	if _, err := client.CreateLKECluster(ctx, linodego.LKEClusterCreateOptions{
		Label: "prod", Region: "us-sea", K8sVersion: "1.34", Tags: []string{"env:prod"},
		NodePools: []linodego.LKENodePoolCreateOptions{{Count: 1, Type: "g6-standard-2"}},
	}); err != nil {
		t.Fatal(err)
	}
	for filter, want := range map[string]string{
		`{"region": "us-sea"}`:       "prod",
		`{"k8s_version": "1.33"}`:    "dev",
		`{"tags": "env:prod"}`:       "prod",
		`{"label": {"+neq": "dev"}}`: "prod",
	} {
		cs, err := client.ListLKEClusters(ctx, linodego.NewListOptions(0, filter))
		if err != nil || len(cs) != 1 || cs[0].Label != want {
			t.Errorf("%s = %+v, %v; want %s", filter, cs, err, want)
		}
	}
	// id is not filterable on LKE clusters (x-linode-filterable).
	_, err := client.ListLKEClusters(ctx, linodego.NewListOptions(0, `{"id": 1}`))
	wantAPIError(t, err, http.StatusBadRequest)
}
