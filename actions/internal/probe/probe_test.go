package probe

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
)

// stub is an httptest server standing in for the ingress controller or the
// sample service (kwok's pods serve nothing): it answers status after delay.
func stub(t *testing.T, status int, delay time.Duration) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, "hello")
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestProbeJudgesEachTarget: 2xx within the budget is ok; a 503, an answer
// slower than the budget, a refused connection and a redirect each fail
// their target, and any failure fails the environment. The slow target
// does not hold the probe past its budget.
func TestProbeJudgesEachTarget(t *testing.T) {
	t.Parallel()
	const budget = 200 * time.Millisecond
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()
	redirect := httptest.NewServer(http.RedirectHandler("/elsewhere", http.StatusFound))
	t.Cleanup(redirect.Close)

	for _, tc := range []struct {
		name   string
		url    string
		ok     bool
		status int
		err    string
	}{
		{"ok", stub(t, http.StatusOK, 0), true, 200, ""},
		{"no content", stub(t, http.StatusNoContent, 0), true, 204, ""},
		{"unavailable", stub(t, http.StatusServiceUnavailable, 0), false, 503, "answered 503 Service Unavailable"},
		{"slow", stub(t, http.StatusOK, 5*budget), false, 0, "no answer within its budget of 200ms"},
		{"refused", closedURL, false, 0, "connection refused"},
		{"redirect", redirect.URL, false, 302, "answered 302 Found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			rep, err := Probe(t.Context(), "staging", []Target{{Name: "ingress", URL: tc.url}}, WithBudget(budget), WithLogger(zaptest.NewLogger(t)))
			if err != nil {
				t.Fatal(err)
			}
			if took := time.Since(start); took > budget+time.Second {
				t.Errorf("the probe took %s, far over its %s budget", took, budget)
			}
			r := rep.Results[0]
			if r.OK != tc.ok || r.Status != tc.status || r.Target != "ingress" || r.URL != tc.url {
				t.Errorf("result %+v; want ok %v, status %d", r, tc.ok, tc.status)
			}
			if tc.ok != (r.Err == nil) || (r.Err != nil && !strings.Contains(r.Err.Error(), tc.err)) {
				t.Errorf("error %v; want %q", r.Err, tc.err)
			}
			if want := map[bool]Verdict{true: VerdictOK, false: VerdictFailed}[tc.ok]; rep.Verdict() != want {
				t.Errorf("verdict %s; want %s", rep.Verdict(), want)
			}
			if r.Latency <= 0 || r.Latency > budget+time.Second {
				t.Errorf("latency %s", r.Latency)
			}
		})
	}
}

// TestTargetsAreProbedConcurrently: three targets each taking most of the
// budget finish together, within about one budget, not three; one failure
// among them fails the environment and only that target.
func TestTargetsAreProbedConcurrently(t *testing.T) {
	t.Parallel()
	const budget = 600 * time.Millisecond
	targets := []Target{
		{Name: TargetAPIServer, URL: stub(t, 200, 300*time.Millisecond)},
		{Name: TargetIngress, URL: stub(t, 200, 300*time.Millisecond)},
		{Name: TargetSample, URL: stub(t, 503, 300*time.Millisecond)},
	}
	rep, err := Probe(t.Context(), "production", targets, WithBudget(budget))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Elapsed >= 900*time.Millisecond {
		t.Errorf("three 300ms targets took %s: not probed concurrently", rep.Elapsed)
	}
	if rep.Verdict() != VerdictFailed || len(rep.Failed()) != 1 || rep.Failed()[0].Target != TargetSample {
		t.Errorf("verdict %s, failed %+v; want the sample service alone", rep.Verdict(), rep.Failed())
	}
	for i, r := range rep.Results {
		if r.Target != targets[i].Name {
			t.Errorf("results[%d] is %s; want the order of the targets", i, r.Target)
		}
	}
}

// TestProbeRefusesBadInput: bad targets and budgets fail before any
// request, naming the field.
func TestProbeRefusesBadInput(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { mu.Lock(); hits++; mu.Unlock() }))
	t.Cleanup(srv.Close)
	for _, tc := range []struct {
		name    string
		targets []Target
		opts    []Option
		want    string
	}{
		{"none", nil, nil, "targets: none given"},
		{"no name", []Target{{URL: srv.URL}}, nil, "targets[0].name: empty"},
		{"twice", []Target{{Name: "a", URL: srv.URL}, {Name: "a", URL: srv.URL}}, nil, "targets[a]: given twice"},
		{"not http", []Target{{Name: "a", URL: srv.URL}, {Name: "b", URL: "ftp://x"}}, nil, `targets[b].url: "ftp://x" is not an http(s) URL`},
		{"budget zero", []Target{{Name: "a", URL: srv.URL}}, []Option{WithBudget(0)}, "budget: must be more than 0"},
		{"budget over", []Target{{Name: "a", URL: srv.URL}}, []Option{WithBudget(11 * time.Second)}, "at most 10s"},
	} {
		_, err := Probe(t.Context(), "dev", tc.targets, tc.opts...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want %q", tc.name, err, tc.want)
		}
	}
	if hits != 0 {
		t.Errorf("bad input sent %d requests", hits)
	}
}

// TestNotifyFailure posts only failed reports, naming the environment and
// target, and never the webhook's secret path in an error.
func TestNotifyFailure(t *testing.T) {
	t.Parallel()
	var posts []string
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var msg map[string]string
		if r.Header.Get("Content-Type") != "application/json" || json.NewDecoder(r.Body).Decode(&msg) != nil {
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		posts = append(posts, msg["text"])
	}))
	t.Cleanup(recv.Close)
	n := Notifier{URL: recv.URL + "/services/T/B/secret-hook"}
	ok, err := Probe(t.Context(), "development", []Target{{Name: TargetIngress, URL: stub(t, 200, 0)}})
	if err != nil {
		t.Fatal(err)
	}
	bad, err := Probe(t.Context(), "staging", []Target{{Name: TargetSample, URL: stub(t, 503, 0)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.NotifyFailure(t.Context(), ok); err != nil || len(posts) != 0 {
		t.Fatalf("an ok report posted %q (%v)", posts, err)
	}
	if err := n.NotifyFailure(t.Context(), ok, bad); err != nil {
		t.Fatal(err)
	}
	if len(posts) != 1 || !strings.Contains(posts[0], "*staging*") || !strings.Contains(posts[0], "sample-service") ||
		!strings.Contains(posts[0], "503") || strings.Contains(posts[0], "development") {
		t.Errorf("posted %q", posts)
	}
	dead := Notifier{URL: "http://127.0.0.1:1/services/T/B/secret-hook"}
	if err := dead.NotifyFailure(t.Context(), bad); err == nil || strings.Contains(err.Error(), "secret-hook") {
		t.Errorf("a dead webhook: %v", err)
	}
}
