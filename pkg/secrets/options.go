package secrets

import (
	"crypto/x509"
	"errors"
	"fmt"

	"go.uber.org/zap"
)

// DefaultMaxRounds bounds the rounds (plan, apply) of Sync. A first Sync on
// a cluster without the fingerprint key takes two: the key, then the
// SealedSecrets.
const DefaultMaxRounds = 5

// Option changes how PlanSync, Sync, ApplyStep and BackupKeys behave. An
// option with a bad argument makes the call fail before any request.
type Option func(*options) error

type options struct {
	logger    *zap.Logger
	cert      *x509.Certificate
	certOpts  []CertOption
	maxRounds int
	namespace string // the controller's; "": the default
	source    Source // for sealedsecret.seal steps (WithSource)
}

func newOptions(opts []Option) (*options, error) {
	o := &options{logger: zap.NewNop(), maxRounds: DefaultMaxRounds}
	var errs []error
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(o); err != nil {
			errs = append(errs, err)
		}
	}
	return o, errors.Join(errs...)
}

// WithLogger sets the logger. Default zap.NewNop(). Nothing this package
// logs holds a secret value or key material: references, object names,
// keyed fingerprints and certificate fingerprints only.
func WithLogger(l *zap.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return errors.New("WithLogger: nil logger")
		}
		o.logger = l
		return nil
	}
}

// WithCert seals with cert instead of fetching the controller's current
// certificate with FetchCert (for a cluster whose controller cannot be
// reached, or a certificate read with ReadCertFile). Default: FetchCert
// from the controller in the environment's secrets.namespace.
func WithCert(cert *x509.Certificate) Option {
	return func(o *options) error {
		if cert == nil {
			return errors.New("WithCert: nil certificate")
		}
		o.cert = cert
		return nil
	}
}

// WithCertOptions tells the FetchCert that PlanSync makes where the
// controller is (WithController, WithControllerPort). The namespace
// defaults to the environment's secrets.namespace.
func WithCertOptions(opts ...CertOption) Option {
	return func(o *options) error {
		o.certOpts = append(o.certOpts, opts...)
		return nil
	}
}

// WithMaxRounds bounds the rounds of Sync. Default DefaultMaxRounds.
func WithMaxRounds(n int) Option {
	return func(o *options) error {
		if n < 1 {
			return fmt.Errorf("WithMaxRounds: %d rounds: must be ≥ 1", n)
		}
		o.maxRounds = n
		return nil
	}
}
