package cluster

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/linode/linodego"
	"go.uber.org/zap"

	"github.com/org/platform/internal/clock"
	"github.com/org/platform/internal/poll"
	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/spec"
)

// Result is what EnsureCluster did, or PlanCluster would do.
type Result struct {
	change.Result
	// ClusterID is the LKE cluster's id; 0 when PlanCluster finds no cluster.
	ClusterID int
	// Label is the cluster's label.
	Label string
	// Elapsed is how long the call took, on the clock in use (model time
	// under a scaled test clock).
	Elapsed time.Duration
}

// EnsureCluster makes the LKE cluster of env match env.Cluster, creating,
// updating or deleting only what differs, and by default waits until it is
// ready (every node ready, kubeconfig available).
//
// Before anything else env is validated, with spec defaults applied to a
// copy (env itself is never changed): an invalid spec returns
// spec.FieldErrors listing every problem, and no request is sent.
//
// The cluster is found by its label (one filtered list request) and
// adopted if it exists; two clusters with the label are an error wrapping
// change.ErrConflict. Node pools are matched by their ownership tag (see
// PoolTagPrefix), never by position. What is compared and fixed:
//
//   - cluster tags (the spec's, plus ClusterTagPrefix+<environment>);
//   - control-plane HA and ACL: turned on, ACL addresses updated; turning
//     either off is refused with an error naming the field and wrapping
//     change.ErrIrreversible, before any write;
//   - Kubernetes version: raised, every node recycled, and the wait lasts
//     until every node present before has been replaced and every node is
//     ready (and, with WithNodeVersionChecker, reports the new version);
//   - each pool's count (unless its autoscaler is on: then the spec's count
//     is the initial size only), autoscaler, labels, taints, tags and, with
//     WithFirewallID, firewall — in place, with one PUT per pool;
//   - a pool's type: a new pool is created, and the old one deleted only
//     once every new node is ready;
//   - pools missing are created; owned pools no longer in the spec are
//     deleted; pools without our tag are never touched. Adopting a cluster
//     made by another tool therefore adds the spec's pools beside its
//     untagged ones, which stay until removed by hand.
//
// Creating requests are sent once: after an error the loop re-reads and
// re-plans, so an object whose creation response was lost is found (the
// cluster by label, pools by tag) rather than made twice, and a duplicate
// of ours that exists anyway is deleted (the one with the most ready nodes,
// then the oldest, is kept). Reads, PUTs and DELETEs are retried while the
// API fails transiently (429, 5xx, dropped connections), honouring
// Retry-After. The loop is bounded by ctx and WithMaxRounds.
//
// A second call with the same spec sends no write and returns a Result
// with no changes: three reads for a cluster whose nodes are all ready.
func EnsureCluster(ctx context.Context, api LKEAPI, env spec.Environment, opts ...Option) (Result, error) {
	r, err := prepare(api, env, opts)
	if err != nil {
		return Result{}, err
	}
	return r.ensure(ctx)
}

// PlanCluster returns the changes EnsureCluster would make, without
// writing anything (it never touches the control-plane ACL either). A
// change the API cannot make is an error, as in EnsureCluster.
func PlanCluster(ctx context.Context, api LKEAPI, env spec.Environment, opts ...Option) (Result, error) {
	r, err := prepare(api, env, opts)
	if err != nil {
		return Result{}, err
	}
	start := r.o.clock.Now()
	res := Result{Label: r.d.label}
	obs, err := r.observe(ctx)
	if err != nil {
		return res, fmt.Errorf("plan LKE cluster %q: %w", r.d.label, err)
	}
	if obs.cluster != nil {
		res.ClusterID = obs.cluster.ID
	}
	r.o.tempACL = nil // a plan compares with the spec alone
	steps, err := r.plan(obs)
	if err != nil {
		return res, fmt.Errorf("plan LKE cluster %q: %w", r.d.label, err)
	}
	for _, s := range steps {
		res.Add(s.changes...)
	}
	res.Elapsed = r.o.clock.Now().Sub(start)
	return res, nil
}

// prepare checks the options and the spec before any request.
func prepare(api LKEAPI, env spec.Environment, opts []Option) (*run, error) {
	o, oerr := newOptions(opts)
	d, serr := desiredFrom(env)
	if err := errors.Join(oerr, serr); err != nil {
		return nil, err
	}
	return newRun(api, o, d), nil
}

