package poll

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/linode/linodego"

	"github.com/org/platform/internal/clock"
)

// Policy says how often to poll. The zero value is usable: it polls every
// 5 s of model time on the real clock, backing off ×1.5 up to 30 s.
type Policy struct {
	// Interval is the first wait between attempts. Default 5 s.
	Interval time.Duration
	// MaxInterval caps the backoff. Default 30 s.
	MaxInterval time.Duration
	// Multiplier grows the wait after each attempt. Default 1.5; 1 disables backoff.
	Multiplier float64
	// Clock tells and waits model time. Default clock.Real{}.
	Clock clock.Clock
}

func (p Policy) withDefaults() Policy {
	if p.Interval <= 0 {
		p.Interval = 5 * time.Second
	}
	if p.MaxInterval <= 0 {
		p.MaxInterval = 30 * time.Second
	}
	if p.MaxInterval < p.Interval {
		p.MaxInterval = p.Interval
	}
	if p.Multiplier < 1 {
		p.Multiplier = 1.5
	}
	if p.Clock == nil {
		p.Clock = clock.Real{}
	}
	return p
}

func (p Policy) next(d time.Duration) time.Duration {
	n := time.Duration(float64(d) * p.Multiplier)
	if n > p.MaxInterval {
		n = p.MaxInterval
	}
	return n
}

// Until calls cond until it reports done, returns an error, or ctx ends. The
// first call is immediate. When ctx ends first, the error wraps both ctx's
// error and the last error cond returned alongside "not done", if any.
func Until(ctx context.Context, p Policy, cond func(ctx context.Context) (done bool, err error)) error {
	p = p.withDefaults()
	wait := p.Interval
	for {
		done, err := cond(ctx)
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		if err := clock.Sleep(ctx, p.Clock, wait); err != nil {
			return err
		}
		wait = p.next(wait)
	}
}

// UntilAvailable waits for something the API answers "not yet" about, such
// as an LKE kubeconfig, which is 503 (with Retry-After on enterprise
// clusters) until the cluster is up: it calls get until get returns nil or
// an error Transient does not call transient, waiting between calls the
// server's Retry-After when it gave one, else the policy's backoff. It
// returns get's last error, wrapped with ctx's error if ctx ended first.
//
// It is a poll, not a retry layer: repeating a request that failed
// transiently is the linodego client's job (pkg/linodeclient), and get
// should be a read. A failure that outlasted the client's retries is
// polled again like a "not yet", until ctx ends.
func UntilAvailable(ctx context.Context, p Policy, get func(ctx context.Context) error) error {
	p = p.withDefaults()
	wait := p.Interval
	for {
		err := get(ctx)
		if err == nil {
			return nil
		}
		transient, after := Transient(err)
		if !transient {
			return err
		}
		d := wait
		if after > 0 {
			d = after
		}
		if serr := clock.Sleep(ctx, p.Clock, d); serr != nil {
			return fmt.Errorf("%w (last error: %w)", serr, err)
		}
		wait = p.next(wait)
	}
}

// Transient reports whether err is worth retrying: a Linode API answer of
// 408, 429, 500, 502, 503 or 504, or a request that never got an answer
// (connection refused or dropped). It also returns the Retry-After the server
// asked for, if any.
func Transient(err error) (bool, time.Duration) {
	if err == nil {
		return false, 0
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false, 0
	}
	var le *linodego.Error
	if !errors.As(err, &le) {
		var lv linodego.Error
		if !errors.As(err, &lv) {
			return false, 0
		}
		le = &lv
	}
	switch le.Code {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true, retryAfter(le.Response)
	case linodego.ErrorFromError:
		// The request got no HTTP answer: a dropped or refused connection.
		return true, 0
	}
	return false, 0
}

func retryAfter(resp *http.Response) time.Duration {
	if resp == nil {
		return 0
	}
	s := resp.Header.Get("Retry-After")
	if s == "" {
		return 0
	}
	if n, err := strconv.Atoi(s); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(s); err == nil {
		return time.Until(t)
	}
	return 0
}
