// Package run is the shared body of the example programs: it connects to
// the Linode API or to an in-process simulator (whose clusters are backed by
// real local control planes when they have been built), ensures one
// standard environment, and prints what it did.
package run

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/linode/linodego"
	"go.uber.org/zap"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/org/platform/internal/clock"
	"github.com/org/platform/internal/httpcount"
	"github.com/org/platform/internal/controlplane"
	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/cluster"
	"github.com/org/platform/pkg/linodetest"
	"github.com/org/platform/pkg/network"
	"github.com/org/platform/pkg/spec"
)

// SimulatorTimeScale is how much faster than real time the simulator's
// clock runs when LINODE_TOKEN is unset: an LKE cluster, ready after about
// 270 s of model time, is ready after about 1.4 s.
const SimulatorTimeScale = 200

// NodeSubnet is the VPC subnet of the standard environments that their
// nodes are placed in.
const NodeSubnet = "nodes"

// BackedTimeScale is the simulator's speed-up when its clusters are backed
// by local control planes: slow enough that a control plane's few seconds of
// real start-up fit inside the simulated provisioning (≈4.5 s) instead of
// inflating the model time reported.
const BackedTimeScale = 60

// Main ensures the named standard environment and returns the process exit
// code. Logs go to stderr, the report to stdout.
func Main(name string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cfg := zap.NewDevelopmentConfig() // human-readable, to stderr
	cfg.Level = zap.NewAtomicLevelAt(zap.InfoLevel)
	log, err := cfg.Build()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = log.Sync() }()
	if err := Environment(ctx, name, os.Stdout, log); err != nil {
		log.Error("ensure environment", zap.String("environment", name), zap.Error(err))
		return 1
	}
	return 0
}

// Environment ensures the environment's resources, prints the changes and
// the provisioning time, then ensures again to show that a second run
// writes nothing. The steps, in order: the Cloud Firewall and the VPC
// (pkg/network), the LKE cluster with every pool attached to that firewall
// and its nodes in the VPC's "nodes" subnet (pkg/cluster), then inside the cluster the namespaces, quotas, RBAC and
// zero-trust NetworkPolicies (pkg/network). Secrets, observability and
// GitOps slot in after the Kubernetes step.
func Environment(ctx context.Context, name string, out io.Writer, log *zap.Logger) error {
	env, err := spec.Default(name)
	if err != nil {
		return err
	}
	conn, err := connect(ctx, log)
	if err != nil {
		return err
	}
	defer conn.close()

	kubeCount := &httpcount.Counter{}
	ensure := func() (change.Result, cluster.Result, error) {
		var all change.Result
		netOpts := []network.Option{network.WithClock(conn.clock), network.WithLogger(log)}
		fw, err := network.EnsureFirewall(ctx, conn.api, env, netOpts...)
		if err != nil {
			return all, cluster.Result{}, err
		}
		all.Merge(fw.Result)
		vpc, err := network.EnsureVPC(ctx, conn.api, env, netOpts...)
		if err != nil {
			return all, cluster.Result{}, err
		}
		all.Merge(vpc.Result)
		copts := []cluster.Option{cluster.WithClock(conn.clock), cluster.WithLogger(log)}
		place := cluster.Placement{FirewallID: change.Known(fw.ID)}
		if id, ok := vpc.Subnets[NodeSubnet]; ok {
			place.VPCID, place.SubnetID = change.Known(vpc.ID), change.Known(id)
		}
		res, err := cluster.EnsureCluster(ctx, conn.api, env, place, copts...)
		if err != nil {
			return all, res, err
		}
		all.Merge(res.Result)
		if conn.skipKubernetes != "" {
			return all, res, nil
		}
		kubeconfig, err := cluster.Kubeconfig(ctx, conn.api, res.ID, cluster.WithClock(conn.clock), cluster.WithLogger(log))
		if err != nil {
			return all, res, err
		}
		kc, err := kubeClient(kubeconfig, kubeCount)
		if err != nil {
			return all, res, err
		}
		kr, err := network.EnsureKubernetes(ctx, kc, env, netOpts...)
		if err != nil {
			return all, res, err
		}
		all.Merge(kr.Result)
		return all, res, nil
	}

	fmt.Fprintf(out, "%s: ensuring environment %q on %s\n", name, env.Name, conn.where)
	if conn.skipKubernetes != "" {
		fmt.Fprintf(out, "Kubernetes steps skipped: %s\n", conn.skipKubernetes)
	}
	all, res, err := ensure()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s\n%s (cluster %d) in %s of %s time\n",
		all.String(), all.Summary(), res.ID, res.Elapsed.Round(time.Second), conn.timeKind)

	writes, requests, kw := conn.count.Writes(), conn.count.Requests(), kubeCount.Writes()
	all, _, err = ensure()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "second run: %s, %d writes, %d requests", all.Op(), conn.count.Writes()-writes, conn.count.Requests()-requests)
	if conn.skipKubernetes == "" {
		fmt.Fprintf(out, "; Kubernetes: %d writes", kubeCount.Writes()-kw)
	}
	fmt.Fprintln(out)
	return nil
}

