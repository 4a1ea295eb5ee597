package linodetest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linode/linodego"
	"go.uber.org/zap"

	"github.com/org/platform/pkg/linodeclient"
)

// Client retry settings of the clients New and NewClient return, which
// pkg/linodeclient configures as it does a client of the real API (the
// same conditions: linodego's, plus 500, 502, 504 and dropped connections
// for GET, PUT and DELETE) with waits small enough for tests. linodego's
// own defaults (1000 retries, 3–30 s apart) would hang a test.
const (
	ClientRetryCount   = 3
	ClientRetryWait    = time.Millisecond
	ClientRetryMaxWait = 5 * time.Millisecond
)

// Server is a running Linode API v4 simulator. All methods are safe for
// concurrent use.
type Server struct {
	cfg    config
	clock  Clock
	log    *zap.Logger
	tb     testing.TB
	hs     *httptest.Server
	router *router

	mu    sync.Mutex // guards state, rng and s3
	state *State
	rng   *rand.Rand
	s3    map[string]*s3Site // the S3 server of each Object Storage region, started on first use

	recMu       sync.Mutex // guards the request log and the counters
	seq         int
	requests    []RequestRecord
	logBase     int // Seq of requests[0]
	counts      Counts
	faultCounts FaultCounts
	valErrors   int

	limiter   *rateLimiter
	faults    *faultInjector
	validator responseValidator

	closeOnce sync.Once
}

// New starts a simulator for the test tb, closes it when the test ends, and
// returns it with a linodego client pointed at it (API version v4beta,
// retry settings ClientRetryCount/ClientRetryWait/ClientRetryMaxWait).
// Contract validation is on unless WithValidation(false) is given; a
// response that breaks the contract fails the test. Without Linode's
// OpenAPI description (see SpecPath) the server carries on unvalidated
// after a one-line notice, or fails the test when
// $LINODETEST_REQUIRE_CONTRACT is set. A bad option fails the
// test at once.
func New(tb testing.TB, opts ...Option) (*Server, *linodego.Client) {
	tb.Helper()
	cfg := defaultConfig()
	on := true
	cfg.validation = &on
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			tb.Fatalf("linodetest.New: %v", err)
		}
	}
	s := newServer(cfg)
	s.tb = tb
	if *s.cfg.validation {
		v, err := s.loadValidator()
		switch {
		case err != nil && isSpecMissing(err) && !specRequired():
			tb.Logf("linodetest: contract validation skipped: Linode's openapi.yaml not found; point %s (or WithSpecPath) at it to check every response", EnvSpecPath)
		case err != nil && isSpecMissing(err):
			tb.Fatalf("linodetest: contract validation needs the Linode OpenAPI description: %v", err)
		case err != nil:
			tb.Fatalf("linodetest: contract validation: %v", err)
		default:
			s.validator = v
		}
	}
	s.start()
	tb.Cleanup(s.Close)
	return s, s.NewClient()
}

// Start starts a simulator listening on 127.0.0.1 for use outside tests
// (example programs, demos). It runs until Close is called or ctx ends.
// Contract validation is off unless WithValidation(true) is given; then
// violations are logged and counted (ValidationErrors) and a missing
// contract is an error.
func Start(ctx context.Context, opts ...Option) (*Server, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, fmt.Errorf("start Linode simulator: %w", err)
		}
	}
	s := newServer(cfg)
	if s.cfg.validation != nil && *s.cfg.validation {
		v, err := s.loadValidator()
		if err != nil && isSpecMissing(err) {
			return nil, fmt.Errorf("start Linode simulator: contract validation: %w", err)
		}
		if err != nil {
			return nil, fmt.Errorf("start Linode simulator: contract validation: %w", err)
		}
		s.validator = v
	}
	s.start()
	context.AfterFunc(ctx, s.Close)
	return s, nil
}

func newServer(cfg config) *Server {
	if cfg.clock == nil {
		cfg.clock = NewScaledClock(DefaultTimeScale)
	}
	s := &Server{
		cfg:    cfg,
		clock:  cfg.clock,
		log:    cfg.logger,
		router: allRoutes(),
		state:  newState(),
		rng:    rand.New(rand.NewPCG(uint64(cfg.seed), 0x6c696e6f6465)), //nolint:gosec // simulation, not security
	}
	s.limiter = newRateLimiter(cfg.rateLimits)
	s.faults = newFaultInjector(cfg.faults)
	s.counts.ByEndpoint = map[string]int{}
	s.faultCounts = newFaultCounts()
	return s
}

func (s *Server) start() {
	s.hs = httptest.NewUnstartedServer(s)
	s.hs.Start()
	s.log.Debug("linode simulator started", zap.String("url", s.hs.URL))
}

