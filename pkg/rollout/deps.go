package rollout

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/linode/linodego"
	"go.uber.org/zap"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/org/platform/internal/clock"
	"github.com/org/platform/internal/helmrelease"
	"github.com/org/platform/pkg/cluster"
	"github.com/org/platform/pkg/network"
	"github.com/org/platform/pkg/observability"
	"github.com/org/platform/pkg/secrets"
	"github.com/org/platform/pkg/spec"
	"github.com/org/platform/pkg/store"
)

// LinodeAPI is what a rollout calls on Linode: the methods pkg/cluster and
// pkg/network use. The real *linodego.Client satisfies it; so does the
// client pkg/linodetest returns.
type LinodeAPI interface {
	cluster.LKEAPI
	network.LinodeAPI
}

var _ LinodeAPI = (*linodego.Client)(nil)

// KubeClientFunc returns a Kubernetes client for the cluster of environment
// env, reached with kubeconfig. It must not log or keep the kubeconfig.
type KubeClientFunc func(ctx context.Context, env string, kubeconfig []byte) (kubernetes.Interface, error)

// Deps are what a rollout talks to and how.
type Deps struct {
	// Linode is the Linode API client of every environment that LinodeFor
	// does not name. Required.
	Linode LinodeAPI
	// LinodeFor gives environments a client of their own (another account
	// or token). Environments that share a client share one observation of
	// the account; those with their own are observed apart and stay
	// isolated.
	LinodeFor map[string]LinodeAPI
	// Kubernetes builds the client of a cluster's Kubernetes API from its
	// kubeconfig. Default: DefaultKubeClient. Set KubernetesSkipped instead
	// to leave the Kubernetes layers out (a simulated cluster without an
	// API server, for one); plans then say why.
	Kubernetes KubeClientFunc
	// KubernetesSkipped, when set, says why the Kubernetes layers are
	// neither planned nor applied.
	KubernetesSkipped string
	// BaselineSkipped, when set, says why the baseline releases (layers
	// secrets, helm and observability) are neither planned nor applied:
	// a test of the other layers, for one. Production leaves it empty.
	BaselineSkipped string
	// Clock tells and waits time: the wall clock by default; the
	// simulator's model clock in tests and the embedded default.
	Clock clock.Clock
	// Logger receives progress. Default zap.NewNop().
	Logger *zap.Logger
	// NodeSubnet is the VPC subnet new clusters' nodes are placed in.
	// Default "nodes", the subnet the standard environments declare.
	NodeSubnet string
	// ClusterOptions and NetworkOptions are passed to every call into
	// pkg/cluster and pkg/network (poll intervals, RBAC groups, …). The
	// clock and logger above are added to them.
	ClusterOptions []cluster.Option
	NetworkOptions []network.Option
	// ObservabilityOptions are passed to pkg/observability (alerting
	// settings).
	ObservabilityOptions []observability.Option

	// Helm builds the client the Helm release and object steps use, from
	// a cluster's kubeconfig. Default: DefaultHelmClient.
	Helm HelmClientFunc
	// ChartRepositories maps an upstream chart repository URL to where
	// it is served instead (a mirror, or a test server); plans still name
	// the upstream URL, so they are the same wherever the charts come from.
	ChartRepositories map[string]string
	// ChartCacheDir caches downloaded charts. Default: Helm's cache under
	// the user's cache directory.
	ChartCacheDir string
	// ReleaseTimeout bounds each release's atomic install or upgrade.
	// Default: internal/helmrelease's (5 minutes).
	ReleaseTimeout time.Duration
	// ReleaseValues are merged over the values of release
	// "<namespace>/<name>": for a test cluster that cannot run what
	// production runs (Helm hook Jobs, for one). Production leaves it
	// empty.
	ReleaseValues map[string]map[string]any
	// Fleet are the environments the GitOps hub (the system environment,
	// pkg/gitops) registers and deploys to. Default: the environments of
	// the Plan, Apply or Ensure call.
	Fleet []spec.Environment
	// Secrets are where the values of the environments' sealed secrets
	// come from and how their sealing certificate is found (see
	// SecretsDeps). Its zero value plans no sealed secret, with a warning.
	Secrets SecretsDeps

	// restore, set by PlanRollback, maps environment → "<namespace>/<name>"
	// → the release as a snapshot recorded it: the baseline renders it
	// with that chart and those values (restoreRelease).
	restore map[string]map[string]store.Release
}

// HelmClientFunc returns the client that Helm and the object steps use for
// the cluster of environment env, reached with kubeconfig. It must not log
// or keep the kubeconfig.
type HelmClientFunc func(ctx context.Context, env string, kubeconfig []byte) (genericclioptions.RESTClientGetter, error)

// DefaultHelmClient reads kubeconfig into a client with the rate limits of
// DefaultKubeClient.
func DefaultHelmClient(_ context.Context, env string, kubeconfig []byte) (genericclioptions.RESTClientGetter, error) {
	cfg, err := clientcmd.RESTConfigFromKubeConfig(kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("read the kubeconfig of environment %q: %w", env, err)
	}
	cfg.QPS, cfg.Burst = 50, 100
	return helmrelease.GetterFor(cfg)
}

// DefaultNodeSubnet is the subnet Deps.NodeSubnet defaults to.
const DefaultNodeSubnet = "nodes"

