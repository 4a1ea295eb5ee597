package linodetest

import (
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"
)

// Option configures a Server. Options are applied in order; a later option
// overrides an earlier one of the same kind.
type Option func(*config) error

type config struct {
	clock      Clock
	seed       int64
	rateLimits RateLimits
	faults     FaultConfig
	hook       RequestHook
	latency    time.Duration
	validation *bool
	specPath   string
	kubeconfig func(clusterID int) ([]byte, error)
	logger     *zap.Logger
	logLimit   int
	catalogue  *Catalogue
}

// DefaultTimeScale is the speed-up of the clock a Server uses when neither
// WithClock nor WithTimeScale is given: 1000, so that an LKE cluster, ready
// after 130–250 s of model time, is ready after 130–250 ms of real time.
const DefaultTimeScale = 1000

// DefaultSeed is the seed a Server uses without WithSeed.
const DefaultSeed int64 = 1

// DefaultRequestLogLimit is how many request records a Server keeps without
// WithRequestLogLimit; older records are discarded first.
const DefaultRequestLogLimit = 100_000

func defaultConfig() config {
	return config{
		seed:       DefaultSeed,
		rateLimits: DefaultRateLimits,
		logger:     zap.NewNop(),
		logLimit:   DefaultRequestLogLimit,
		catalogue:  defaultCataloguePtr(),
	}
}

// WithClock makes the Server tell model time from c. Share c with the
// pollers under test so that both agree on time. Default: a clock scaled by
// DefaultTimeScale, started when the Server starts.
func WithClock(c Clock) Option {
	return func(cfg *config) error {
		if c == nil {
			return errors.New("WithClock: nil clock")
		}
		cfg.clock = c
		return nil
	}
}

// WithTimeScale makes the Server use a fresh clock running f times faster
// than real time (see NewScaledClock). Default DefaultTimeScale.
func WithTimeScale(f float64) Option {
	return func(cfg *config) error {
		if f <= 0 {
			return fmt.Errorf("WithTimeScale: scale must be > 0 (got %g)", f)
		}
		cfg.clock = NewScaledClock(f)
		return nil
	}
}

// WithSeed seeds every deterministic draw of the Server: life-cycle
// durations, node and token suffixes. Faults have their own seed in
// FaultConfig. Default DefaultSeed.
func WithSeed(seed int64) Option {
	return func(cfg *config) error {
		cfg.seed = seed
		return nil
	}
}

// RateLimits are the Server's request budgets per window of model time. Like
// the real API it keeps two buckets: one for GETs of paginated collections
// (list endpoints), one for every other request. A limit ≤ 0 means unlimited
// (the headers then announce math.MaxInt32).
type RateLimits struct {
	// Window is the length of one rate-limit window in model time. Default 1 min.
	Window time.Duration
	// CollectionGET is the budget per window for GETs of list endpoints.
	CollectionGET int
	// Other is the budget per window for every other request.
	Other int
}

// DefaultRateLimits are what New and Start use: a window of one model
// minute and budgets of a million requests per window, so that ordinary
// tests are never throttled, while the X-RateLimit-* headers are still sent.
var DefaultRateLimits = RateLimits{Window: time.Minute, CollectionGET: 1_000_000, Other: 1_000_000}

// RecordedRateLimits are the limits recorded from the real API: 200 list
// GETs and 800 other requests per minute. Use them with WithRateLimits to
// exercise throttling the way production sees it.
var RecordedRateLimits = RateLimits{Window: time.Minute, CollectionGET: 200, Other: 800}

// WithRateLimits sets the request budgets. Default DefaultRateLimits.
func WithRateLimits(l RateLimits) Option {
	return func(cfg *config) error {
		if l.Window < 0 {
			return fmt.Errorf("WithRateLimits: negative window %s", l.Window)
		}
		if l.Window == 0 {
			l.Window = time.Minute
		}
		cfg.rateLimits = l
		return nil
	}
}

// WithFaults injects faults into a share of the requests (see FaultConfig).
// Default: no faults.
func WithFaults(fc FaultConfig) Option {
	return func(cfg *config) error {
		if fc.Rate < 0 || fc.Rate > 1 {
			return fmt.Errorf("WithFaults: rate must be within [0, 1] (got %g)", fc.Rate)
		}
		for _, k := range fc.Kinds {
			if !k.valid() {
				return fmt.Errorf("WithFaults: unknown fault kind %q", k)
			}
		}
		if fc.RetryAfter < 0 {
			return fmt.Errorf("WithFaults: negative RetryAfter %s", fc.RetryAfter)
		}
		cfg.faults = fc
		return nil
	}
}

// WithRequestHook calls h for every request before it is handled; h may
// delay the request or fail it with a fault of its choosing (see
// RequestHook). Default: none.
func WithRequestHook(h RequestHook) Option {
	return func(cfg *config) error {
		cfg.hook = h
		return nil
	}
}

// WithLatency delays every request by d of real time before it is handled
// (or until the client gives up). Default 0.
func WithLatency(d time.Duration) Option {
	return func(cfg *config) error {
		if d < 0 {
			return fmt.Errorf("WithLatency: negative latency %s", d)
		}
		cfg.latency = d
		return nil
	}
}

// WithValidation turns validation of every response against the Linode
// OpenAPI contract on or off. Default: on in New, off in Start. See SpecPath
// for where the contract is looked for.
func WithValidation(on bool) Option {
	return func(cfg *config) error {
		cfg.validation = &on
		return nil
	}
}

// WithSpecPath names the OpenAPI file to validate against, overriding the
// search described at SpecPath.
func WithSpecPath(path string) Option {
	return func(cfg *config) error {
		cfg.specPath = path
		return nil
	}
}

// WithKubeconfigSource makes GET …/kubeconfig answer with the YAML src
// returns (the Server base64-encodes it, as the API does). Default: a
// generated, syntactically valid kubeconfig naming a fake endpoint
// https://<id>-<hex>.<region>.linodelke.net:443 and a bearer token. src is
// called with the server's lock held: it must not call the Server.
func WithKubeconfigSource(src func(clusterID int) ([]byte, error)) Option {
	return func(cfg *config) error {
		cfg.kubeconfig = src
		return nil
	}
}

// WithLogger makes the Server log each request at debug level, and contract
// violations of a Start server at error level, to l. Default zap.NewNop().
func WithLogger(l *zap.Logger) Option {
	return func(cfg *config) error {
		if l == nil {
			l = zap.NewNop()
		}
		cfg.logger = l
		return nil
	}
}

// WithRequestLogLimit bounds how many records Requests keeps (the oldest are
// dropped first); n ≤ 0 keeps every record. Default DefaultRequestLogLimit.
func WithRequestLogLimit(n int) Option {
	return func(cfg *config) error {
		cfg.logLimit = n
		return nil
	}
}

// WithCatalogue makes the Server offer c: its regions, availability, Linode
// and LKE types and LKE versions (see Catalogue, CatalogueFromResponses).
// Default: DefaultCatalogue, the recorded real catalogue with the
// package's assumptions. An empty catalogue (one without regions or
// Linode types, such as the zero Catalogue) is refused.
func WithCatalogue(c Catalogue) Option {
	return func(cfg *config) error {
		if len(c.regions) == 0 || len(c.types) == 0 || c.regionByID == nil {
			return errors.New("WithCatalogue: empty catalogue (build one with CatalogueFromResponses or DefaultCatalogue)")
		}
		cfg.catalogue = &c
		return nil
	}
}
