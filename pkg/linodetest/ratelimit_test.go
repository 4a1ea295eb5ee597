package linodetest

import (
	"net/http"
	"strconv"
	"testing"
	"time"
)

func TestRateLimitHeadersAnd429(t *testing.T) {
	t.Parallel()
	srv, _, clk := newManual(t, WithRateLimits(RateLimits{Window: time.Minute, CollectionGET: 2, Other: 3}))
	windowEnd := t0.Truncate(time.Minute).Add(time.Minute)
	for i := range 3 {
		resp := do(t, srv, "GET", "/v4/regions/us-ord", nil, nil)
		if resp.status != 200 {
			t.Fatalf("request %d: %d", i, resp.status)
		}
		if got := resp.header.Get("X-RateLimit-Remaining"); got != strconv.Itoa(2-i) {
			t.Errorf("request %d: remaining %s, want %d", i, got, 2-i)
		}
		if resp.header.Get("X-RateLimit-Limit") != "3" || resp.header.Get("X-RateLimit-Reset") != strconv.FormatInt(windowEnd.Unix(), 10) {
			t.Errorf("request %d: limit %s reset %s", i, resp.header.Get("X-RateLimit-Limit"), resp.header.Get("X-RateLimit-Reset"))
		}
	}
	resp := do(t, srv, "GET", "/v4/regions/us-ord", nil, nil)
	wantRetry := int(windowEnd.Sub(t0).Seconds() + 0.999)
	if resp.status != http.StatusTooManyRequests || resp.header.Get("Retry-After") != strconv.Itoa(wantRetry) || resp.header.Get("Content-Type") != "application/json" {
		t.Fatalf("over the limit: %d Retry-After %q, want 429 and %d", resp.status, resp.header.Get("Retry-After"), wantRetry)
	}
	if errs := resp.errors(t); len(errs) != 1 {
		t.Errorf("429 body = %s", resp.body)
	}
	// Collection GETs have their own bucket.
	for i := range 2 {
		if resp := do(t, srv, "GET", "/v4/regions", nil, nil); resp.status != 200 || resp.header.Get("X-RateLimit-Limit") != "2" {
			t.Fatalf("list %d: %d limit %s", i, resp.status, resp.header.Get("X-RateLimit-Limit"))
		}
	}
	if resp := do(t, srv, "GET", "/v4/regions", nil, nil); resp.status != http.StatusTooManyRequests {
		t.Fatalf("third list: %d", resp.status)
	}
	// The next window of model time lets requests through again.
	clk.Set(windowEnd)
	if resp := do(t, srv, "GET", "/v4/regions/us-ord", nil, nil); resp.status != 200 || resp.header.Get("X-RateLimit-Remaining") != "2" {
		t.Fatalf("next window: %d remaining %s", resp.status, resp.header.Get("X-RateLimit-Remaining"))
	}
}

func TestLinodegoRetries429(t *testing.T) {
	t.Parallel()
	// A 5 s window at ×1000 lasts 5 ms; the client's retries (5 ms apart,
	// capped Retry-After) outlast it.
	srv, client := New(t, WithTimeScale(1000), WithRateLimits(RateLimits{Window: 5 * time.Second, Other: 2, CollectionGET: 2}))
	for i := range 20 {
		if _, err := client.GetProfile(t.Context()); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	throttled := 0
	for _, r := range srv.Requests() {
		if r.Status == http.StatusTooManyRequests {
			throttled++
		}
	}
	if throttled == 0 {
		t.Fatal("no request was throttled; the test proves nothing")
	}
	t.Logf("%d requests throttled and retried", throttled)
}

func TestLinodegoHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	// Real time, one-second windows of one request each: a request in a used
	// window is told to come back when it ends (Retry-After: 1), and the
	// client waits that long before its retry succeeds.
	srv, client := New(t, WithTimeScale(1), WithRateLimits(RateLimits{Window: time.Second, Other: 1, CollectionGET: 1}))
	client.SetRetryMaxWaitTime(3 * time.Second)
	for i := 0; i < 3; i++ {
		seen := len(srv.Requests())
		start := time.Now()
		if _, err := client.GetProfile(t.Context()); err != nil {
			t.Fatal(err)
		}
		elapsed := time.Since(start)
		reqs := srv.Requests()[seen:]
		if reqs[0].Status != http.StatusTooManyRequests {
			continue // this call opened a fresh window
		}
		if len(reqs) != 2 || reqs[1].Status != 200 {
			t.Fatalf("attempts = %+v, want a 429 then a 200", reqs)
		}
		if elapsed < 900*time.Millisecond {
			t.Errorf("client retried after %s, before Retry-After (1 s)", elapsed)
		}
		return
	}
	t.Fatal("three calls in a row were never throttled")
}
