package linodetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/linode/linodego"
)

// t0 is the model start time of tests on a ManualClock.
var t0 = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

// newManual starts a server on a manual clock.
func newManual(t *testing.T, opts ...Option) (*Server, *linodego.Client, *ManualClock) {
	t.Helper()
	clk := NewManualClock(t0)
	srv, client := New(t, append([]Option{WithClock(clk)}, opts...)...)
	return srv, client, clk
}

func ptr[T any](v T) *T { return &v }

// mustCluster creates a cluster through the API and fails the test on error.
func mustCluster(t *testing.T, client *linodego.Client, label string, counts ...int) *linodego.LKECluster {
	t.Helper()
	var pools []linodego.LKENodePoolCreateOptions
	for _, n := range counts {
		pools = append(pools, linodego.LKENodePoolCreateOptions{Count: n, Type: "g6-standard-2"})
	}
	c, err := client.CreateLKECluster(t.Context(), linodego.LKEClusterCreateOptions{
		Label: label, Region: "us-ord", K8sVersion: "1.33", NodePools: pools,
	})
	if err != nil {
		t.Fatalf("create LKE cluster %q: %v", label, err)
	}
	return c
}

// hasField reports whether a linodego error carries an error on field
// (linodego formats each as "[field] reason").
func hasField(lerr *linodego.Error, field string) bool {
	return strings.Contains(lerr.Message, "["+field+"]")
}

// wantAPIError asserts that err is a linodego error with status code.
func wantAPIError(t *testing.T, err error, code int) *linodego.Error {
	t.Helper()
	var lerr *linodego.Error
	if !errors.As(err, &lerr) {
		t.Fatalf("error = %v (%T), want *linodego.Error with code %d", err, err, code)
	}
	if lerr.Code != code {
		t.Fatalf("error code = %d (%v), want %d", lerr.Code, lerr, code)
	}
	return lerr
}

// rawResponse is a response read without linodego.
type rawResponse struct {
	status int
	header http.Header
	body   []byte
}

func (r rawResponse) errors(t *testing.T) []apiError {
	t.Helper()
	var env errorEnvelope
	if err := json.Unmarshal(r.body, &env); err != nil {
		t.Fatalf("decode error envelope %s: %v", r.body, err)
	}
	return env.Errors
}

// do sends a raw request to the server.
func do(t *testing.T, srv *Server, method, path string, body any, header map[string]string) rawResponse {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL()+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return rawResponse{status: resp.StatusCode, header: resp.Header, body: b}
}

// standardRules is a small valid rule set.
func standardRules() linodego.FirewallRuleSet {
	return linodego.FirewallRuleSet{
		InboundPolicy: "DROP", OutboundPolicy: "ACCEPT",
		Inbound: []linodego.FirewallRule{{
			Action: "ACCEPT", Label: "allow-https", Protocol: linodego.TCP, Ports: "443",
			Addresses: linodego.NetworkAddresses{IPv4: &[]string{"0.0.0.0/0"}, IPv6: &[]string{"::/0"}},
		}},
	}
}

func contextWithTimeout(t *testing.T, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(t.Context(), d)
}
