package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"time"

	"github.com/linode/linodego"
	"go.uber.org/zap"

	"github.com/org/platform/internal/poll"
	"github.com/org/platform/internal/reconcile"
	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/spec"
)

// Result is what EnsureCluster, ApplyCluster or DeleteCluster did. The
// embedded change.Result lists the changes that took effect, and how long
// the call took on the clock in use (model time under a scaled test clock).
type Result struct {
	change.Result
	// ID is the LKE cluster's id; 0 when there is none.
	ID int
	// Label is the cluster's label.
	Label string
}

// EnsureCluster makes the LKE cluster of env match env.Cluster, placed as p
// says, creating, updating or deleting only what differs, and by default
// waits until it is ready (every node ready, kubeconfig available). It is
// PlanCluster and ApplyStep in the reconcile loop every concern shares:
// plan, apply exactly the plan's steps, and plan again from fresh reads
// until a plan is empty (bounded by WithMaxRounds and ctx).
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
//   - control-plane HA and ACL: turned on, ACL addresses updated (compared
//     as CIDRs: the API stores "192.0.2.1" as "192.0.2.1/32"); turning
//     either off is refused with an error naming the field and wrapping
//     change.ErrIrreversible, before any write;
//   - Kubernetes version: raised, every node recycled, and the wait lasts
//     until every node present before has been replaced and every node is
//     ready (and, with WithNodeVersionChecker, reports the new version);
//   - each pool's count (unless its autoscaler is on: then the spec's count
//     is the initial size only), autoscaler, labels, taints, tags and, when
//     p names a firewall, the firewall — in place, with one PUT per pool;
//   - a pool's type: replaced — a new pool is created, and the old one
//     deleted only once every new node is ready;
//   - pools missing are created; owned pools no longer in the spec are
//     deleted; pools without our tag are never touched. Adopting a cluster
//     made by another tool therefore adds the spec's pools beside its
//     untagged ones, which stay until removed by hand.
//
// Creating requests are sent once: after an error the loop re-reads and
// re-plans, so an object whose creation response was lost is found (the
// cluster by label, pools by tag) rather than made twice, and a duplicate
// of ours that existed before the run is deleted (the one with the most
// ready nodes, then the oldest, is kept). A cluster or pool that another
// run creates while this one runs is a conflict (change.ErrConflict), never
// a duplicate this run makes or deletes. Reads, PUTs and DELETEs are retried
// while the API fails transiently (429, 5xx, dropped connections),
// honouring Retry-After.
//
// A second call with the same spec sends no write and returns a Result
// with no changes: three reads for a cluster whose nodes are all ready.
func EnsureCluster(ctx context.Context, api LKEAPI, env spec.Environment, p Placement, opts ...Option) (res Result, err error) {
	r, err := prepare(api, env, p, opts)
	if err != nil {
		return Result{}, err
	}
	return r.ensure(ctx)
}

// PlanCluster reads the environment's cluster and returns what
// EnsureCluster would do, as data: steps carrying their requests, the
// cluster's id (a reference for a cluster still to be created), and the
// base the decisions compared. It never writes. A change the API cannot
// make is an error, as in EnsureCluster.
func PlanCluster(ctx context.Context, api LKEAPI, env spec.Environment, p Placement, opts ...Option) (Plan, error) {
	r, err := prepare(api, env, p, opts)
	if err != nil {
		return Plan{}, err
	}
	obs, err := observe(ctx, api, []Target{{Label: r.d.label, Firewall: !p.FirewallID.IsZero()}})
	if err != nil {
		return Plan{Label: r.d.label}, fmt.Errorf("plan LKE cluster %q: %w", r.d.label, err)
	}
	return r.plan(obs)
}

// PlanFrom returns the plan of env's cluster from an Observation that
// includes it (see Observe), without any request: several environments
// observed together are planned from one observation.
func PlanFrom(obs Observation, env spec.Environment, p Placement, opts ...Option) (Plan, error) {
	r, err := prepare(nil, env, p, opts)
	if err != nil {
		return Plan{}, err
	}
	return r.plan(obs)
}

func (r *run) plan(obs Observation) (Plan, error) {
	ob, err := obs.get(r.d.label)
	if err != nil {
		return Plan{Label: r.d.label}, fmt.Errorf("plan LKE cluster %q: %w", r.d.label, err)
	}
	r.o.tempACL = nil // a plan compares with the spec alone
	p, err := r.planFrom(ob)
	if err != nil {
		return p, fmt.Errorf("plan LKE cluster %q: %w", r.d.label, err)
	}
	return p, nil
}

