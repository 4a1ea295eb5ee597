package linodeclient_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/linode/linodego"

	"github.com/org/platform/pkg/linodeclient"
)

// failing is an API server whose first `fail` requests fail with status
// (0: the connection is dropped without an answer) and whose later ones
// answer 200 with an LKE cluster.
type failing struct {
	status  int
	fail    int32
	header  http.Header
	request atomic.Int32
}

func (f *failing) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.request.Add(1) <= f.fail {
		if f.status == 0 {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				panic(err)
			}
			_ = conn.Close()
			return
		}
		for k, v := range f.header {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(f.status)
		fmt.Fprintf(w, `{"errors":[{"reason":"%s"}]}`, http.StatusText(f.status))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if r.Method == http.MethodDelete {
		_, _ = w.Write([]byte(`{}`))
		return
	}
	_, _ = w.Write([]byte(`{"id": 7, "label": "prod", "region": "us-ord", "k8s_version": "1.34"}`))
}

// client returns a configured client of srv that opens a new connection
// per request, so that Go's transport never resends a request on its own
// (it does for a GET whose reused connection dropped) and every attempt
// counted is the retry layer's.
func client(srv *httptest.Server, opts ...linodeclient.Option) *linodego.Client {
	c := linodego.NewClient(&http.Client{Transport: &http.Transport{DisableKeepAlives: true}})
	c.SetBaseURL(srv.URL)
	c.SetToken("test")
	opts = append([]linodeclient.Option{linodeclient.WithRetryWait(time.Millisecond), linodeclient.WithRetryMaxWait(5 * time.Millisecond)}, opts...)
	return linodeclient.Configure(&c, opts...)
}

// send makes one request of the given method through c.
func send(ctx context.Context, c *linodego.Client, method string) error {
	switch method {
	case http.MethodGet:
		_, err := c.GetLKECluster(ctx, 7)
		return err
	case http.MethodPut:
		_, err := c.UpdateLKECluster(ctx, 7, linodego.LKEClusterUpdateOptions{Label: "prod"})
		return err
	case http.MethodDelete:
		return c.DeleteLKECluster(ctx, 7)
	case http.MethodPost:
		_, err := c.CreateLKECluster(ctx, linodego.LKEClusterCreateOptions{Label: "prod", Region: "us-ord", K8sVersion: "1.34"})
		return err
	}
	panic("no request for method " + method)
}

// TestRetryConditions fails each request twice, then answers: GET, PUT and
// DELETE come through 500, 502, 504 and dropped connections after three
// attempts; a POST is sent once on those (it may have created something);
// 400 and 404 are final for every method; linodego's own 429 and 503
// conditions still hold, for POST too.
func TestRetryConditions(t *testing.T) {
	t.Parallel()
	const dropped = 0
	tests := []struct {
		method   string
		status   int
		attempts int32 // 3: retried until it succeeded; 1: not retried
	}{
		{http.MethodGet, 500, 3},
		{http.MethodGet, 502, 3},
		{http.MethodGet, 504, 3},
		{http.MethodGet, dropped, 3},
		{http.MethodPut, 500, 3},
		{http.MethodPut, 502, 3},
		{http.MethodPut, 504, 3},
		{http.MethodPut, dropped, 3},
		{http.MethodDelete, 502, 3},
		{http.MethodDelete, dropped, 3},
		{http.MethodPost, 500, 1},
		{http.MethodPost, 502, 1},
		{http.MethodPost, 504, 1},
		{http.MethodPost, dropped, 1},
		{http.MethodGet, 400, 1},
		{http.MethodGet, 404, 1},
		{http.MethodPut, 400, 1},
		{http.MethodPut, 404, 1},
		{http.MethodDelete, 404, 1},
		{http.MethodPost, 400, 1},
		{http.MethodGet, 429, 3},
		{http.MethodPost, 429, 3},
		{http.MethodPost, 503, 3},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("%s %d", tt.method, tt.status)
		if tt.status == dropped {
			name = tt.method + " dropped connection"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := &failing{status: tt.status, fail: 2}
			srv := httptest.NewServer(f)
			defer srv.Close()

			err := send(t.Context(), client(srv), tt.method)

			if got := f.request.Load(); got != tt.attempts {
				t.Errorf("%d attempts, want %d", got, tt.attempts)
			}
			switch {
			case tt.attempts == 3 && err != nil:
				t.Errorf("retried request failed: %v", err)
			case tt.attempts == 1 && err == nil:
				t.Error("request not retried, yet no error returned")
			case tt.attempts == 1 && tt.status != dropped && !linodego.ErrHasStatus(err, tt.status):
				t.Errorf("error %v does not carry status %d", err, tt.status)
			}
		})
	}
}

// TestRetryCountBoundsAttempts checks that a GET failing for good is sent
// 1 + WithRetryCount times, and then returns the last answer's error.
func TestRetryCountBoundsAttempts(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 2, 5} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			t.Parallel()
			f := &failing{status: 502, fail: 1000}
			srv := httptest.NewServer(f)
			defer srv.Close()
			err := send(t.Context(), client(srv, linodeclient.WithRetryCount(n)), http.MethodGet)
			if !linodego.ErrHasStatus(err, 502) {
				t.Errorf("error %v, want the 502", err)
			}
			if got := f.request.Load(); got != int32(n+1) {
				t.Errorf("%d attempts with WithRetryCount(%d), want %d", got, n, n+1)
			}
		})
	}
}

// TestRetryAfterIsHonoured checks that a 429's Retry-After is waited, not
// the shorter backoff, up to the maximum wait.
func TestRetryAfterIsHonoured(t *testing.T) {
	t.Parallel()
	f := &failing{status: 429, fail: 1, header: http.Header{"Retry-After": {"1"}}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	c := client(srv, linodeclient.WithRetryMaxWait(10*time.Second))
	start := time.Now()
	if err := send(t.Context(), c, http.MethodGet); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < time.Second {
		t.Errorf("retried after %s, want the 1 s Retry-After", waited)
	}
	if got := f.request.Load(); got != 2 {
		t.Errorf("%d attempts, want 2", got)
	}
}

// TestNewClient checks that NewClient speaks v4beta with the token, and
// retries as Configure does.
func TestNewClient(t *testing.T) {
	t.Parallel()
	var path, auth atomic.Value
	f := &failing{status: 500, fail: 1}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path.Store(r.URL.Path)
		auth.Store(r.Header.Get("Authorization"))
		f.ServeHTTP(w, r)
	}))
	defer srv.Close()
	c := linodeclient.NewClient("s3cret", linodeclient.WithRetryWait(time.Millisecond))
	c.SetBaseURL(srv.URL) // keeps the API version
	if err := send(t.Context(), c, http.MethodGet); err != nil {
		t.Fatalf("GET after one 500: %v", err)
	}
	if p := path.Load().(string); !strings.HasPrefix(p, "/"+linodeclient.APIVersion+"/") {
		t.Errorf("request path %s, want API version %s", p, linodeclient.APIVersion)
	}
	if a := auth.Load().(string); a != "Bearer s3cret" {
		t.Errorf("Authorization %q, want the token", a)
	}
	if got := f.request.Load(); got != 2 {
		t.Errorf("%d attempts, want 2 (the 500 retried)", got)
	}
}
