package linodetest

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/linode/linodego"
)

func TestErrorsAndHeaders(t *testing.T) {
	t.Parallel()
	srv, client, _ := newManual(t)
	c := mustCluster(t, client, "hdr", 1)
	id := strconv.Itoa(c.ID)
	for _, tc := range []struct {
		name       string
		method     string
		path       string
		body       any
		wantStatus int
		wantBody   string // exact, when set
		wantField  string
	}{
		{"get v4", "GET", "/v4/lke/clusters/" + id, nil, 200, "", ""},
		{"get v4beta", "GET", "/v4beta/lke/clusters/" + id, nil, 200, "", ""},
		{"unknown id", "GET", "/v4/lke/clusters/999999", nil, 404, `{"errors":[{"reason":"Not found"}]}`, ""},
		{"non-numeric id", "GET", "/v4/lke/clusters/abc", nil, 404, `{"errors":[{"reason":"Not found"}]}`, ""},
		{"unknown path", "GET", "/v4/nothing/here", nil, 404, `{"errors":[{"reason":"Not found"}]}`, ""},
		{"unknown version", "GET", "/v3/lke/clusters", nil, 404, `{"errors":[{"reason":"Not found"}]}`, ""},
		{"method not allowed", "PATCH", "/v4/lke/clusters/" + id, nil, 405, "", ""},
		{"malformed JSON", "POST", "/v4/networking/firewalls", "not an object", 400, "", ""},
		{"missing label", "POST", "/v4/vpcs", map[string]any{"region": "us-ord"}, 400, "", "label"},
		{"delete returns {}", "DELETE", "/v4/lke/clusters/" + id + "/servicetoken", nil, 200, `{}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp := do(t, srv, tc.method, tc.path, tc.body, nil)
			if resp.status != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", resp.status, tc.wantStatus, resp.body)
			}
			if cts := resp.header.Values("Content-Type"); len(cts) != 1 || cts[0] != "application/json" {
				t.Errorf("Content-Type = %q, want exactly application/json", cts)
			}
			for _, h := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} {
				if _, err := strconv.Atoi(resp.header.Get(h)); err != nil {
					t.Errorf("%s = %q", h, resp.header.Get(h))
				}
			}
			if tc.wantBody != "" && string(resp.body) != tc.wantBody {
				t.Errorf("body = %s, want %s", resp.body, tc.wantBody)
			}
			if tc.wantStatus >= 400 {
				errs := resp.errors(t)
				if len(errs) == 0 || errs[0].Reason == "" {
					t.Errorf("error envelope = %s", resp.body)
				}
				if tc.wantField != "" && errs[0].Field != tc.wantField {
					t.Errorf("field = %q, want %q", errs[0].Field, tc.wantField)
				}
			}
		})
	}
	// linodego turns the envelope into a typed error.
	_, err := client.GetLKECluster(t.Context(), 424242)
	lerr := wantAPIError(t, err, http.StatusNotFound)
	if !linodego.IsNotFound(err) || !strings.Contains(lerr.Message, "Not found") {
		t.Errorf("linodego error = %v", lerr)
	}
	// HEAD answers headers only.
	resp := do(t, srv, "HEAD", "/v4/lke/clusters/"+id, nil, nil)
	if resp.status != 200 || len(resp.body) != 0 || resp.header.Get("Content-Type") != "application/json" {
		t.Errorf("HEAD = %d %q %s", resp.status, resp.header.Get("Content-Type"), resp.body)
	}
}
