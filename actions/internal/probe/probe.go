package probe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Budgets: each target must answer within DefaultBudget; an environment's
// probe takes at most EnvironmentBudget.
const (
	DefaultBudget     = 2 * time.Second
	EnvironmentBudget = 10 * time.Second
)

// Names of the standard targets.
const (
	TargetAPIServer = "api-server"
	TargetIngress   = "ingress"
	TargetSample    = "sample-service"
)

// maxBody bounds what is read of an answer: enough for /readyz's verbose
// output, little enough that a misbehaving target cannot stall the probe.
const maxBody = 64 << 10

// Target is one endpoint to probe.
type Target struct {
	// Name names the target in results ("api-server", "ingress" …).
	Name string
	// URL is fetched with GET; http or https.
	URL string
	// Client sends the request; nil uses a client with Go's defaults
	// (system roots). Its own Timeout is left alone: the budget bounds the
	// request through its context. Redirects are never followed.
	Client *http.Client
}

// Result is the outcome of probing one target.
type Result struct {
	Target string
	URL    string
	// OK is true when the target answered 2xx within the budget.
	OK bool
	// Status is the HTTP status answered, 0 when there was no answer.
	Status int
	// Latency is the time from sending the request to reading the answer
	// (or to giving up).
	Latency time.Duration
	// Err says why the target is not OK; nil when it is.
	Err error
}

// Verdict is an environment's overall outcome.
type Verdict string

// Verdicts.
const (
	VerdictOK     Verdict = "ok"
	VerdictFailed Verdict = "failed"
)

// Report is the probe of one environment.
type Report struct {
	Environment string
	Budget      time.Duration
	Results     []Result // in the order of the targets given
	Elapsed     time.Duration
}

// Verdict is VerdictOK when every target is OK, else VerdictFailed.
func (r Report) Verdict() Verdict {
	for _, res := range r.Results {
		if !res.OK {
			return VerdictFailed
		}
	}
	return VerdictOK
}

// Failed returns the results that are not OK.
func (r Report) Failed() []Result {
	var out []Result
	for _, res := range r.Results {
		if !res.OK {
			out = append(out, res)
		}
	}
	return out
}

// Option changes how Probe probes.
type Option func(*options) error

type options struct {
	budget time.Duration
	log    *zap.Logger
}

// WithBudget sets the time each target has to answer, more than 0 and at
// most EnvironmentBudget. Default DefaultBudget.
func WithBudget(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 || d > EnvironmentBudget {
			return fmt.Errorf("budget: must be more than 0 and at most %s (got %s)", EnvironmentBudget, d)
		}
		o.budget = d
		return nil
	}
}

// WithLogger logs each result at info level. Default zap.NewNop().
func WithLogger(l *zap.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return errors.New("logger: nil")
		}
		o.log = l
		return nil
	}
}

// Probe probes the targets of environment env concurrently, each within
// the budget, and returns their results. The error is for bad input only —
// no target, a target without a name or with a URL that is not http(s), a
// name given twice, a bad option — and is returned before any request; an
// unavailable target is a Result that is not OK.
func Probe(ctx context.Context, env string, targets []Target, opts ...Option) (Report, error) {
	o := options{budget: DefaultBudget, log: zap.NewNop()}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return Report{}, err
		}
	}
	if err := validate(targets); err != nil {
		return Report{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, EnvironmentBudget)
	defer cancel()
	start := time.Now()
	rep := Report{Environment: env, Budget: o.budget, Results: make([]Result, len(targets))}
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Go(func() {
			rep.Results[i] = probe(ctx, t, o.budget)
		})
	}
	wg.Wait()
	rep.Elapsed = time.Since(start)
	for _, r := range rep.Results {
		fields := []zap.Field{zap.String("environment", env), zap.String("target", r.Target),
			zap.Bool("ok", r.OK), zap.Int("status", r.Status), zap.Duration("latency", r.Latency)}
		if r.Err != nil {
			fields = append(fields, zap.Error(r.Err))
		}
		o.log.Info("probe", fields...)
	}
	return rep, nil
}

func validate(targets []Target) error {
	if len(targets) == 0 {
		return errors.New("targets: none given, nothing to probe")
	}
	var errs []error
	seen := map[string]bool{}
	for i, t := range targets {
		if t.Name == "" {
			errs = append(errs, fmt.Errorf("targets[%d].name: empty", i))
		} else if seen[t.Name] {
			errs = append(errs, fmt.Errorf("targets[%s]: given twice", t.Name))
		}
		seen[t.Name] = true
		u, err := url.Parse(t.URL)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			errs = append(errs, fmt.Errorf("targets[%s].url: %q is not an http(s) URL", t.Name, t.URL))
		}
	}
	return errors.Join(errs...)
}

// probe sends one GET to t and judges the answer.
func probe(ctx context.Context, t Target, budget time.Duration) Result {
	res := Result{Target: t.Name, URL: t.URL}
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.URL, nil)
	if err != nil {
		res.Err = fmt.Errorf("%s: build the request: %w", t.Name, err)
		return res
	}
	client := noRedirects(t.Client)
	start := time.Now()
	resp, err := client.Do(req)
	if err == nil {
		_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
		_ = resp.Body.Close()
		res.Status = resp.StatusCode
	}
	res.Latency = time.Since(start)
	switch {
	case ctx.Err() != nil || res.Latency > budget:
		res.Err = fmt.Errorf("%s: no answer within its budget of %s", t.Name, budget)
	case err != nil:
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // the URL is in the result already
		}
		res.Err = fmt.Errorf("%s: GET: %w", t.Name, err)
	case res.Status/100 != 2:
		res.Err = fmt.Errorf("%s: answered %d %s", t.Name, res.Status, http.StatusText(res.Status))
	default:
		res.OK = true
	}
	return res
}

// noRedirects returns a copy of c (or of a default client) that does not
// follow redirects.
func noRedirects(c *http.Client) *http.Client {
	var cp http.Client
	if c != nil {
		cp = *c
	}
	cp.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cp
}

// APIServer returns the target of the API server a kubeconfig points at
// (its current context): GET <server>/readyz, with the kubeconfig's CA
// and credentials. Errors do not quote the kubeconfig, which holds
// credentials.
func APIServer(kubeconfig []byte) (Target, error) {
	cfg, err := clientcmd.RESTConfigFromKubeConfig(kubeconfig)
	if err != nil {
		return Target{}, errors.New("kubeconfig: does not parse, or has no current context with a server")
	}
	client, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return Target{}, errors.New("kubeconfig: its TLS settings or credentials are not usable")
	}
	return Target{Name: TargetAPIServer, URL: strings.TrimRight(cfg.Host, "/") + "/readyz", Client: client}, nil
}
