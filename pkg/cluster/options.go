package cluster

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"go.uber.org/zap"

	"github.com/org/platform/internal/clock"
)

// Clock tells model time and waits in it. Production uses the wall clock;
// tests hand the same scaled clock to the Linode simulator and to this
// package so that both agree on time.
type Clock = clock.Clock

// Defaults of the behaviour options.
const (
	// DefaultPollInterval is the first wait between two polls of a cluster
	// that is not ready yet.
	DefaultPollInterval = 5 * time.Second
	// DefaultMaxPollInterval caps the backoff between polls.
	DefaultMaxPollInterval = 30 * time.Second
	// DefaultMaxRounds bounds EnsureCluster's reconcile loop (observe, plan,
	// apply), which repeats only after an apply step failed transiently.
	DefaultMaxRounds = 25
)

// Option changes how EnsureCluster, PlanCluster, WaitReady, Kubeconfig and
// DeleteCluster behave. An option with a bad argument makes the call fail
// before any request is sent.
type Option func(*options) error

type options struct {
	logger          *zap.Logger
	clock           Clock
	pollInterval    time.Duration
	maxPollInterval time.Duration
	progress        func(Progress)
	tempACL         *netip.Prefix
	checker         NodeVersionChecker
	wait            bool
	maxRounds       int
}

func newOptions(opts []Option) (*options, error) {
	o := &options{
		logger:          zap.NewNop(),
		clock:           clock.Real{},
		pollInterval:    DefaultPollInterval,
		maxPollInterval: DefaultMaxPollInterval,
		wait:            true,
		maxRounds:       DefaultMaxRounds,
	}
	var errs []error
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(o); err != nil {
			errs = append(errs, err)
		}
	}
	if o.maxPollInterval < o.pollInterval {
		o.maxPollInterval = o.pollInterval
	}
	return o, errors.Join(errs...)
}

// WithLogger logs progress and every write to l. The kubeconfig never
// reaches the log. Default zap.NewNop().
func WithLogger(l *zap.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return errors.New("WithLogger: nil logger")
		}
		o.logger = l
		return nil
	}
}

// WithClock tells and waits time on c. Default: the wall clock.
func WithClock(c Clock) Option {
	return func(o *options) error {
		if c == nil {
			return errors.New("WithClock: nil clock")
		}
		o.clock = c
		return nil
	}
}

// WithPollInterval sets the first wait between polls of something not ready
// yet; it grows ×1.5 per poll up to the maximum. Capped at 1 s, it is also
// the first pause before the reconcile loop reads again after a step failed
// transiently, and between kubeconfig polls without Retry-After (both
// doubling up to the maximum). Default DefaultPollInterval.
func WithPollInterval(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("WithPollInterval: interval must be > 0 (got %s)", d)
		}
		o.pollInterval = d
		return nil
	}
}

// WithMaxPollInterval caps the backoff between polls. Default
// DefaultMaxPollInterval.
func WithMaxPollInterval(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("WithMaxPollInterval: interval must be > 0 (got %s)", d)
		}
		o.maxPollInterval = d
		return nil
	}
}

// WithProgress calls fn after each poll while waiting for nodes, the
// kubeconfig or an upgrade. fn is called from the waiting goroutine and
// must return quickly. Default: none (progress is still logged).
func WithProgress(fn func(Progress)) Option {
	return func(o *options) error {
		o.progress = fn
		return nil
	}
}

// WithTemporaryACLAddress admits addr (an IP address or CIDR, typically the
// caller's egress address) to the control-plane ACL while EnsureCluster
// applies changes, and narrows the ACL back to the spec's addresses when it
// returns, error or not. It only matters when the spec enables the ACL and
// does not already admit addr; a run with nothing to change does not touch
// the ACL at all. PlanCluster never touches the ACL. Default: none.
func WithTemporaryACLAddress(addr string) Option {
	return func(o *options) error {
		p, err := parsePrefix(addr)
		if err != nil {
			return fmt.Errorf("WithTemporaryACLAddress: %w", err)
		}
		o.tempACL = &p
		return nil
	}
}

// WithNodeVersionChecker makes an upgrade wait, after every node has been
// replaced and is ready, until c reports the new kubelet version on every
// node. Default: none (node replacement and readiness alone end the wait).
func WithNodeVersionChecker(c NodeVersionChecker) Option {
	return func(o *options) error {
		if c == nil {
			return errors.New("WithNodeVersionChecker: nil checker")
		}
		o.checker = c
		return nil
	}
}

// WithWaitReady says whether EnsureCluster waits, after it created or
// changed anything or found nodes not ready, until every node is ready and
// the kubeconfig is available (see WaitReady). Default true.
func WithWaitReady(wait bool) Option {
	return func(o *options) error {
		o.wait = wait
		return nil
	}
}

// WithMaxRounds bounds EnsureCluster's reconcile loop. Default
// DefaultMaxRounds.
func WithMaxRounds(n int) Option {
	return func(o *options) error {
		if n < 1 {
			return fmt.Errorf("WithMaxRounds: must be ≥ 1 (got %d)", n)
		}
		o.maxRounds = n
		return nil
	}
}

// parsePrefix reads an address ("203.0.113.7") or a CIDR ("203.0.113.0/24")
// as a masked prefix.
func parsePrefix(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is neither an IP address nor a CIDR", s)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}
