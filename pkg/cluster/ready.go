package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/linode/linodego"
	"go.uber.org/zap"

	"github.com/org/platform/internal/clock"
	"github.com/org/platform/internal/poll"
	"github.com/org/platform/pkg/change"
)

// Stage names what is being waited for.
type Stage string

// The stages of waiting reported through Progress.
const (
	// StageNodes waits for every node of every pool to be ready.
	StageNodes Stage = "nodes"
	// StageKubeconfig waits for the cluster's kubeconfig to be available.
	StageKubeconfig Stage = "kubeconfig"
	// StagePool waits for a new node pool, replacing one of another type.
	StagePool Stage = "pool"
	// StageUpgrade waits for every node to be replaced after an upgrade.
	StageUpgrade Stage = "upgrade"
	// StageKubelets waits for every kubelet to report the new version.
	StageKubelets Stage = "kubelets"
	// StageDelete waits for a deleted cluster to be gone.
	StageDelete Stage = "delete"
)

// Progress is reported after each poll while waiting.
type Progress struct {
	// ClusterID is the LKE cluster waited on.
	ClusterID int
	// Stage is what is being waited for.
	Stage Stage
	// Elapsed is the time since this wait began, on the clock in use.
	Elapsed time.Duration
	// NodesReady and NodesTotal count the nodes done and expected: ready
	// nodes for StageNodes and StagePool, replaced ready nodes for
	// StageUpgrade, kubelets on the new version for StageKubelets.
	NodesReady, NodesTotal int
}

// waiter polls with the options' policy, reports progress and remembers
// the last transient error, so a wait that runs out of time says why.
type waiter struct {
	o         *options
	log       *zap.Logger
	clusterID int
	stage     Stage
	start     time.Time
	ready     int
	total     int
	polls     int
	lastErr   error
}

func newWaiter(o *options, log *zap.Logger, clusterID int, stage Stage) *waiter {
	return &waiter{o: o, log: log, clusterID: clusterID, stage: stage, start: o.clock.Now(), ready: -1, total: -1}
}

// until polls cond until it is done. A transient API error is a poll that
// is not done yet; any other error ends the wait and is returned. When ctx
// ends first, the error wraps change.ErrNotReady, ctx's error and the last
// transient API error.
func (w *waiter) until(ctx context.Context, cond func(ctx context.Context) (bool, error)) error {
	err := poll.Until(ctx, w.o.pollPolicy(), func(ctx context.Context) (bool, error) {
		w.polls++
		done, err := cond(ctx)
		if err != nil {
			if t, _ := poll.Transient(err); t && ctx.Err() == nil {
				w.lastErr = err
				w.log.Debug("transient Linode API error while waiting", zap.String("stage", string(w.stage)), zap.Error(err))
				return false, nil
			}
			return false, err
		}
		w.lastErr = nil
		return done, nil
	})
	if err == nil {
		w.log.Info("done waiting", zap.String("stage", string(w.stage)), zap.Duration("elapsed", w.elapsed()),
			zap.String("clock", clockKind(w.o.clock)), zap.Int("polls", w.polls))
		return nil
	}
	if ctx.Err() == nil {
		return err
	}
	state := fmt.Sprintf("%s after %s, %d polls", w.stage, w.elapsed().Round(time.Second), w.polls)
	if w.total >= 0 {
		state += fmt.Sprintf(", %d/%d nodes", max(w.ready, 0), w.total)
	}
	if w.lastErr != nil {
		return fmt.Errorf("%w (%s): %w (last error: %w)", change.ErrNotReady, state, ctx.Err(), w.lastErr)
	}
	return fmt.Errorf("%w (%s): %w", change.ErrNotReady, state, ctx.Err())
}

func (w *waiter) elapsed() time.Duration { return w.o.clock.Now().Sub(w.start) }

// report records and publishes progress: to WithProgress after every poll,
// to the log at info level when the counts change.
func (w *waiter) report(ready, total int) {
	p := Progress{ClusterID: w.clusterID, Stage: w.stage, Elapsed: w.elapsed(), NodesReady: ready, NodesTotal: total}
	level := zap.DebugLevel
	if ready != w.ready || total != w.total {
		level = zap.InfoLevel
	}
	w.ready, w.total = ready, total
	if ce := w.log.Check(level, "waiting"); ce != nil {
		ce.Write(zap.Int("clusterID", w.clusterID), zap.String("stage", string(w.stage)),
			zap.Duration("elapsed", p.Elapsed), zap.String("clock", clockKind(w.o.clock)), zap.Int("ready", ready), zap.Int("total", total))
	}
	if w.o.progress != nil {
		w.o.progress(p)
	}
}

// WaitReady waits until the cluster is usable: every node of every pool
// exists and is ready, and the kubeconfig is available. It polls the
// cluster's pool list (one request returns every pool with its nodes),
// backing off from the poll interval to its maximum, then fetches the
// kubeconfig, honouring Retry-After while the API answers 503. Transient
// API errors are retried; any other error (such as 404 for a cluster that
// does not exist) is returned at once. Waiting is bounded by ctx only: when
// ctx ends first, the error wraps change.ErrNotReady, ctx's error and the
// last API error seen. Progress goes to WithProgress and the logger.
func WaitReady(ctx context.Context, api LKEAPI, clusterID int, opts ...Option) error {
	o, err := newOptions(opts)
	if err != nil {
		return err
	}
	return waitReady(ctx, api, o, o.logger.With(zap.Int("clusterID", clusterID)), clusterID)
}

func waitReady(ctx context.Context, api LKEAPI, o *options, log *zap.Logger, clusterID int) error {
	w := newWaiter(o, log, clusterID, StageNodes)
	err := w.until(ctx, func(ctx context.Context) (bool, error) {
		pools, err := api.ListLKENodePools(ctx, clusterID, nil)
		if err != nil {
			return false, err
		}
		ready, total, all := 0, 0, true
		for _, p := range pools {
			total += max(p.Count, len(p.Linodes))
			ready += readyNodes(p)
			all = all && poolReady(p)
		}
		w.report(ready, total)
		return all, nil
	})
	if err != nil {
		return fmt.Errorf("wait for nodes of LKE cluster %d: %w", clusterID, err)
	}
	w = newWaiter(o, log, clusterID, StageKubeconfig)
	attempts := 0
	_, err = fetchKubeconfig(ctx, api, o, log, clusterID, func() {
		w.report(0, 1)
		attempts++
	})
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%s after %s, %d attempts): %w", change.ErrNotReady, StageKubeconfig, w.elapsed().Round(time.Second), attempts, err)
		}
		return fmt.Errorf("wait for kubeconfig of LKE cluster %d: %w", clusterID, err)
	}
	w.report(1, 1)
	log.Info("LKE cluster ready", zap.Duration("kubeconfigWait", w.elapsed()))
	return nil
}

// errNotFound maps a 404 to change.ErrNotFound as well.
func errNotFound(err error) error {
	if linodego.IsNotFound(err) && !errors.Is(err, change.ErrNotFound) {
		return fmt.Errorf("%w: %w", change.ErrNotFound, err)
	}
	return err
}

// clockKind says which time a duration was counted in, for progress lines:
// "wall" on the real clock, "model" on a simulator's scaled or manual one.
func clockKind(c Clock) string {
	if _, ok := c.(clock.Real); ok {
		return "wall"
	}
	return "model"
}