// prewarm returns a simulator request hook that starts a cluster's local
// control plane in the background the first time a request names the
// cluster, so that its few seconds of start-up overlap the simulated
// provisioning instead of being added to it (at ×200, 3 s of real time would
// be 10 minutes of model time).
func prewarm(ctx context.Context, pool *controlplane.Pool, log *zap.Logger) func(linodetest.HookRequest) linodetest.HookAction {
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
					log.Warn("start local control plane", zap.Int("clusterID", id), zap.Error(err))
				}
			}()
		}
		return linodetest.HookAction{}
	}
}

var clusterPath = regexp.MustCompile(`/lke/clusters/(\d+)`)

// kubeClient returns a client-go clientset for kubeconfig whose requests
// count passes through count.
func kubeClient(kubeconfig []byte, count *httpcount.Counter) (kubernetes.Interface, error) {
	cfg, err := clientcmd.RESTConfigFromKubeConfig(kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("read the cluster's kubeconfig: %w", err)
	}
	// client-go's default of 5 requests a second would make applying a few
	// dozen objects take most of a run.
	cfg.QPS, cfg.Burst = 50, 100
	cfg.WrapTransport = count.Wrap
	return kubernetes.NewForConfig(cfg)
}

// connection is where the example sends its requests.
type connection struct {
	api *linodego.Client
	// skipKubernetes, when set, says why the steps inside the cluster are
	// skipped: the simulator's clusters have no API server unless the local
	// control plane has been built.
	skipKubernetes string
	clock          cluster.Clock
	where          string
	timeKind       string
	count          *httpcount.Counter
	close          func()
}

// connect returns a client for the Linode API when LINODE_TOKEN is set and
// for a fresh in-process simulator otherwise. Both count the requests they
// send.
func connect(ctx context.Context, log *zap.Logger) (*connection, error) {
	conn := &connection{}
	conn.count = &httpcount.Counter{}
	hc := &http.Client{Transport: conn.count.Wrap(nil)}
	client := linodego.NewClient(hc) // honours LINODE_URL
	if token := os.Getenv("LINODE_TOKEN"); token != "" {
		client.SetToken(token)
		client.SetAPIVersion("v4beta") // tier and VPC placement of LKE clusters
		conn.api, conn.clock, conn.where, conn.timeKind = &client, clock.Real{}, "the Linode API", "wall-clock"
		conn.close = func() {}
		return conn, nil
	}
	// Back every simulated cluster with a real local control plane when it
	// has been built (make controlplane), so the Kubernetes steps run for real.
	scale := float64(SimulatorTimeScale)
	var simOpts []linodetest.Option
	pool := (*controlplane.Pool)(nil)
	if err := controlplane.Available(); err != nil {
		conn.skipKubernetes = "the simulated clusters have no Kubernetes API because the local control plane is not built (run make controlplane)"
	} else {
		pool = controlplane.NewPool(controlplane.WithLogger(log.Named("controlplane")))
		simOpts = append(simOpts, linodetest.WithKubeconfigSource(pool.Kubeconfig),
			linodetest.WithRequestHook(prewarm(ctx, pool, log)))
		scale = BackedTimeScale
	}
	simOpts = append(simOpts, linodetest.WithTimeScale(scale))
	srv, err := linodetest.Start(ctx, simOpts...)
	if err != nil {
		return nil, err
	}
	client.SetBaseURL(srv.URL())
	client.SetAPIVersion("v4beta")
	client.SetToken("simulated")
	client.SetRetryCount(linodetest.ClientRetryCount)
	client.SetRetryWaitTime(linodetest.ClientRetryWait)
	client.SetRetryMaxWaitTime(linodetest.ClientRetryMaxWait)
	log.Info("LINODE_TOKEN not set: using the in-process Linode simulator", zap.String("url", srv.URL()), zap.Float64("timeScale", scale))
	conn.api, conn.clock = &client, srv.Clock()
	conn.where = fmt.Sprintf("the Linode simulator (clock ×%g)", scale)
	conn.timeKind = "model"
	conn.close = func() {
		srv.Close()
		if pool != nil {
			if err := pool.Close(); err != nil {
				log.Warn("stop local control planes", zap.Error(err))
			}
		}
	}
	return conn, nil
}
