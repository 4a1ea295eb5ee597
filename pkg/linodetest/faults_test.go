package linodetest

import (
	"bytes"
	"errors"
	"math"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/linode/linodego"
)

// rawSequence sends n requests, alternating a GET and a POST, on fresh
// connections (so that Go's transport never resends a dropped request),
// and returns the fault of each as the server logged it.
func rawSequence(t *testing.T, srv *Server, n int) []FaultKind {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for i := range n {
		var req *http.Request
		var err error
		if i%2 == 0 {
			req, err = http.NewRequestWithContext(t.Context(), "GET", srv.URL()+"/v4/regions/us-ord", nil)
		} else {
			req, err = http.NewRequestWithContext(t.Context(), "POST", srv.URL()+"/v4/object-storage/keys", bytes.NewReader([]byte(`{"label":"k"}`)))
		}
		if err != nil {
			t.Fatal(err)
		}
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
		}
	}
	var out []FaultKind
	for _, r := range srv.Requests() {
		out = append(out, r.Fault)
	}
	if len(out) != n {
		t.Fatalf("server logged %d requests, want %d", len(out), n)
	}
	return out
}

func TestFaultsAreReproducible(t *testing.T) {
	t.Parallel()
	run := func(seed int64) []FaultKind {
		srv, _ := New(t, WithFaults(FaultConfig{Rate: 0.3, Seed: seed}))
		return rawSequence(t, srv, 400)
	}
	a, b, c := run(42), run(42), run(43)
	if !slices.Equal(a, b) {
		t.Error("the same seed gave different fault sequences")
	}
	if slices.Equal(a, c) {
		t.Error("different seeds gave the same fault sequence")
	}
}

func TestFaultRateAndKinds(t *testing.T) {
	t.Parallel()
	for _, rate := range []float64{0.05, 0.2, 0.5} {
		srv, _ := New(t, WithFaults(FaultConfig{Rate: rate, Seed: 7}))
		const n = 1200
		seq := rawSequence(t, srv, n)
		faults := 0
		for _, k := range seq {
			if k != "" {
				faults++
			}
		}
		observed := float64(faults) / n
		t.Logf("rate %.2f: observed %.4f over %d requests", rate, observed, n)
		if math.Abs(observed-rate) > 0.03 {
			t.Errorf("rate %.2f: observed %.4f, more than 3 points off", rate, observed)
		}
		fc := srv.FaultCounts()
		if fc.Total != faults {
			t.Errorf("FaultCounts().Total = %d, log says %d", fc.Total, faults)
		}
		if rate == 0.5 {
			for _, k := range AllFaultKinds {
				if fc.ByKind[k] == 0 {
					t.Errorf("fault %s never occurred", k)
				}
			}
			for _, k := range []FaultKind{FaultDropAfterCommit, FaultBadGatewayAfterCommit} {
				if fc.WritesByKind[k] != fc.ByKind[k] {
					t.Errorf("after-commit fault %s struck a read: %d of %d on writes", k, fc.WritesByKind[k], fc.ByKind[k])
				}
			}
			if fc.Writes == 0 || fc.Writes >= fc.Total {
				t.Errorf("writes %d of %d faults", fc.Writes, fc.Total)
			}
		}
	}
}

func TestAfterCommitFaultsChangeState(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		fault     FaultKind
		committed bool
	}{
		{FaultDropAfterCommit, true},
		{FaultBadGatewayAfterCommit, true},
		{FaultDropConnection, false},
		{FaultInternalServerError, false},
		{FaultBadGateway, false},
	} {
		t.Run(string(tc.fault), func(t *testing.T) {
			t.Parallel()
			hook := func(r HookRequest) HookAction {
				if r.Method == "POST" && r.Route == "/networking/firewalls" {
					return HookAction{Fault: tc.fault}
				}
				return HookAction{}
			}
			srv, client := New(t, WithRequestHook(hook))
			_, err := client.CreateFirewall(t.Context(), linodego.FirewallCreateOptions{Label: "fw-fault", Rules: standardRules()})
			if err == nil {
				t.Fatal("the client saw no error")
			}
			fws, lerr := client.ListFirewalls(t.Context(), nil)
			if lerr != nil {
				t.Fatal(lerr)
			}
			if got := len(fws) == 1; got != tc.committed {
				t.Fatalf("firewall exists after %s: %v, want %v (client error: %v)", tc.fault, got, tc.committed, err)
			}
			var posts int
			for _, r := range srv.Requests() {
				if r.Method == "POST" {
					posts++
					if r.Fault != tc.fault {
						t.Errorf("logged fault %q, want %q", r.Fault, tc.fault)
					}
				}
			}
			if posts != 1 {
				t.Errorf("linodego sent the POST %d times, want once (it does not resend writes)", posts)
			}
			if srv.FaultCounts().WritesByKind[tc.fault] != 1 {
				t.Errorf("fault counts = %+v", srv.FaultCounts())
			}
		})
	}
}

