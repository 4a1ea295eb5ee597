package linodetest

import (
	"math"
	"math/rand/v2"
	"sync"
	"time"
)

// FaultKind names an injected fault.
type FaultKind string

// The faults the server can inject. "Before commit" faults fail the request
// without touching the state; "after commit" faults apply the request and
// then lose the response, and only strike mutating requests.
const (
	// FaultTooManyRequests answers 429 with Retry-After, before commit.
	FaultTooManyRequests FaultKind = "429"
	// FaultInternalServerError answers 500, before commit.
	FaultInternalServerError FaultKind = "500"
	// FaultBadGateway answers 502, before commit.
	FaultBadGateway FaultKind = "502"
	// FaultServiceUnavailable answers 503, before commit.
	FaultServiceUnavailable FaultKind = "503"
	// FaultDropConnection closes the connection without a response, before
	// commit.
	FaultDropConnection FaultKind = "drop"
	// FaultDropAfterCommit applies the request, then closes the connection
	// without a response.
	FaultDropAfterCommit FaultKind = "drop-after-commit"
	// FaultBadGatewayAfterCommit applies the request, then answers 502.
	FaultBadGatewayAfterCommit FaultKind = "502-after-commit"
)

// AllFaultKinds lists every FaultKind.
var AllFaultKinds = []FaultKind{
	FaultTooManyRequests, FaultInternalServerError, FaultBadGateway, FaultServiceUnavailable,
	FaultDropConnection, FaultDropAfterCommit, FaultBadGatewayAfterCommit,
}

func (k FaultKind) valid() bool {
	for _, v := range AllFaultKinds {
		if k == v {
			return true
		}
	}
	return false
}

func (k FaultKind) beforeCommit() bool {
	switch k {
	case FaultTooManyRequests, FaultInternalServerError, FaultBadGateway, FaultServiceUnavailable, FaultDropConnection:
		return true
	}
	return false
}

// AfterCommit reports whether the fault strikes after the state change.
func (k FaultKind) AfterCommit() bool {
	return k == FaultDropAfterCommit || k == FaultBadGatewayAfterCommit
}

// FaultConfig says which faults to inject and how often. Decisions come from
// a generator seeded with Seed, one per eligible request in order of
// arrival: the same seed and the same sequence of requests give the same
// faults. A request is eligible when at least one of Kinds applies to it
// (after-commit kinds apply to mutating requests only); Rate is the share
// of eligible requests that fail.
//
// Note how clients see them: the clients New and NewClient return are
// configured by pkg/linodeclient, so they retry 429 and 503 on every
// method (honouring Retry-After up to their maximum wait), and 500, 502
// and dropped connections on GET, PUT and DELETE, up to ClientRetryCount
// times; a POST answered 500 or 502, or whose connection dropped, returns
// an error, although after an after-commit fault the change was made. Go's
// HTTP transport may itself resend a GET whose reused connection dropped
// (the server logs both attempts).
type FaultConfig struct {
	// Rate is the probability, within [0, 1], that an eligible request fails.
	Rate float64
	// Seed seeds the fault decisions.
	Seed int64
	// Kinds are the faults to choose from, uniformly. Empty means all.
	Kinds []FaultKind
	// RetryAfter is the Retry-After of injected 429s, rounded up to whole
	// seconds. Default 1 s.
	RetryAfter time.Duration
	// Match, if set, limits faults to the requests for which it returns
	// true (route is the matched pattern, such as /lke/clusters/{clusterId}).
	Match func(method, route string) bool
}

type faultInjector struct {
	mu  sync.Mutex
	cfg FaultConfig
	rng *rand.Rand
}

func newFaultInjector(fc FaultConfig) *faultInjector {
	if len(fc.Kinds) == 0 {
		fc.Kinds = AllFaultKinds
	}
	return &faultInjector{cfg: fc, rng: rand.New(rand.NewPCG(uint64(fc.Seed), 0xfa017))} //nolint:gosec // simulation
}

func (f *faultInjector) decide(mutating bool, method, route string) FaultKind {
	if f.cfg.Rate <= 0 {
		return ""
	}
	if f.cfg.Match != nil && !f.cfg.Match(method, route) {
		return ""
	}
	var kinds [8]FaultKind
	n := 0
	for _, k := range f.cfg.Kinds {
		if k.AfterCommit() && !mutating {
			continue
		}
		kinds[n] = k
		n++
	}
	if n == 0 {
		return ""
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	hit := f.rng.Float64() < f.cfg.Rate
	pick := f.rng.IntN(n)
	if !hit {
		return ""
	}
	return kinds[pick]
}

func (f *faultInjector) retryAfterSeconds() int {
	d := f.cfg.RetryAfter
	if d <= 0 {
		return 1
	}
	return int(math.Ceil(d.Seconds()))
}

// FaultCounts are the faults injected, by kind, overall and for mutating
// (write) requests.
type FaultCounts struct {
	Total        int
	Writes       int
	ByKind       map[FaultKind]int
	WritesByKind map[FaultKind]int
}

func newFaultCounts() FaultCounts {
	return FaultCounts{ByKind: map[FaultKind]int{}, WritesByKind: map[FaultKind]int{}}
}

func (s *Server) countFault(k FaultKind, write bool) {
	s.recMu.Lock()
	defer s.recMu.Unlock()
	s.faultCounts.Total++
	s.faultCounts.ByKind[k]++
	if write {
		s.faultCounts.Writes++
		s.faultCounts.WritesByKind[k]++
	}
}

// FaultCounts returns the faults injected since the start or the last
// ResetCounts, hook-injected ones included.
func (s *Server) FaultCounts() FaultCounts {
	s.recMu.Lock()
	defer s.recMu.Unlock()
	out := newFaultCounts()
	out.Total, out.Writes = s.faultCounts.Total, s.faultCounts.Writes
	for k, v := range s.faultCounts.ByKind {
		out.ByKind[k] = v
	}
	for k, v := range s.faultCounts.WritesByKind {
		out.WritesByKind[k] = v
	}
	return out
}

// HookRequest describes a request to a RequestHook.
type HookRequest struct {
	// Seq numbers requests from 1 in order of arrival.
	Seq    int
	Method string
	// Path is the request path with its version prefix.
	Path string
	// Route is the matched pattern, empty if none matched.
	Route string
}

// HookAction is what a RequestHook wants done with a request. The zero
// value lets it through untouched.
type HookAction struct {
	// Delay holds the request for this long (real time) before handling.
	Delay time.Duration
	// Fault, if set, is injected into this request instead of the random
	// decision (an after-commit kind on a GET behaves as after-commit too:
	// the GET is answered, then the response is lost).
	Fault FaultKind
}

// RequestHook inspects each request before it is handled and may delay it
// or fail it. It is called concurrently for concurrent requests.
type RequestHook func(HookRequest) HookAction
