package linodeclient

import (
	"net/http"
	"time"

	"github.com/go-resty/resty/v2"
	"github.com/linode/linodego"
)

// Defaults of Configure and NewClient.
const (
	// DefaultRetryCount is how many times a request that failed
	// transiently is sent again before its error is returned.
	DefaultRetryCount = 8
	// DefaultRetryWait is the first wait before a request is sent again
	// (when the API gave no Retry-After). It doubles, with jitter, per
	// attempt.
	DefaultRetryWait = time.Second
	// DefaultRetryMaxWait caps the wait between attempts, Retry-After
	// included.
	DefaultRetryMaxWait = 30 * time.Second
	// APIVersion is the Linode API version NewClient uses: v4beta, which
	// carries the LKE fields (control-plane ACL, tiers, pool firewalls)
	// this module reads.
	APIVersion = "v4beta"
)

// Option changes how Configure and NewClient set up a client.
type Option func(*config)

type config struct {
	count         int
	wait, maxWait time.Duration
}

// WithRetryCount sets how many times a request that failed transiently is
// sent again. 0 disables retries; a negative n is taken as 0. Default
// DefaultRetryCount.
func WithRetryCount(n int) Option {
	return func(c *config) { c.count = max(n, 0) }
}

// WithRetryWait sets the first wait between attempts. A d ≤ 0 keeps the
// default, DefaultRetryWait.
func WithRetryWait(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.wait = d
		}
	}
}

// WithRetryMaxWait caps the wait between attempts, a Retry-After included.
// A d ≤ 0 keeps the default, DefaultRetryMaxWait; a cap below the first
// wait is raised to it.
func WithRetryMaxWait(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.maxWait = d
		}
	}
}

// Configure sets c's retries: at most WithRetryCount retries, waiting
// WithRetryWait to WithRetryMaxWait between them (or the API's
// Retry-After, capped), on linodego's own conditions (429, 503, 408,
// "Linode busy") and, for GET, PUT and DELETE only, on 500, 502, 504 and
// on requests that got no HTTP answer. It returns c. Call it once per
// client: each call adds the conditions again (harmless, but wasteful).
func Configure(c *linodego.Client, opts ...Option) *linodego.Client {
	cfg := config{count: DefaultRetryCount, wait: DefaultRetryWait, maxWait: DefaultRetryMaxWait}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	cfg.maxWait = max(cfg.maxWait, cfg.wait)
	c.SetRetryCount(cfg.count)
	c.SetRetryWaitTime(cfg.wait)
	c.SetRetryMaxWaitTime(cfg.maxWait)
	c.AddRetryCondition(retryIdempotent)
	return c
}

// NewClient returns a client of the real Linode API (APIVersion) that
// authenticates with token, configured by Configure with opts.
func NewClient(token string, opts ...Option) *linodego.Client {
	c := linodego.NewClient(nil)
	c.SetAPIVersion(APIVersion)
	c.SetToken(token)
	return Configure(&c, opts...)
}

// retryIdempotent is the retry condition Configure adds: it reports whether
// a GET, PUT or DELETE failed in a way worth sending it again — an answer
// of 500, 502 or 504, or no HTTP answer at all (err set, no response: a
// refused, reset or dropped connection). It never retries another method,
// nor a request whose context ended (resty checks that before asking).
func retryIdempotent(r *resty.Response, err error) bool {
	if r == nil || r.Request == nil {
		return false
	}
	switch r.Request.Method {
	case http.MethodGet, http.MethodPut, http.MethodDelete:
	default:
		return false
	}
	if r.RawResponse == nil {
		return err != nil
	}
	switch r.StatusCode() {
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusGatewayTimeout:
		return true
	}
	return false
}