func (r *run) ensure(ctx context.Context) (res Result, err error) {
	start := r.o.clock.Now()
	res.Label = r.d.label
	defer func() { res.Elapsed = r.o.clock.Now().Sub(start) }()

	var (
		uncertain []change.Change // changes of a step that failed: made or not?
		createErr error           // the last non-transient error of a create
		widened   bool
		obs       *observed
		pause     = r.o.retryPolicy().Interval // before re-reading after a failed step
		lastErr   error                        // of the last failed step, for a deadline's error
	)
	// fail wraps err, and the last step error when ctx ended meanwhile.
	fail := func(err error) error {
		if ctx.Err() != nil && lastErr != nil && !errors.Is(err, lastErr) {
			return fmt.Errorf("ensure LKE cluster %q: %w (last error: %w)", r.d.label, err, lastErr)
		}
		return fmt.Errorf("ensure LKE cluster %q: %w", r.d.label, err)
	}
	defer func() {
		if widened && res.ClusterID != 0 {
			if nerr := r.narrowACL(ctx, res.ClusterID); nerr != nil {
				err = errors.Join(err, nerr)
			}
		}
	}()

	for round := 1; ; round++ {
		if round > r.o.maxRounds {
			return res, fmt.Errorf("ensure LKE cluster %q: not converged after %d rounds (last error: %w)", r.d.label, r.o.maxRounds, lastErr)
		}
		obs, err = r.observe(ctx)
		if err != nil {
			return res, fail(err)
		}
		if obs.cluster != nil {
			res.ClusterID = obs.cluster.ID
		}
		steps, err := r.plan(obs)
		if err != nil {
			return res, fail(err)
		}
		res.Add(settled(uncertain, steps)...)
		if createErr != nil && planned(uncertain, steps) {
			return res, createErr // the create failed for good and is still needed
		}
		uncertain, createErr = nil, nil
		if len(steps) == 0 {
			break
		}
		r.log.Debug("plan", zap.Int("round", round), zap.Int("steps", len(steps)))
		if !widened && r.tempACLActive() {
			// Admit the caller before the first write; a create carries
			// the address itself (see aclAddresses).
			if obs.cluster != nil && obs.acl.Enabled {
				if err := r.widenACL(ctx, obs); err != nil {
					return res, fail(err)
				}
			}
			widened = true
		}
		for _, s := range steps {
			err := s.apply(ctx)
			if err == nil {
				res.Add(s.changes...)
				continue
			}
			if ctx.Err() != nil {
				return res, fail(err)
			}
			retryable := isRetryable(err)
			if !retryable && s.kind != stepCreate {
				return res, fail(err)
			}
			lastErr = err
			// Made or not? The next round's reads decide, after a pause
			// (the server's Retry-After if it gave one) that grows while
			// failures repeat.
			r.log.Info("step failed, re-reading before the next step", zap.Int("round", round), zap.Error(err))
			uncertain = s.changes
			if !retryable {
				createErr = fmt.Errorf("ensure LKE cluster %q: %w", r.d.label, err)
			}
			d := pause
			if _, after := poll.Transient(err); after > 0 {
				d = after
			}
			if err := clock.Sleep(ctx, r.o.clock, d); err != nil {
				return res, fail(err)
			}
			pause = min(2*pause, r.o.maxPollInterval)
			break
		}
	}

	if r.o.wait && res.ClusterID != 0 && (res.Changed() || !allReady(obs.pools)) {
		if err := waitReady(ctx, r.api, r.o, r.log, res.ClusterID); err != nil {
			return res, fmt.Errorf("ensure LKE cluster %q: %w", r.d.label, err)
		}
	}
	return res, nil
}

// settled returns the changes of a failed step that the new plan no longer
// asks for: the step took effect although its response was lost.
func settled(uncertain []change.Change, steps []step) []change.Change {
	var out []change.Change
	for _, c := range uncertain {
		if !planned([]change.Change{c}, steps) {
			out = append(out, c)
		}
	}
	return out
}

// planned reports whether any of cs is asked for again by steps.
func planned(cs []change.Change, steps []step) bool {
	for _, c := range cs {
		for _, s := range steps {
			if slices.ContainsFunc(s.changes, func(o change.Change) bool {
				return o.Object == c.Object && o.Field == c.Field && o.Op == c.Op && o.To == c.To
			}) {
				return true
			}
		}
	}
	return false
}

func allReady(pools []linodego.LKENodePool) bool {
	for _, p := range pools {
		if !poolReady(p) {
			return false
		}
	}
	return true
}

// widenACL adds the temporary address to the ACL as it is now.
func (r *run) widenACL(ctx context.Context, obs *observed) error {
	var v4, v6 []string
	if a := obs.acl.Addresses; a != nil {
		v4, v6 = canonicalOrRaw(a.IPv4), canonicalOrRaw(a.IPv6)
	}
	t := *r.o.tempACL
	if t.Addr().Is4() {
		if slices.Contains(v4, t.String()) {
			return nil
		}
		v4 = withAddress(v4, t)
	} else {
		if slices.Contains(v6, t.String()) {
			return nil
		}
		v6 = withAddress(v6, t)
	}
	r.log.Info("admitting temporary address to the control plane ACL", zap.String("address", t.String()))
	return r.putACL(ctx, obs.cluster.ID, v4, v6)
}

// narrowACL removes the temporary address again. It runs when EnsureCluster
// returns, error or not, so it does not stop when ctx ends: it gets a
// minute of its own.
func (r *run) narrowACL(ctx context.Context, clusterID int) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	var acl linodego.LKEClusterControlPlaneACL
	err := retry(ctx, r.o, r.log, "get LKE control plane ACL", func(ctx context.Context) error {
		resp, err := r.api.GetLKEClusterControlPlaneACL(ctx, clusterID)
		if linodego.ErrHasStatus(err, http.StatusNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		acl = resp.ACL
		return nil
	})
	if err != nil {
		return fmt.Errorf("narrow control plane ACL of LKE cluster %q: %w", r.d.label, err)
	}
	if acl.Addresses == nil {
		return nil
	}
	t := r.o.tempACL.String()
	v4, v6 := canonicalOrRaw(acl.Addresses.IPv4), canonicalOrRaw(acl.Addresses.IPv6)
	n := len(v4) + len(v6)
	drop := func(s string) bool { return s == t }
	v4, v6 = slices.DeleteFunc(v4, drop), slices.DeleteFunc(v6, drop)
	if len(v4)+len(v6) == n {
		return nil
	}
	r.log.Info("removing temporary address from the control plane ACL", zap.String("address", t))
	if err := r.putACL(ctx, clusterID, v4, v6); err != nil {
		return fmt.Errorf("narrow control plane ACL: %w", err)
	}
	return nil
}