func (d Deps) withDefaults() (Deps, error) {
	if d.Linode == nil {
		return d, errors.New("rollout: Deps.Linode is required")
	}
	if d.Clock == nil {
		d.Clock = clock.Real{}
	}
	if d.Logger == nil {
		d.Logger = zap.NewNop()
	}
	if d.NodeSubnet == "" {
		d.NodeSubnet = DefaultNodeSubnet
	}
	if d.Kubernetes == nil && d.KubernetesSkipped == "" {
		d.Kubernetes = DefaultKubeClient
	}
	if d.Helm == nil {
		d.Helm = DefaultHelmClient
	}
	return d, nil
}

// withFleet defaults Fleet to envs, defaulted.
func (d Deps) withFleet(envs []spec.Environment) Deps {
	if d.Fleet != nil {
		return d
	}
	d.Fleet = make([]spec.Environment, len(envs))
	for i, e := range envs {
		d.Fleet[i] = e.WithDefaults()
	}
	return d
}

// linodeFor returns the client of environment name.
func (d Deps) linodeFor(name string) LinodeAPI {
	if c, ok := d.LinodeFor[name]; ok && c != nil {
		return c
	}
	return d.Linode
}

// clusterOpts and networkOpts are the options of every call into the
// concerns: the Deps clock (so retries and polls wait in model time on the
// simulator) and logger, then the caller's own. env names the environment
// in the logs ("" for an observation of several).
func (d Deps) clusterOpts(env string) []cluster.Option {
	return append([]cluster.Option{cluster.WithClock(d.Clock), cluster.WithLogger(d.logger(env))}, d.ClusterOptions...)
}

func (d Deps) networkOpts(env string) []network.Option {
	return append([]network.Option{network.WithClock(d.Clock), network.WithLogger(d.logger(env))}, d.NetworkOptions...)
}

func (d Deps) logger(env string) *zap.Logger {
	if env == "" {
		return d.Logger
	}
	return d.Logger.With(zap.String("environment", env))
}

// DefaultKubeClient builds a client-go clientset from kubeconfig, allowing
// 50 requests a second (client-go's default of 5 would make applying a few
// dozen objects take most of a run).
func DefaultKubeClient(_ context.Context, env string, kubeconfig []byte) (kubernetes.Interface, error) {
	cfg, err := clientcmd.RESTConfigFromKubeConfig(kubeconfig)
	if err != nil {
		// clientcmd's errors quote neither the file nor its secrets.
		return nil, fmt.Errorf("read the kubeconfig of environment %q: %w", env, err)
	}
	cfg.QPS, cfg.Burst = 50, 100
	return kubernetes.NewForConfig(cfg)
}

// validate checks every environment before the first request: names
// unique, each spec valid, and each concern's own checks. Every problem
// of every environment is returned, each naming its environment.
func validate(d Deps, envs []spec.Environment) error {
	if len(envs) == 0 {
		return errors.New("rollout: no environment given")
	}
	seen := map[string]bool{}
	var errs []error
	for _, env := range envs {
		if seen[env.Name] {
			errs = append(errs, fmt.Errorf("environment %q is given twice", env.Name))
			continue
		}
		seen[env.Name] = true
		var envErrs []error
		if err := env.WithDefaults().Validate(); err != nil {
			envErrs = append(envErrs, err)
		} else {
			// The concerns' own limits, on top of the spec's.
			if err := cluster.Validate(env); err != nil {
				envErrs = append(envErrs, err)
			}
			if err := network.Validate(env, d.NetworkOptions...); err != nil {
				envErrs = append(envErrs, err)
			}
			if e := env.WithDefaults(); e.Observability.Enabled && e.GitOps.BaselineOwner != spec.OwnerArgoCD {
				if err := observability.Validate(e, d.ObservabilityOptions...); err != nil {
					envErrs = append(envErrs, err)
				}
			}
		}
		if err := errors.Join(envErrs...); err != nil {
			errs = append(errs, fmt.Errorf("environment %q: %w", env.Name, err))
		}
	}
	return errors.Join(errs...)
}

// SecretsDeps are what the sealed secrets of the baseline (layer secrets,
// see SealedSecrets) need.
type SecretsDeps struct {
	// Source supplies the values, by the references SealedSecrets names
	// (environment variables PLATFORM_<ENV>_<SECRET>_<KEY>: secrets.Env{}
	// reads them). When it is nil no sealed secret is planned and every
	// plan carries a warning naming the Secrets left unsealed; the plan
	// does not fail for it.
	Source secrets.Source
	// Cert returns the sealing certificate of env's controller, reached
	// with kube. Default DefaultSealingCert.
	Cert SealingCertFunc
}

// SealingCertFunc returns the certificate the sealed secrets of env are
// sealed with, from its cluster reached with kube.
type SealingCertFunc func(ctx context.Context, env spec.Environment, kube kubernetes.Interface) (*x509.Certificate, error)

// DefaultSealingCert fetches the certificate of env's Sealed Secrets
// controller as kubeseal does: secrets.FetchCert through the API server's
// service proxy, from the controller in env's secrets.namespace (default
// kube-system).
func DefaultSealingCert(ctx context.Context, env spec.Environment, kube kubernetes.Interface) (*x509.Certificate, error) {
	return secrets.FetchCert(ctx, kube, secrets.WithController(env.WithDefaults().Secrets.Namespace, ""))
}

// sealingCert is Secrets.Cert, else DefaultSealingCert.
func (d Deps) sealingCert(ctx context.Context, env spec.Environment, kube kubernetes.Interface) (*x509.Certificate, error) {
	f := d.Secrets.Cert
	if f == nil {
		f = DefaultSealingCert
	}
	cert, err := f(ctx, env, kube)
	if err != nil {
		return nil, fmt.Errorf("get the sealing certificate of environment %q: %w", env.Name, err)
	}
	return cert, nil
}