// URL returns the server's base URL, such as http://127.0.0.1:41234 (without
// an API version; the server accepts both /v4/ and /v4beta/).
func (s *Server) URL() string { return s.hs.URL }

// Close stops the server, waiting for requests in flight. It is idempotent.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.hs.Close()
		s.closeS3()
		s.log.Debug("linode simulator closed")
	})
}

// Clock returns the clock the server tells model time by.
func (s *Server) Clock() Clock { return s.clock }

// NewClient returns a new linodego client pointed at the server (API
// version v4beta) with a dummy token, its retries configured by
// linodeclient.Configure with the small settings ClientRetryCount,
// ClientRetryWait and ClientRetryMaxWait.
func (s *Server) NewClient() *linodego.Client {
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	c := linodego.NewClient(hc)
	c.SetBaseURL(s.hs.URL)
	c.SetAPIVersion(linodeclient.APIVersion)
	c.SetToken("linodetest-token")
	c.SetPollDelay(ClientRetryMaxWait)
	return linodeclient.Configure(&c,
		linodeclient.WithRetryCount(ClientRetryCount),
		linodeclient.WithRetryWait(ClientRetryWait),
		linodeclient.WithRetryMaxWait(ClientRetryMaxWait))
}

// Mutate runs fn on the state under the server's lock, out of band: it is
// not an API request and is neither counted nor logged. Node recycling is
// brought up to the current model time first. fn must not call methods of
// the Server.
func (s *Server) Mutate(fn func(*State)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance(s.clock.Now())
	fn(s.state)
}

// Dump returns a deep copy of the state at the current model time, with
// the Status fields filled in. It is not an API request.
func (s *Server) Dump() *State {
	s.mu.Lock()
	now := s.clock.Now()
	s.advance(now)
	s.state.Now = now
	for _, c := range s.state.Clusters {
		c.Status = clusterStatus(c)
		for _, p := range c.Pools {
			for _, n := range p.Nodes {
				n.Status = statusAt(now, n.ReadyAt)
			}
		}
	}
	b, err := json.Marshal(s.state)
	s.mu.Unlock()
	if err != nil {
		panic(fmt.Sprintf("linodetest: marshal state: %v", err)) // only plain data: cannot happen
	}
	out := newState()
	if err := json.Unmarshal(b, out); err != nil {
		panic(fmt.Sprintf("linodetest: copy state: %v", err))
	}
	out.ids = idCounters{}
	return out
}

// SetPoolCount sets the node count of a pool out of band, as the cluster
// autoscaler does: new nodes start not ready, removed nodes go from the end.
// It is not an API request.
func (s *Server) SetPoolCount(clusterID, poolID, n int) error {
	if n < 0 {
		return fmt.Errorf("set pool %d count: negative count %d", poolID, n)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	s.advance(now)
	c := s.state.Clusters[clusterID]
	if c == nil {
		return fmt.Errorf("set pool %d count: LKE cluster %d not found", poolID, clusterID)
	}
	p := c.pool(poolID)
	if p == nil {
		return fmt.Errorf("set pool %d count: pool not found in LKE cluster %d", poolID, clusterID)
	}
	s.resizePool(c, p, n, now)
	return nil
}

// MarkClusterReady makes a cluster, its kubeconfig and all its nodes ready
// now, out of band. It is not an API request.
func (s *Server) MarkClusterReady(clusterID int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	s.advance(now)
	c := s.state.Clusters[clusterID]
	if c == nil {
		return fmt.Errorf("mark LKE cluster %d ready: not found", clusterID)
	}
	if c.ReadyAt.After(now) {
		c.ReadyAt = now
	}
	if c.KubeconfigReadyAt.After(now) {
		c.KubeconfigReadyAt = now
	}
	for _, p := range c.Pools {
		for _, n := range p.Nodes {
			if n.ReadyAt.After(now) {
				n.ReadyAt = now
			}
			if n.InstanceAt.After(now) {
				n.InstanceAt = now
			}
		}
	}
	if len(c.RecycleQueue) > 0 && c.RecycleNextAt.After(now) {
		c.RecycleNextAt = now
		s.advanceCluster(c, now)
	}
	return nil
}

// versionPrefixes are the API versions the server answers.
var versionPrefixes = []string{"/v4beta/", "/v4/"}

func stripVersion(p string) (string, bool) {
	for _, v := range versionPrefixes {
		if strings.HasPrefix(p, v) {
			return "/" + strings.TrimPrefix(p, v), true
		}
	}
	return p, false
}

func isMutating(method string) bool {
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch:
		return true
	}
	return false
}

func isReading(method string) bool {
	return method == http.MethodGet || method == http.MethodHead
}

