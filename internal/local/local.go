package local

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"sync"

	"github.com/linode/linodego"
	"go.uber.org/zap"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/org/platform/internal/clock"
	"github.com/org/platform/internal/controlplane"
	"github.com/org/platform/internal/helmrelease"
	"github.com/org/platform/internal/httpcount"
	"github.com/org/platform/internal/shared"
	"github.com/org/platform/internal/testvalues"
	"github.com/org/platform/pkg/linodetest"
	"github.com/org/platform/pkg/rollout"
	"github.com/org/platform/pkg/secrets"
)

// SimulatorTimeScale is how much faster than real time the simulator's
// clock runs when its clusters have no Kubernetes API: an LKE cluster,
// ready after about 270 s of model time, is ready after about 1.4 s.
const SimulatorTimeScale = 200

// BackedTimeScale is the simulator's speed-up when its clusters are backed
// by local control planes: slow enough that a control plane's few seconds
// of real start-up fit inside the simulated provisioning (≈4.5 s) instead
// of inflating the model time reported.
const BackedTimeScale = 60

// TokenEnv is the environment variable whose value, when set, sends the run
// to the real Linode API with that token.
const TokenEnv = "LINODE_TOKEN"

// APIVersion is the Linode API version of both paths' clients: v4beta,
// for the tier and VPC placement of LKE clusters.
const APIVersion = "v4beta"

// NoControlPlane is Deps.KubernetesSkipped on the simulator when the local
// control plane has not been built: one line saying how to get it.
const NoControlPlane = "the simulated clusters have no Kubernetes API until the local control plane is built: run make controlplane (about 10 minutes, once per machine)"

// Clock kinds, the values of Env.Clock.
const (
	ModelClock = "model"
	WallClock  = "wall"
)

// Env is what a run is on: the rollout.Deps to pass to pkg/rollout and a
// description of where they lead. Call Close when done.
type Env struct {
	// Deps are the Linode client, the Kubernetes client factory (or why
	// the Kubernetes layer is skipped), the clock and the logger.
	Deps rollout.Deps
	// Where says what the run is on, for people: "the Linode API" or
	// "the Linode simulator (clock ×60)".
	Where string
	// Clock is ModelClock on the simulator and WallClock on the real API:
	// what elapsed times are measured in.
	Clock string
	// Simulated is true on the in-process simulator.
	Simulated bool
	// Linode counts the requests sent to the Linode API (or simulator).
	Linode *httpcount.Counter
	// Kubernetes counts the requests sent to the clusters' Kubernetes APIs.
	Kubernetes *httpcount.Counter

	closeOnce sync.Once
	close     func()
	// sim is the simulator, nil on the real API; the tests read it.
	sim *linodetest.Server
}

// Close stops what Connect started: the simulator and the local control
// planes. It is idempotent; on the real API it does nothing.
func (e *Env) Close() {
	e.closeOnce.Do(func() {
		if e.close != nil {
			e.close()
		}
	})
}

// Connect returns the Deps of a run: on the real Linode API when
// LINODE_TOKEN is set, else on a fresh in-process simulator (see the
// package doc). log receives progress and is put in Deps.Logger; nil means
// zap.NewNop(). The simulator and its control planes stop when ctx ends or
// Close is called.
func Connect(ctx context.Context, log *zap.Logger) (*Env, error) {
	return connect(ctx, log, nil)
}

// connect is Connect with the transport under the Linode client given
// (nil: http.DefaultTransport), so that tests can look at the real API's
// requests without sending them.
func connect(ctx context.Context, log *zap.Logger, linodeTransport http.RoundTripper) (*Env, error) {
	if log == nil {
		log = zap.NewNop()
	}
	e := &Env{Linode: &httpcount.Counter{}, Kubernetes: &httpcount.Counter{}}
	hc := &http.Client{Transport: e.Linode.Wrap(linodeTransport)}
	client := linodego.NewClient(hc) // honours LINODE_URL
	if token := os.Getenv(TokenEnv); token != "" {
		client.SetToken(token)
		client.SetAPIVersion(APIVersion)
		e.Deps = rollout.Deps{Linode: &client, Kubernetes: countingKubeClient(e.Kubernetes), Clock: clock.Real{}, Logger: log,
			Secrets: rollout.SecretsDeps{Source: secrets.Env{}}}
		e.Where, e.Clock = "the Linode API", WallClock
		if u := os.Getenv(linodego.APIHostVar); u != "" {
			e.Where += " at " + u
		}
		return e, nil
	}

	scale := float64(SimulatorTimeScale)
	var simOpts []linodetest.Option
	var pool *controlplane.Pool
	skipped := ""
	if err := controlplane.Available(); err != nil {
		log.Info("local control plane not built: the Kubernetes layer is skipped", zap.Error(err))
		skipped = NoControlPlane
	} else {
		// Workloads and kwok nodes: the baseline's releases are installed
		// for real, and Helm's atomic install waits for their pods.
		pool = controlplane.NewPool(controlplane.WithLogger(log.Named("controlplane")),
			controlplane.WithStandIns(), controlplane.WithNodes(3))
		simOpts = append(simOpts, linodetest.WithKubeconfigSource(pool.Kubeconfig),
			linodetest.WithRequestHook(prewarm(ctx, pool, log)))
		scale = BackedTimeScale
	}
	simOpts = append(simOpts, linodetest.WithTimeScale(scale))
	srv, err := linodetest.Start(ctx, simOpts...)
	if err != nil {
		closePool(pool, log)
		return nil, err // Start's error says what it was starting
	}
	client.SetBaseURL(srv.URL())
	client.SetAPIVersion(APIVersion)
	client.SetToken("simulated")
	client.SetRetryCount(linodetest.ClientRetryCount)
	client.SetRetryWaitTime(linodetest.ClientRetryWait)
	client.SetRetryMaxWaitTime(linodetest.ClientRetryMaxWait)
	log.Info("LINODE_TOKEN not set: using the in-process Linode simulator",
		zap.String("url", srv.URL()), zap.Float64("timeScale", scale), zap.Bool("localControlPlanes", pool != nil))

	e.Deps = rollout.Deps{Linode: &client, Clock: srv.Clock(), Logger: log, KubernetesSkipped: skipped,
		Secrets: rollout.SecretsDeps{Source: DemoSource, Cert: SealingKeyCert}}
	if pool != nil {
		e.Deps.Kubernetes = countingKubeClient(e.Kubernetes)
		e.Deps.Helm = countingHelmClient(e.Kubernetes)
		// A local control plane runs no container: the few values that
		// differ from production for it, each with its reason.
		e.Deps.ReleaseValues = testvalues.Overrides()
	}
	charts := serveCharts(&e.Deps, log)
	e.Where = fmt.Sprintf("the Linode simulator (clock ×%g)", scale)
	e.Clock, e.Simulated, e.sim = ModelClock, true, srv
	e.close = func() {
		srv.Close()
		charts()
		closePool(pool, log)
	}
	return e, nil
}

