package network

import (
	"errors"
	"fmt"
	"strings"
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
	// DefaultRetryInterval is the first wait before the reconcile loop reads
	// again after a step failed transiently (beyond the Linode client's own
	// retries), and before a Kubernetes request that failed transiently is
	// repeated, when the server did not say how long to wait (Retry-After).
	// It doubles per attempt up to DefaultMaxRetryInterval.
	DefaultRetryInterval = time.Second
	// DefaultMaxRetryInterval caps the wait between retries.
	DefaultMaxRetryInterval = 30 * time.Second
	// DefaultMaxRounds bounds the rounds (observe, plan, apply) of
	// EnsureFirewall, EnsureVPC, DeleteFirewall and DeleteVPC, which repeat
	// only after a write failed transiently or a create's answer was lost.
	DefaultMaxRounds = 25
	// DefaultServicesPerEnvironment is how many services the default quotas
	// of an environment's namespaces leave room for, together.
	DefaultServicesPerEnvironment = 30
	// DefaultAdminGroup is the Kubernetes group of platform administrators.
	DefaultAdminGroup = "platform-admins"
	// DefaultViewerGroup is the Kubernetes group with read-only access.
	DefaultViewerGroup = "platform-viewers"
)

// Option changes how the Ensure and Plan functions of this package behave.
// An option with a bad argument makes the call fail before any request is
// sent.
type Option func(*options) error

type options struct {
	logger           *zap.Logger
	clock            Clock
	retryInterval    time.Duration
	maxRetryInterval time.Duration
	maxRounds        int
	services         int
	adminGroup       string
	viewerGroup      string
	kubeRetryTimeout time.Duration   // 0: DefaultKubernetesRetryTimeout
	releases         map[string]bool // "<namespace>/<name>" of Helm releases whose objects are declared
	declared         map[string]bool // object ids declared elsewhere ("clusterrolebinding/argocd-manager")
}

func newOptions(opts []Option) (*options, error) {
	o := &options{
		logger:           zap.NewNop(),
		clock:            clock.Real{},
		retryInterval:    DefaultRetryInterval,
		maxRetryInterval: DefaultMaxRetryInterval,
		maxRounds:        DefaultMaxRounds,
		services:         DefaultServicesPerEnvironment,
		adminGroup:       DefaultAdminGroup,
		viewerGroup:      DefaultViewerGroup,
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
	if o.maxRetryInterval < o.retryInterval {
		o.maxRetryInterval = o.retryInterval
	}
	if o.adminGroup == o.viewerGroup {
		errs = append(errs, fmt.Errorf("WithAdminGroup, WithViewerGroup: the two groups must differ (both %q)", o.adminGroup))
	}
	return o, errors.Join(errs...)
}

// WithLogger logs progress and every write to l. Default zap.NewNop().
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

// WithRetryInterval sets the first wait before a transiently failed step is
// tried again: on the Linode side, the next round of the reconcile loop,
// which reads first (a create is sent again only when the read shows
// nothing was created; the Linode client's own retries, see
// pkg/linodeclient, come before that); on the Kubernetes side, the request
// itself. Default DefaultRetryInterval.
func WithRetryInterval(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("WithRetryInterval: interval must be > 0 (got %s)", d)
		}
		o.retryInterval = d
		return nil
	}
}

// WithMaxRetryInterval caps the backoff between retries. Default
// DefaultMaxRetryInterval.
func WithMaxRetryInterval(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("WithMaxRetryInterval: interval must be > 0 (got %s)", d)
		}
		o.maxRetryInterval = d
		return nil
	}
}

// WithMaxRounds bounds the reconcile loop of EnsureFirewall and EnsureVPC.
// Default DefaultMaxRounds.
func WithMaxRounds(n int) Option {
	return func(o *options) error {
		if n < 1 {
			return fmt.Errorf("WithMaxRounds: must be ≥ 1 (got %d)", n)
		}
		o.maxRounds = n
		return nil
	}
}

// WithServicesPerEnvironment sizes the default ResourceQuota of the
// environment's namespaces for n services in all (see DefaultQuota).
// Default DefaultServicesPerEnvironment.
func WithServicesPerEnvironment(n int) Option {
	return func(o *options) error {
		if n < 1 {
			return fmt.Errorf("WithServicesPerEnvironment: must be ≥ 1 (got %d)", n)
		}
		o.services = n
		return nil
	}
}

// WithReleases declares the objects of the Helm releases named
// ("<namespace>/<name>"): Posture does not report a binding that Helm
// installed for one of them (annotations meta.helm.sh/release-namespace and
// meta.helm.sh/release-name), since the release's own plan compares it with
// the release's manifest and reports any change to it as drift.
func WithReleases(releases ...string) Option {
	return func(o *options) error {
		if o.releases == nil {
			o.releases = map[string]bool{}
		}
		for _, r := range releases {
			if strings.Count(r, "/") != 1 {
				return fmt.Errorf("WithReleases: %q is not <namespace>/<name>", r)
			}
			o.releases[r] = true
		}
		return nil
	}
}

// WithDeclared declares objects ("clusterrolebinding/argocd-manager",
// "rolebinding/<namespace>/<name>") that another part of the baseline
// writes and compares with what it rendered: Posture does not report
// them.
func WithDeclared(objects ...string) Option {
	return func(o *options) error {
		if o.declared == nil {
			o.declared = map[string]bool{}
		}
		for _, obj := range objects {
			o.declared[obj] = true
		}
		return nil
	}
}

// WithAdminGroup names the Kubernetes group of platform administrators.
// Default DefaultAdminGroup.
func WithAdminGroup(group string) Option {
	return func(o *options) error {
		if group == "" {
			return errors.New("WithAdminGroup: empty group")
		}
		o.adminGroup = group
		return nil
	}
}

// WithViewerGroup names the Kubernetes group with read-only access.
// Default DefaultViewerGroup.
func WithViewerGroup(group string) Option {
	return func(o *options) error {
		if group == "" {
			return errors.New("WithViewerGroup: empty group")
		}
		o.viewerGroup = group
		return nil
	}
}