func TestRandomAfterCommitOnPOST(t *testing.T) {
	t.Parallel()
	srv, client := New(t, WithFaults(FaultConfig{Rate: 0.5, Seed: 3, Kinds: []FaultKind{FaultDropAfterCommit, FaultBadGatewayAfterCommit}}))
	ok := 0
	for i := range 40 {
		_, err := client.CreateObjectStorageKey(t.Context(), linodego.ObjectStorageKeyCreateOptions{Label: "k" + itoa3(i)})
		if err == nil {
			ok++
		}
	}
	fc := srv.FaultCounts()
	if fc.Writes == 0 || ok == 40 {
		t.Fatalf("no after-commit fault in 40 POSTs: %+v", fc)
	}
	if n := len(srv.Dump().ObjectStorageKeys); n != 40 {
		t.Errorf("%d keys exist after 40 POSTs of which %d failed after commit; want 40", n, 40-ok)
	}
}

func TestHookDelayAndLatency(t *testing.T) {
	t.Parallel()
	var seen []int
	srv, client := New(t, WithLatency(10*time.Millisecond), WithRequestHook(func(r HookRequest) HookAction {
		seen = append(seen, r.Seq)
		if r.Seq == 2 {
			return HookAction{Delay: 50 * time.Millisecond}
		}
		if r.Seq == 3 {
			return HookAction{Fault: FaultInternalServerError}
		}
		return HookAction{}
	}))
	client.SetRetryCount(0) // the injected 500 must reach the caller, not be retried
	ctx := t.Context()
	start := time.Now()
	if _, err := client.GetProfile(ctx); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 10*time.Millisecond {
		t.Errorf("request took %s despite 10 ms latency", d)
	}
	start = time.Now()
	if _, err := client.GetProfile(ctx); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 60*time.Millisecond {
		t.Errorf("delayed request took %s, want ≥ 60 ms", d)
	}
	_, err := client.GetProfile(ctx)
	wantAPIError(t, err, http.StatusInternalServerError)
	if _, err := client.GetProfile(ctx); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(seen, []int{1, 2, 3, 4}) {
		t.Errorf("hook saw %v", seen)
	}
	if srv.FaultCounts().ByKind[FaultInternalServerError] != 1 {
		t.Errorf("fault counts = %+v", srv.FaultCounts())
	}

	// A short client deadline gives up on a slow request.
	slow, slowClient := New(t, WithLatency(time.Second))
	cctx, cancel := contextWithTimeout(t, 20*time.Millisecond)
	defer cancel()
	_, err = slowClient.GetProfile(cctx)
	if err == nil || !errors.Is(err, cctx.Err()) && cctx.Err() == nil {
		t.Errorf("slow request: %v", err)
	}
	_ = slow
}

func TestFaultOptionErrors(t *testing.T) {
	t.Parallel()
	for _, o := range []Option{
		WithFaults(FaultConfig{Rate: 1.5}),
		WithFaults(FaultConfig{Rate: 0.1, Kinds: []FaultKind{"418"}}),
		WithTimeScale(0),
		WithLatency(-time.Second),
		WithClock(nil),
		WithRateLimits(RateLimits{Window: -time.Second}),
	} {
		cfg := defaultConfig()
		if err := o(&cfg); err == nil {
			t.Errorf("option accepted a bad value")
		}
	}
}