func closePool(pool *controlplane.Pool, log *zap.Logger) {
	if pool == nil {
		return
	}
	if err := pool.Close(); err != nil {
		log.Warn("stop the local control planes", zap.Error(err))
	}
}

// countingKubeClient is rollout.DefaultKubeClient with the requests counted
// into count: the same kubeconfig reading and rate limits, plus the
// counting transport, which DefaultKubeClient has no way to take.
func countingKubeClient(count *httpcount.Counter) rollout.KubeClientFunc {
	return func(_ context.Context, env string, kubeconfig []byte) (kubernetes.Interface, error) {
		cfg, err := clientcmd.RESTConfigFromKubeConfig(kubeconfig)
		if err != nil {
			// clientcmd's errors quote neither the file nor its secrets.
			return nil, fmt.Errorf("read the kubeconfig of environment %q: %w", env, err)
		}
		// As DefaultKubeClient: client-go's default of 5 requests a second
		// would make applying a few dozen objects take most of a run.
		cfg.QPS, cfg.Burst = 50, 100
		cfg.WrapTransport = count.Wrap
		k, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			return nil, fmt.Errorf("build the Kubernetes client of environment %q: %w", env, err)
		}
		return k, nil
	}
}

// countingHelmClient is rollout.DefaultHelmClient with the requests
// counted into count.
func countingHelmClient(count *httpcount.Counter) rollout.HelmClientFunc {
	return func(_ context.Context, env string, kubeconfig []byte) (genericclioptions.RESTClientGetter, error) {
		cfg, err := clientcmd.RESTConfigFromKubeConfig(kubeconfig)
		if err != nil {
			return nil, fmt.Errorf("read the kubeconfig of environment %q: %w", env, err)
		}
		cfg.QPS, cfg.Burst = 50, 100
		cfg.WrapTransport = count.Wrap
		return helmrelease.GetterFor(cfg)
	}
}

// serveCharts serves the shared chart repository (internal/shared), when
// this machine has it, on loopback in place of the upstream repositories
// (which plans still name), and returns what stops it. Without it the
// charts come from upstream.
func serveCharts(d *rollout.Deps, log *zap.Logger) func() {
	dir, err := shared.Find("charts")
	if err != nil {
		log.Info("shared chart repository not found: charts come from their upstream repositories", zap.Error(err))
		return func() {}
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	d.ChartRepositories = map[string]string{}
	for _, r := range rollout.Repositories() {
		d.ChartRepositories[r] = srv.URL
	}
	log.Info("serving the shared chart repository in place of the upstream ones", zap.String("dir", dir), zap.String("url", srv.URL))
	return srv.Close
}

// prewarm returns a simulator request hook that starts a cluster's local
// control plane in the background the first time a request names the
// cluster, so that its few seconds of start-up overlap the simulated
// provisioning instead of being added to it.
func prewarm(ctx context.Context, pool *controlplane.Pool, log *zap.Logger) linodetest.RequestHook {
	var seen sync.Map
	return func(r linodetest.HookRequest) linodetest.HookAction {
		m := clusterPath.FindStringSubmatch(r.Path)
		if m == nil {
			return linodetest.HookAction{}
		}
		id, err := strconv.Atoi(m[1])
		if err != nil {
			return linodetest.HookAction{}
		}
		if _, started := seen.LoadOrStore(id, true); !started {
			go func() {
				if _, err := pool.ControlPlane(ctx, id); err != nil {
					log.Warn("start a local control plane", zap.Int("clusterID", id), zap.Error(err))
				}
			}()
		}
		return linodetest.HookAction{}
	}
}

var clusterPath = regexp.MustCompile(`/lke/clusters/(\d+)`)