// ApplyCluster executes exactly the steps of plan, in order, and nothing
// else, resolving references to earlier steps (of this plan or, through
// out, of the plans applied before it) as it goes. It stops at the first
// step that fails; the Result lists the changes of the steps that completed.
// It does not wait for readiness: see WaitReady.
func ApplyCluster(ctx context.Context, api LKEAPI, plan Plan, out *change.Outputs, opts ...Option) (Result, error) {
	o, err := newOptions(opts)
	if err != nil {
		return Result{}, err
	}
	if out == nil {
		out = &change.Outputs{}
	}
	start := o.clock.Now()
	done, err := reconcile.Apply(ctx, plan.Plan, out, func(ctx context.Context, s change.Step, out *change.Outputs) error {
		return applyStep(ctx, api, o, s, out)
	})
	res := Result{Result: done, ID: plan.ID.Value, Label: plan.Label}
	if plan.ID.Ref != nil {
		if v, ok := out.Get(*plan.ID.Ref); ok {
			_ = jsonInt(v, &res.ID)
		}
	}
	res.Elapsed = o.clock.Now().Sub(start)
	if err != nil {
		return res, fmt.Errorf("apply plan of LKE cluster %q: %w", plan.Label, err)
	}
	return res, nil
}

// Validate checks env's cluster as EnsureCluster and PlanCluster do before
// their first request (the spec, plus the limits of the ownership tags
// this package adds), without sending anything.
func Validate(env spec.Environment) error {
	_, err := desiredFrom(env)
	return err
}

// prepare checks the options, the placement and the spec before any
// request.
func prepare(api LKEAPI, env spec.Environment, p Placement, opts []Option) (*run, error) {
	o, oerr := newOptions(opts)
	d, serr := desiredFrom(env)
	if err := errors.Join(oerr, p.check(), serr); err != nil {
		return nil, err
	}
	return newRun(api, o, d, p), nil
}

func (r *run) ensure(ctx context.Context) (res Result, err error) {
	start := r.o.clock.Now()
	res.Label = r.d.label
	defer func() { res.Elapsed = r.o.clock.Now().Sub(start) }()
	target := []Target{{Label: r.d.label, Firewall: !r.p.FirewallID.IsZero()}}
	var (
		last    *observed // the latest observation
		pools   = &poolOwnership{made: map[int]bool{}, lost: map[string]int{}}
		widened bool
	)
	// The temporary ACL address, while in use, is neither drift nor
	// reported: plans of this run leave it alone (see aclStep), and it is
	// removed again when the run ends.
	tempACL := r.o.tempACL
	plan := func(ctx context.Context) (change.Plan, error) {
		obs, err := observe(ctx, r.api, target)
		if err != nil {
			return change.Plan{}, err
		}
		ob, err := obs.get(r.d.label)
		if err != nil {
			return change.Plan{}, err
		}
		last = ob
		if ob.cluster != nil {
			res.ID = ob.cluster.ID
		}
		if err := pools.check(ob, r.d.label); err != nil {
			return change.Plan{}, err
		}
		r.o.tempACL = tempACL
		p, err := r.planFrom(ob)
		return p.Plan, err
	}
	step := func(ctx context.Context, s change.Step, out *change.Outputs) error {
		if !widened && r.tempACLActive() {
			// Admit the caller before the first write; a create carries the
			// address itself (see aclAddresses).
			if last != nil && last.cluster != nil && last.acl.Enabled {
				if err := r.widenACL(ctx, last); err != nil {
					return err
				}
			}
			widened = true
		}
		err := applyStep(ctx, r.api, r.o, s, out)
		pools.applied(s, out, err)
		return err
	}
	defer func() {
		// Narrow whenever the ACL holds the temporary address: after this
		// run widened it, and also when an earlier run was cut short after
		// widening (cancelled, killed), so no run leaves it behind.
		if tempACL != nil && res.ID != 0 && (widened || (last != nil && aclHolds(last.acl, *tempACL))) {
			r.o.tempACL = tempACL
			if nerr := r.narrowACL(ctx, res.ID); nerr != nil {
				err = errors.Join(err, nerr)
			}
		}
	}()

	cr, err := reconcile.Converge(ctx, reconcile.Options{
		Clock: r.o.clock, Log: r.log, MaxRounds: r.o.maxRounds,
		Pause: r.o.retryPause(), MaxPause: r.o.maxPollInterval,
		Transient: poll.Transient,
	}, plan, step, nil)
	res.Result = cr
	if err != nil {
		return res, fmt.Errorf("ensure LKE cluster %q: %w", r.d.label, err)
	}
	if r.o.wait && res.ID != 0 && (res.Changed() || last == nil || !allReady(last.pools)) {
		if err := waitReady(ctx, r.api, r.o, r.log, res.ID); err != nil {
			return res, fmt.Errorf("ensure LKE cluster %q: %w", r.d.label, err)
		}
	}
	return res, nil
}

