package helmrelease

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.uber.org/zap"
	"helm.sh/helm/v3/pkg/action"

	"github.com/org/platform/internal/clock"
	"github.com/org/platform/pkg/change"
)

// Option changes how Plan, ApplyStep and Ensure behave.
type Option func(*options) error

// Resolver returns the value a SensitiveValue's Ref names.
type Resolver func(ctx context.Context, ref string) (any, error)

type options struct {
	log          *zap.Logger
	clock        clock.Clock
	cacheDir     string
	env          string
	layer        change.Layer
	maxHistory   int
	timeout      time.Duration
	staleAfter   time.Duration
	maxRounds    int
	fpKey        []byte
	resolver     Resolver
	plainHTTP    bool
	repos        map[string]string     // upstream repository URL → where it is served
	helmConfig   *action.Configuration // tests: Helm's memory driver and fake kube client
	objects      objectAPI             // tests: the live objects
	fieldManager string
}

func newOptions(opts []Option) (*options, error) {
	o := &options{
		log:          zap.NewNop(),
		clock:        clock.Real{},
		layer:        change.LayerHelm,
		maxHistory:   10,
		timeout:      5 * time.Minute,
		staleAfter:   15 * time.Minute,
		maxRounds:    3,
		fieldManager: "helm",
	}
	for _, opt := range opts {
		if err := opt(o); err != nil {
			return nil, err
		}
	}
	if o.cacheDir == "" {
		d, err := os.UserCacheDir()
		if err != nil {
			return nil, fmt.Errorf("find a chart cache directory (set one with WithCacheDir): %w", err)
		}
		o.cacheDir = filepath.Join(d, "platform", "helm")
	}
	return o, nil
}

// WithLogger sets the logger. Default zap.NewNop(). Helm's own debug
// lines go to it at Debug level.
func WithLogger(l *zap.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return errors.New("WithLogger: nil logger")
		}
		o.log = l
		return nil
	}
}

// WithClock sets the clock that tells how old a pending release is.
// Default clock.Real{}.
func WithClock(c clock.Clock) Option {
	return func(o *options) error {
		if c == nil {
			return errors.New("WithClock: nil clock")
		}
		o.clock = c
		return nil
	}
}

// WithCacheDir sets the directory charts are cached in, one file per
// repository, chart and version, so that a second plan downloads nothing.
// Default: $XDG_CACHE_HOME/platform/helm (os.UserCacheDir).
func WithCacheDir(dir string) Option {
	return func(o *options) error {
		if dir == "" {
			return errors.New("WithCacheDir: empty directory")
		}
		o.cacheDir = dir
		return nil
	}
}

// WithEnvironment sets the environment a step belongs to (Step.Env and
// the first segment of its ID). Default "" (the ID then starts with the
// layer).
func WithEnvironment(env string) Option {
	return func(o *options) error { o.env = env; return nil }
}

// WithLayer sets the layer of the step: change.LayerHelm (the default),
// change.LayerSecrets or change.LayerObservability, as the concern that
// plans the release is.
func WithLayer(l change.Layer) Option {
	return func(o *options) error {
		if l == "" {
			return errors.New("WithLayer: empty layer")
		}
		o.layer = l
		return nil
	}
}

// WithMaxHistory bounds the revisions kept per release (Helm's
// MaxHistory). Default 10; 0 keeps every revision.
func WithMaxHistory(n int) Option {
	return func(o *options) error {
		if n < 0 {
			return fmt.Errorf("WithMaxHistory: must be ≥ 0 (got %d)", n)
		}
		o.maxHistory = n
		return nil
	}
}

// WithTimeout bounds how long an install or upgrade waits for its objects
// to be ready before it is rolled back (Helm's --timeout). Default 5
// minutes.
func WithTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("WithTimeout: must be > 0 (got %s)", d)
		}
		o.timeout = d
		return nil
	}
}

// WithStaleAfter sets how old a pending revision (pending-install,
// pending-upgrade, pending-rollback) must be before it is taken for
// abandoned and unlocked. It must exceed the longest WithTimeout any
// writer of the release uses, so that an operation still running is never
// unlocked under it. Default 15 minutes.
func WithStaleAfter(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("WithStaleAfter: must be > 0 (got %s)", d)
		}
		o.staleAfter = d
		return nil
	}
}

// WithMaxRounds bounds the rounds of Ensure that apply a plan. Default 3.
func WithMaxRounds(n int) Option {
	return func(o *options) error {
		if n < 1 {
			return fmt.Errorf("WithMaxRounds: must be ≥ 1 (got %d)", n)
		}
		o.maxRounds = n
		return nil
	}
}

// WithFingerprintKey sets the HMAC key of sensitive values' fingerprints.
// Plan and ApplyStep must use the same key. Default: a key derived from
// the release's namespace and name, which makes fingerprints comparable
// across runs but is no secret: set a key of your own where a plan is
// shown to people who must not be able to test guesses of a secret.
func WithFingerprintKey(key []byte) Option {
	return func(o *options) error {
		if len(key) == 0 {
			return errors.New("WithFingerprintKey: empty key")
		}
		o.fpKey = append([]byte(nil), key...)
		return nil
	}
}

// WithSensitiveResolver sets where ApplyStep takes the sensitive values a
// plan names only by reference. Ensure needs none: it has the values.
func WithSensitiveResolver(r Resolver) Option {
	return func(o *options) error { o.resolver = r; return nil }
}

// WithPlainHTTP lets an oci:// registry be reached over plain HTTP (a
// local test registry). Default off.
func WithPlainHTTP() Option {
	return func(o *options) error { o.plainHTTP = true; return nil }
}

// WithRepository makes charts whose Chart.RepoURL is upstreamURL load
// from servedURL instead: a mirror, or in tests the shared chart
// repository served over httptest. It only changes where the chart is
// downloaded from. The plan's Action, its step ID and the chart cache
// still name upstreamURL, so a plan made with the option is identical to
// one made without it, and a cached chart is reused either way. URLs are
// compared without a trailing slash; servedURL may be an HTTP(S)
// repository or an oci:// registry whatever upstreamURL is. The option may
// be given once per upstream URL; a later one for the same URL wins.
// Default: every chart is downloaded from its RepoURL.
func WithRepository(upstreamURL, servedURL string) Option {
	return func(o *options) error {
		if upstreamURL == "" || servedURL == "" {
			return fmt.Errorf("WithRepository(%q, %q): both URLs are required", upstreamURL, servedURL)
		}
		if o.repos == nil {
			o.repos = map[string]string{}
		}
		o.repos[strings.TrimSuffix(upstreamURL, "/")] = strings.TrimSuffix(servedURL, "/")
		return nil
	}
}

// served returns the URL the repository at upstream is downloaded from.
func (o *options) served(upstream string) string {
	if s, ok := o.repos[strings.TrimSuffix(upstream, "/")]; ok {
		return s
	}
	return upstream
}

// withHelm makes the run use cfg (Helm's storage and kube client) and
// objects (the live objects) instead of building them from the getter:
// unit tests use Helm's memory driver and fake kube client.
func withHelm(cfg *action.Configuration, objects objectAPI) Option {
	return func(o *options) error { o.helmConfig, o.objects = cfg, objects; return nil }
}

func (o *options) key(namespace, name string) []byte {
	if o.fpKey != nil {
		return o.fpKey
	}
	return []byte("platform/helmrelease/" + namespace + "/" + name)
}