// ServeHTTP handles one API request: route, hook and latency, rate limit,
// fault, handler, response, contract validation, record.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := s.clock.Now()
	method := r.Method
	routeMethod := method
	if method == http.MethodHead {
		routeMethod = http.MethodGet
	}
	rest, versioned := stripVersion(r.URL.Path)
	var rt *route
	var params map[string]string
	pathKnown := false
	if versioned {
		rt, params, pathKnown = s.router.match(routeMethod, rest)
	}
	endpoint := method + " (unmatched)"
	routeName := ""
	if rt != nil {
		routeName = rt.pattern
		endpoint = method + " " + rt.pattern
	}
	rec := RequestRecord{
		Method: method, Path: r.URL.Path, Route: routeName, Query: r.URL.RawQuery,
		Filter: r.Header.Get("X-Filter"), Time: now,
	}
	s.arrive(&rec, method, endpoint)

	body, _ := io.ReadAll(io.LimitReader(r.Body, 8<<20))

	var act HookAction
	if s.cfg.hook != nil {
		act = s.cfg.hook(HookRequest{Seq: rec.Seq, Method: method, Path: r.URL.Path, Route: routeName})
	}
	if d := s.cfg.latency + act.Delay; d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
		}
	}

	list := rt != nil && rt.list
	rl := s.limiter.take(list, s.clock.Now())
	if !rl.allowed {
		resp := errResponse(http.StatusTooManyRequests, apiError{Reason: "Too Many Requests"})
		resp.header = map[string]string{"Retry-After": strconv.Itoa(rl.retryAfter)}
		s.writeResponse(w, r, rt, &rec, resp, rl)
		return
	}

	fault := act.Fault
	if fault == "" {
		fault = s.faults.decide(isMutating(method), method, routeName)
	}
	rec.Fault = fault
	if fault != "" {
		s.countFault(fault, isMutating(method))
	}
	if fault.beforeCommit() {
		if fault == FaultDropConnection {
			s.finish(rec)
			dropConnection(w)
			return
		}
		s.writeResponse(w, r, rt, &rec, s.faultResponse(fault), rl)
		return
	}

	var resp response
	switch {
	case !versioned:
		resp = notFound()
	case rt == nil && pathKnown:
		resp = errResponse(http.StatusMethodNotAllowed, apiError{Reason: "Method Not Allowed"})
	case rt == nil:
		resp = notFound()
	default:
		resp = s.handle(rt, r, params, body)
	}

	switch fault {
	case FaultDropAfterCommit:
		rec.Status = 0
		s.finish(rec)
		dropConnection(w)
		return
	case FaultBadGatewayAfterCommit:
		resp = s.faultResponse(fault)
	}
	s.writeResponse(w, r, rt, &rec, resp, rl)
}

// handle runs a route's handler with the state lock held and, for lists,
// filters, orders and pages the result.
func (s *Server) handle(rt *route, r *http.Request, params map[string]string, body []byte) response {
	var pg pageRequest
	var flt *filter
	if rt.list {
		var bad response
		var okp bool
		if pg, bad, okp = parsePage(r.URL.Query()); !okp {
			return bad
		}
		var err error
		if flt, err = parseFilter(r.Header.Get("X-Filter"), rt.filterable); err != nil {
			return badRequest(apiError{Reason: err.Error(), Field: "X-Filter"})
		}
	}
	s.mu.Lock()
	now := s.clock.Now()
	s.advance(now)
	resp := rt.h(s, &reqCtx{r: r, now: now, params: params, body: body})
	s.syncPoolFirewalls(now) // nodes made or moved by the handler
	s.mu.Unlock()
	if rt.list && resp.status == http.StatusOK && resp.list != nil {
		return pageList(resp.list, flt, pg, rt.descending)
	}
	return resp
}

func (s *Server) faultResponse(k FaultKind) response {
	switch k {
	case FaultTooManyRequests:
		resp := errResponse(http.StatusTooManyRequests, apiError{Reason: "Too Many Requests"})
		resp.header = map[string]string{"Retry-After": strconv.Itoa(s.faults.retryAfterSeconds())}
		return resp
	case FaultInternalServerError:
		return errResponse(http.StatusInternalServerError, apiError{Reason: "Internal Server Error"})
	case FaultServiceUnavailable:
		return errResponse(http.StatusServiceUnavailable, apiError{Reason: "Service Unavailable"})
	default: // 502, before or after commit
		return errResponse(http.StatusBadGateway, apiError{Reason: "Bad Gateway"})
	}
}

// dropConnection closes the client's connection without writing a byte.
func dropConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