// poolOwnership tells the pools this run made from pools another run makes
// at the same time. An owned pool that appears during the run is this
// run's when it created it (its id came back) or when a create of that
// pool's name lost its response; any other is another run's, and the run
// stops with change.ErrConflict rather than deleting it as a duplicate (two
// runs would each delete the other's new pool). The lock of change
// management keeps runs apart; until one is held, this keeps them from
// churning.
type poolOwnership struct {
	seen map[int]bool   // pools at the run's first observation
	made map[int]bool   // pools this run created, or adopted as its lost creates
	lost map[string]int // pool names whose create failed without an id
}

func (po *poolOwnership) applied(s change.Step, out *change.Outputs, err error) {
	if s.Kind != kindCreatePool && s.Kind != kindReplacePool {
		return
	}
	if v, ok := out.Get(change.Ref{Step: s.ID, Output: "id"}); ok {
		var id int
		if jsonInt(v, &id) == nil {
			po.made[id] = true
			return
		}
	}
	if err != nil {
		var act poolAction
		if s.Decode(&act) == nil {
			po.lost[act.Pool]++
		}
	}
}

func (po *poolOwnership) check(ob *observed, label string) error {
	if ob.cluster == nil {
		return nil
	}
	if po.seen == nil {
		po.seen = map[int]bool{}
		for _, p := range ob.pools {
			po.seen[p.ID] = true
		}
		return nil
	}
	for _, p := range ob.pools {
		name, ours := poolName(p.Tags)
		if !ours || po.seen[p.ID] || po.made[p.ID] {
			continue
		}
		if po.lost[name] > 0 {
			po.lost[name]--
			po.made[p.ID] = true // our create, whose response was lost
			continue
		}
		return fmt.Errorf("node pool %q (id %d) of LKE cluster %q appeared while this run was changing the cluster: another run is changing it: %w",
			name, p.ID, label, change.ErrConflict)
	}
	return nil
}

func allReady(pools []linodego.LKENodePool) bool {
	for _, p := range pools {
		if !poolReady(p) {
			return false
		}
	}
	return true
}

// aclHolds reports whether the ACL lists prefix t.
func aclHolds(acl linodego.LKEClusterControlPlaneACL, t netip.Prefix) bool {
	if acl.Addresses == nil {
		return false
	}
	return slices.Contains(canonicalOrRaw(acl.Addresses.IPv4), t.String()) || slices.Contains(canonicalOrRaw(acl.Addresses.IPv6), t.String())
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
	return r.applier().putACL(ctx, obs.cluster.ID, v4, v6)
}

func (r *run) applier() *applier {
	return &applier{api: r.api, o: r.o, log: r.log, label: r.d.label}
}

// narrowACL removes the temporary address again. It runs when EnsureCluster
// returns, error or not, so it does not stop when ctx ends: it gets a
// minute of its own.
func (r *run) narrowACL(ctx context.Context, clusterID int) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	var acl linodego.LKEClusterControlPlaneACL
	resp, err := r.api.GetLKEClusterControlPlaneACL(ctx, clusterID)
	switch {
	case linodego.ErrHasStatus(err, http.StatusNotFound):
	case err != nil:
		return fmt.Errorf("narrow control plane ACL of LKE cluster %q: %w", r.d.label, err)
	default:
		acl = resp.ACL
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
	if err := r.applier().putACL(ctx, clusterID, v4, v6); err != nil {
		return fmt.Errorf("narrow control plane ACL: %w", err)
	}
	return nil
}

// jsonInt decodes a step output holding an id.
func jsonInt(raw json.RawMessage, v *int) error { return json.Unmarshal(raw, v) }
