package rollout

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/org/platform/internal/clock"
	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/spec"
	"github.com/org/platform/pkg/store"
)

// Records is where Apply and Ensure keep their change-management records:
// the per-environment lock, a snapshot of each environment before it is
// changed, and an audit record of every apply. See pkg/store.
type Records struct {
	// Store holds the lock, snapshots and audit records. A store that does
	// not honour conditional creates is refused (the lock fails closed).
	Store store.Store
	// Owner says who applies ("github:alice via run 1234"): it names the
	// lock's holder to a run that finds it taken, and the audit record's
	// actor.
	Owner string
	// LockWait is how long to wait for another run's lock on an
	// environment before failing with a store.HeldError naming it.
	// Default 0: fail at once.
	LockWait time.Duration
	// LockTTL is the lease of a lock, refreshed every third of it while the
	// apply runs. Default 2 minutes.
	LockTTL time.Duration
	// Clock is what the lock's lease, heartbeat and wait run on. Default
	// the wall clock, whatever Deps.Clock is: a lease says whether the
	// holding process is still alive, and a simulator's model clock, many
	// times faster, would expire a live holder's lease whenever the
	// machine is busy for a few milliseconds. Tests of expiry set it to
	// the model clock.
	Clock clock.Clock
}

// WithRecords makes Apply and Ensure take each environment's lock before
// its first write (two applies on one environment never interleave their
// writes), write a snapshot of its observed state before changing it (the
// spec, the base the plan was decided on — Linode resources with their
// ids, the Kubernetes objects we own with their digests — and each
// baseline Helm release as deployed: chart, values without sensitive keys,
// values digest, revision; never a secret value), append an audit record
// when they end ("applied", "failed", or for a plan from PlanRollback
// "rolled back to snapshot <key>"), and release the lock — also when they
// fail.
func WithRecords(r Records) ApplyOption {
	return func(o *applyOptions) { o.records = &r }
}

// recorder wraps one environment's apply in its lock, snapshot and audit.
type recorder struct {
	r      Records
	d      Deps
	digest string
	lock   *store.Lock
	stop   func()
	// rollback is the key of the snapshot a rollback plan restores, if
	// the plan is one (PlanRollback).
	rollback string
	// spec is the spec applied, for the audit record.
	spec spec.Environment
	// clock runs the lock's lease (Records.Clock).
	clock clock.Clock
}

// lastApplied returns the spec of env's last successful apply or
// rollback in the audit log, nil when there is none.
func lastApplied(ctx context.Context, s store.Store, env string) (*spec.Environment, error) {
	rec, found, err := store.LastAudit(ctx, s, func(r store.AuditRecord) bool {
		return r.Spec != nil && r.Spec.Name == env && r.Error == "" &&
			(r.Result == "applied" || strings.HasPrefix(r.Result, "rolled back to snapshot "))
	})
	if err != nil || !found {
		return nil, err
	}
	return rec.Spec, nil
}

// begin takes the lock and writes the snapshot of e.
func (o applyOptions) begin(ctx context.Context, d Deps, e EnvironmentPlan, digest string) (*recorder, error) {
	if o.records == nil {
		return nil, nil
	}
	r := *o.records
	if r.Store == nil || r.Owner == "" {
		return nil, errors.New("records: a store and an owner are required")
	}
	ttl := r.LockTTL
	if ttl <= 0 {
		ttl = 2 * time.Minute
	}
	lockClock := r.Clock
	if lockClock == nil {
		lockClock = clock.Real{}
	}
	lock, err := store.Acquire(ctx, r.Store, e.Name, r.Owner, store.WithClock(lockClock), store.WithTTL(ttl),
		store.WithWait(r.LockWait), store.WithLogger(d.logger(e.Name)))
	if err != nil {
		return nil, fmt.Errorf("take the lock of environment %q: %w", e.Name, err)
	}
	rec := &recorder{r: r, d: d, digest: digest, lock: lock, rollback: rollbackOf(e), spec: e.Spec, clock: lockClock}
	rec.heartbeat(ctx, ttl/3)
	snap, err := snapshotOf(ctx, d, e, digest)
	if err == nil {
		snap.Applied, err = lastApplied(ctx, r.Store, e.Name)
	}
	if err == nil {
		_, err = store.WriteSnapshot(ctx, r.Store, e.Name, snap)
	}
	if err != nil {
		rec.end(ctx, e.Name, change.Result{}, err)
		return nil, fmt.Errorf("snapshot environment %q before changing it: %w", e.Name, err)
	}
	return rec, nil
}

// heartbeat refreshes the lock every interval until end.
func (rec *recorder) heartbeat(ctx context.Context, every time.Duration) {
	done := make(chan struct{})
	var once sync.Once
	rec.stop = func() { once.Do(func() { close(done) }) }
	go func() {
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-rec.clock.After(every):
				if err := rec.lock.Refresh(ctx); err != nil {
					rec.d.Logger.Warn("refresh the environment lock", zap.Error(err))
				}
			}
		}
	}()
}

// end appends the audit record and releases the lock, with a context of
// its own so that a cancelled apply still records and releases.
func (rec *recorder) end(ctx context.Context, env string, done change.Result, applyErr error) error {
	if rec == nil {
		return nil
	}
	rec.stop()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	result := "applied"
	audit := store.AuditRecord{Who: rec.r.Owner, When: rec.d.Clock.Now(), Environments: []string{env},
		PlanDigest: rec.digest, Changes: done.Changes, Spec: &rec.spec}
	if rec.rollback != "" {
		result = "rolled back to snapshot " + rec.rollback
	}
	if applyErr != nil {
		result, audit.Error = "failed", applyErr.Error()
		if rec.rollback != "" {
			result = "rollback to snapshot " + rec.rollback + " failed"
		}
	}
	audit.Result = result
	var errs []error
	if _, err := store.AppendAudit(ctx, rec.r.Store, audit); err != nil {
		errs = append(errs, fmt.Errorf("append the audit record of environment %q: %w", env, err))
	}
	if err := rec.lock.Release(ctx); err != nil {
		errs = append(errs, fmt.Errorf("release the lock of environment %q: %w", env, err))
	}
	return errors.Join(errs...)
}

// objectsOf groups a plan's base ("<object> <field>" → value) into the
// objects a snapshot lists.
func objectsOf(base map[string]string) []store.Object {
	byName := map[string]*store.Object{}
	var names []string
	for key, v := range base {
		name, field, _ := strings.Cut(key, " ")
		o, ok := byName[name]
		if !ok {
			o = &store.Object{Name: name, Fields: map[string]string{}}
			byName[name] = o
			names = append(names, name)
		}
		o.Fields[field] = v
	}
	slices.Sort(names)
	out := make([]store.Object, len(names))
	for i, n := range names {
		out[i] = *byName[n]
	}
	return out
}
