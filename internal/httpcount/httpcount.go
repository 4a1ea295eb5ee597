// Package httpcount counts the requests HTTP clients send, and how many of
// them write, so that programs and live tests can show that a second Ensure
// is a no-op on a real API, where no simulator counts for them.
package httpcount

import (
	"net/http"
	"sync/atomic"
)

// Counter adds up the requests sent through the transports it wraps. The
// zero value is ready to use; it is safe for concurrent use.
type Counter struct {
	requests atomic.Int64
	writes   atomic.Int64
}

// Wrap returns a transport that counts into c and sends through next (nil
// means http.DefaultTransport). Its signature fits client-go's
// rest.Config.WrapTransport.
func (c *Counter) Wrap(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return roundTripper(func(r *http.Request) (*http.Response, error) {
		c.requests.Add(1)
		if IsWrite(r.Method) && !isDryRun(r) {
			c.writes.Add(1)
		}
		return next.RoundTrip(r)
	})
}

// Requests returns how many requests have been sent.
func (c *Counter) Requests() int64 { return c.requests.Load() }

// Writes returns how many of them were POST, PUT, PATCH or DELETE, not
// counting Kubernetes dry-runs (?dryRun=All), which change nothing: a plan
// of the Kubernetes layer sends them.
func (c *Counter) Writes() int64 { return c.writes.Load() }

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// isDryRun reports whether r asks a Kubernetes API server for a dry-run.
func isDryRun(r *http.Request) bool {
	return r.URL != nil && r.URL.Query().Has("dryRun")
}

// IsWrite reports whether method changes state.
func IsWrite(method string) bool {
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}
