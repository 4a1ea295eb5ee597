// Package run is the shared body of the example programs: it connects to
// the Linode API or to an in-process simulator, ensures one standard
// environment, and prints what it did.
package run

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"time"

	"github.com/linode/linodego"
	"go.uber.org/zap"

	"github.com/org/platform/internal/clock"
	"github.com/org/platform/pkg/cluster"
	"github.com/org/platform/pkg/linodetest"
	"github.com/org/platform/pkg/spec"
)

// SimulatorTimeScale is how much faster than real time the simulator's
// clock runs when LINODE_TOKEN is unset: an LKE cluster, ready after about
// 270 s of model time, is ready after about 1.4 s.
const SimulatorTimeScale = 200

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
// writes nothing. Later layers (network, secrets, observability) slot in
// where marked.
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
	opts := []cluster.Option{cluster.WithClock(conn.clock), cluster.WithLogger(log)}

	ensure := func() (cluster.Result, error) {
		// Network (firewall, VPC) goes here, its firewall id passed on with
		// cluster.WithFirewallID.
		res, err := cluster.EnsureCluster(ctx, conn.api, env, opts...)
		if err != nil {
			return res, err
		}
		// Secrets, observability and GitOps go here, given the kubeconfig.
		return res, nil
	}

	fmt.Fprintf(out, "%s: ensuring environment %q on %s\n", name, env.Name, conn.where)
	res, err := ensure()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s\n%s (cluster %d) in %s of %s time\n",
		res.String(), res.Summary(), res.ClusterID, res.Elapsed.Round(time.Second), conn.timeKind)

	writes, requests := conn.writes.Load(), conn.requests.Load()
	res, err = ensure()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "second run: %s, %d writes, %d requests\n",
		res.Op(), conn.writes.Load()-writes, conn.requests.Load()-requests)
	return nil
}

// connection is where the example sends its requests.
type connection struct {
	api      *linodego.Client
	clock    cluster.Clock
	where    string
	timeKind string
	writes   atomic.Int64
	requests atomic.Int64
	close    func()
}

// connect returns a client for the Linode API when LINODE_TOKEN is set and
// for a fresh in-process simulator otherwise. Both count the requests they
// send.
func connect(ctx context.Context, log *zap.Logger) (*connection, error) {
	conn := &connection{}
	hc := &http.Client{Transport: counting{next: http.DefaultTransport, conn: conn}}
	client := linodego.NewClient(hc) // honours LINODE_URL
	if token := os.Getenv("LINODE_TOKEN"); token != "" {
		client.SetToken(token)
		conn.api, conn.clock, conn.where, conn.timeKind = &client, clock.Real{}, "the Linode API", "wall-clock"
		conn.close = func() {}
		return conn, nil
	}
	srv, err := linodetest.Start(ctx, linodetest.WithTimeScale(SimulatorTimeScale))
	if err != nil {
		return nil, err
	}
	client.SetBaseURL(srv.URL())
	client.SetAPIVersion("v4beta")
	client.SetToken("simulated")
	client.SetRetryCount(linodetest.ClientRetryCount)
	client.SetRetryWaitTime(linodetest.ClientRetryWait)
	client.SetRetryMaxWaitTime(linodetest.ClientRetryMaxWait)
	log.Info("LINODE_TOKEN not set: using the in-process Linode simulator", zap.String("url", srv.URL()), zap.Float64("timeScale", SimulatorTimeScale))
	conn.api, conn.clock = &client, srv.Clock()
	conn.where = fmt.Sprintf("the Linode simulator (clock ×%d)", SimulatorTimeScale)
	conn.timeKind = "model"
	conn.close = srv.Close
	return conn, nil
}

// counting counts requests and writes on their way out.
type counting struct {
	next http.RoundTripper
	conn *connection
}

func (c counting) RoundTrip(r *http.Request) (*http.Response, error) {
	c.conn.requests.Add(1)
	switch r.Method {
	case http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch:
		c.conn.writes.Add(1)
	}
	return c.next.RoundTrip(r)
}