// writeResponse marshals and writes resp with the API's headers, and
// validates what it wrote against the contract.
func (s *Server) writeResponse(w http.ResponseWriter, r *http.Request, rt *route, rec *RequestRecord, resp response, rl rateDecision) {
	var b []byte
	if resp.body == nil {
		resp.body = emptyObject()
	}
	b, err := json.Marshal(resp.body)
	if err != nil {
		resp = errResponse(http.StatusInternalServerError, apiError{Reason: "simulator: " + err.Error()})
		b, _ = json.Marshal(resp.body)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set("X-RateLimit-Limit", strconv.Itoa(rl.limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(rl.remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(rl.reset, 10))
	for k, v := range resp.header {
		h.Set(k, v)
	}
	// The record is complete before the client can have its answer.
	rec.Status = resp.status
	s.finish(*rec)
	w.WriteHeader(resp.status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(b)
	}
	s.validate(r, rt, resp.status, h, b)
}

// RequestRecord is one request the server received.
type RequestRecord struct {
	// Seq numbers requests from 1 in order of arrival.
	Seq    int
	Method string
	// Path is the request path, including the /v4 or /v4beta prefix.
	Path string
	// Route is the matched pattern, such as /lke/clusters/{clusterId}
	// (empty when nothing matched).
	Route string
	// Query is the raw query string.
	Query string
	// Filter is the X-Filter header.
	Filter string
	// Status is the status written; 0 when the connection was dropped.
	Status int
	// Fault is the fault injected, if any.
	Fault FaultKind
	// Time is the model time of arrival.
	Time time.Time
}

// Counts are the requests received, by kind. Every request counts once per
// attempt, whatever its outcome (rate-limited and faulted ones included).
type Counts struct {
	// Mutating counts POST, PUT, DELETE and PATCH requests.
	Mutating int
	// Reading counts GET and HEAD requests.
	Reading int
	// Other counts requests of any other method.
	Other int
	// ByEndpoint counts requests by "METHOD /pattern" (see Routes);
	// unmatched paths count under "METHOD (unmatched)".
	ByEndpoint map[string]int
}

// arrive counts a request and enters it in the log at once, so that the log
// and the counters agree the moment a client has its answer (a response may
// reach the client before the handler returns); finish fills in the outcome.
func (s *Server) arrive(rec *RequestRecord, method, endpoint string) int {
	s.recMu.Lock()
	defer s.recMu.Unlock()
	s.seq++
	rec.Seq = s.seq
	if len(s.requests) == 0 {
		s.logBase = s.seq
	}
	s.requests = append(s.requests, *rec)
	// Trim in batches (a quarter of the limit) so that a full log does not
	// cost a copy per request; Requests returns only the newest lim.
	if lim := s.cfg.logLimit; lim > 0 && len(s.requests) > lim+max(lim/4, 1) {
		drop := len(s.requests) - lim
		n := copy(s.requests, s.requests[drop:])
		clear(s.requests[n:])
		s.requests = s.requests[:n]
		s.logBase += drop
	}
	switch {
	case isMutating(method):
		s.counts.Mutating++
	case isReading(method):
		s.counts.Reading++
	default:
		s.counts.Other++
	}
	s.counts.ByEndpoint[endpoint]++
	return s.seq
}

func (s *Server) finish(rec RequestRecord) {
	s.recMu.Lock()
	if i := rec.Seq - s.logBase; i >= 0 && i < len(s.requests) {
		s.requests[i] = rec
	}
	s.recMu.Unlock()
	if ce := s.log.Check(zap.DebugLevel, "linode API request"); ce != nil {
		ce.Write(zap.Int("seq", rec.Seq), zap.String("method", rec.Method), zap.String("path", rec.Path),
			zap.Int("status", rec.Status), zap.String("fault", string(rec.Fault)))
	}
}

// Requests returns a copy of the request log in order of arrival (Seq).
func (s *Server) Requests() []RequestRecord {
	s.recMu.Lock()
	recs := s.requests
	if lim := s.cfg.logLimit; lim > 0 && len(recs) > lim {
		recs = recs[len(recs)-lim:]
	}
	out := append([]RequestRecord(nil), recs...)
	s.recMu.Unlock()
	return out
}

// Counts returns the request counters since the start or the last
// ResetCounts.
func (s *Server) Counts() Counts {
	s.recMu.Lock()
	defer s.recMu.Unlock()
	c := s.counts
	c.ByEndpoint = make(map[string]int, len(s.counts.ByEndpoint))
	for k, v := range s.counts.ByEndpoint {
		c.ByEndpoint[k] = v
	}
	return c
}

// ResetCounts zeroes the request counters and the fault counters. The
// request log is kept.
func (s *Server) ResetCounts() {
	s.recMu.Lock()
	defer s.recMu.Unlock()
	s.counts = Counts{ByEndpoint: map[string]int{}}
	s.faultCounts = newFaultCounts()
}
