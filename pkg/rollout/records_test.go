package rollout_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/org/platform/pkg/linodetest"
	"github.com/org/platform/pkg/rollout"
	"github.com/org/platform/pkg/spec"
	"github.com/org/platform/pkg/store"
)

func localStore(t *testing.T) store.Store {
	t.Helper()
	s, err := store.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestApplyKeepsRecords: an apply with records snapshots the environment
// before changing it, appends an audit record naming who applied which
// digest with which changes, and releases its lock.
func TestApplyKeepsRecords(t *testing.T) {
	t.Parallel()
	_, _, deps := sim(t)
	st := localStore(t)
	envs := []spec.Environment{*find(t, standard(t), spec.Staging)}
	plan, err := rollout.Plan(t.Context(), deps, envs...)
	if err != nil {
		t.Fatal(err)
	}
	rec := rollout.Records{Store: st, Owner: "test:alice"}
	if _, err := rollout.Apply(t.Context(), deps, plan, rollout.WithRecords(rec)); err != nil {
		t.Fatal(err)
	}
	snaps, err := store.ListSnapshots(t.Context(), st, spec.Staging)
	if err != nil || len(snaps) != 1 {
		t.Fatalf("snapshots %v, %v; want one", snaps, err)
	}
	snap, err := store.ReadSnapshot(t.Context(), st, snaps[0])
	if err != nil || snap.PlanDigest != plan.Digest || snap.Spec.Name != spec.Staging || len(snap.Base) == 0 || len(snap.Objects) == 0 {
		t.Errorf("snapshot %+v, %v", snap, err)
	}
	audit, err := store.ListAudit(t.Context(), st)
	if err != nil || len(audit) != 1 {
		t.Fatalf("audit %v, %v; want one record", audit, err)
	}
	if a := audit[0]; a.Who != "test:alice" || a.PlanDigest != plan.Digest || a.Result != "applied" || len(a.Changes) == 0 {
		t.Errorf("audit record %+v", a)
	}
	// The lock was released: another run takes it at once.
	l, err := store.Acquire(t.Context(), st, spec.Staging, "test:bob", store.WithClock(deps.Clock))
	if err != nil {
		t.Fatalf("the lock was not released: %v", err)
	}
	_ = l.Release(t.Context())
}

// TestTwoAppliesOnOneEnvironment: a second apply while the first holds the
// environment's lock fails naming the holder, and sends no write.
func TestTwoAppliesOnOneEnvironment(t *testing.T) {
	t.Parallel()
	blocked, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	hook := func(r linodetest.HookRequest) linodetest.HookAction {
		if r.Method == "POST" && r.Route == "/lke/clusters" {
			once.Do(func() { close(blocked) })
			<-release // the first apply is in the middle of its writes
		}
		return linodetest.HookAction{}
	}
	srv, _, deps := sim(t, linodetest.WithRequestHook(hook))
	st := localStore(t)
	envs := []spec.Environment{*find(t, standard(t), spec.Staging)}
	plan, err := rollout.Plan(t.Context(), deps, envs...)
	if err != nil {
		t.Fatal(err)
	}
	first := make(chan error, 1)
	go func() {
		_, err := rollout.Apply(t.Context(), deps, plan, rollout.WithRecords(rollout.Records{Store: st, Owner: "run-1"}))
		first <- err
	}()
	<-blocked
	before := len(writesOf(srv, 0))
	_, err = rollout.Apply(t.Context(), deps, plan, rollout.WithRecords(rollout.Records{Store: st, Owner: "run-2"}))
	var held *store.HeldError
	if !errors.As(err, &held) || !strings.Contains(err.Error(), "run-1") {
		t.Errorf("second apply: %v; want a HeldError naming run-1", err)
	}
	if n := len(writesOf(srv, 0)); n != before {
		t.Errorf("the second apply sent %d writes while the first held the lock", n-before)
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatalf("first apply: %v", err)
	}
}

// TestCrashedHoldersLockExpires: a lock left by a holder that died is
// taken over once expired, and the next apply proceeds.
func TestCrashedHoldersLockExpires(t *testing.T) {
	t.Parallel()
	_, _, deps := sim(t)
	st := localStore(t)
	if _, err := store.Acquire(t.Context(), st, spec.Staging, "crashed-run", store.WithClock(deps.Clock), store.WithTTL(time.Minute)); err != nil {
		t.Fatal(err)
	}
	envs := []spec.Environment{*find(t, standard(t), spec.Staging)}
	plan, err := rollout.Plan(t.Context(), deps, envs...)
	if err != nil {
		t.Fatal(err)
	}
	// The lease runs on the model clock here, so that a minute of it
	// passes in a fraction of a second.
	rec := rollout.Records{Store: st, Owner: "run-2", LockWait: 10 * time.Minute, Clock: deps.Clock}
	if _, err := rollout.Apply(t.Context(), deps, plan, rollout.WithRecords(rec)); err != nil {
		t.Fatalf("apply after the holder crashed: %v", err)
	}
	audit, err := store.ListAudit(t.Context(), st)
	if err != nil || len(audit) != 1 || audit[0].Who != "run-2" {
		t.Errorf("audit %+v, %v", audit, err)
	}
}
