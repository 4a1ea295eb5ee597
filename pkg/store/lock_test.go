package store

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
)

func TestAcquireTwoAtOnceOneHoldsTheOtherFailsNamingTheHolder(t *testing.T) {
	t.Parallel()
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			s := st.new(t)
			var wg sync.WaitGroup
			locks := make([]*Lock, 2)
			errs := make([]error, 2)
			owners := []string{"run-a", "run-b"}
			for i := range owners {
				wg.Go(func() { locks[i], errs[i] = Acquire(t.Context(), s, "production", owners[i]) })
			}
			wg.Wait()
			held := 0
			for i := range owners {
				if errs[i] == nil {
					held++
				}
			}
			if held != 1 {
				t.Fatalf("both or neither acquired: %v", errs)
			}
			winner, loser := 0, 1
			if errs[0] != nil {
				winner, loser = 1, 0
			}
			var he *HeldError
			if !errors.As(errs[loser], &he) || !errors.Is(errs[loser], ErrLocked) {
				t.Fatalf("loser: %v, want *HeldError", errs[loser])
			}
			if he.Holder.Owner != owners[winner] || !strings.Contains(errs[loser].Error(), owners[winner]) {
				t.Errorf("the error names %q (%v), want the holder %q", he.Holder.Owner, errs[loser], owners[winner])
			}
			// Another environment is not locked by it.
			other, err := Acquire(t.Context(), s, "staging", owners[loser])
			if err != nil {
				t.Fatalf("staging: %v", err)
			}
			for _, l := range []*Lock{locks[winner], other} {
				if err := l.Release(t.Context()); err != nil {
					t.Errorf("release: %v", err)
				}
			}
			if _, err := s.Get(t.Context(), lockKey("production")); !errors.Is(err, ErrNotFound) {
				t.Errorf("lock object after release: %v, want gone", err)
			}
		})
	}
}

func TestAcquireWaitsForARelease(t *testing.T) {
	t.Parallel()
	s := localStore(t)
	a, err := Acquire(t.Context(), s, "production", "run-a")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	var b *Lock
	go func() {
		var err error
		b, err = Acquire(t.Context(), s, "production", "run-b", WithWait(10*time.Second), WithPollInterval(5*time.Millisecond))
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("the second Acquire returned %v while the lock was held", err)
	case <-time.After(50 * time.Millisecond):
	}
	if err := a.Release(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("waiting Acquire: %v", err)
	}
	if b.Info().Owner != "run-b" {
		t.Errorf("holder %q, want run-b", b.Info().Owner)
	}
}

func TestAcquireWaitIsBounded(t *testing.T) {
	t.Parallel()
	s := localStore(t)
	if _, err := Acquire(t.Context(), s, "production", "run-a"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := Acquire(t.Context(), s, "production", "run-b", WithWait(60*time.Millisecond), WithPollInterval(10*time.Millisecond))
	var he *HeldError
	if !errors.As(err, &he) || he.Holder.Owner != "run-a" {
		t.Fatalf("got %v, want *HeldError naming run-a", err)
	}
	if d := time.Since(start); d < 60*time.Millisecond || d > 5*time.Second {
		t.Errorf("waited %s, want about 60ms", d)
	}
}

func TestExpiredLockIsTakenOverAndTheOldHolderCannotReleaseIt(t *testing.T) {
	t.Parallel()
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			s := st.new(t)
			ctx := t.Context()
			clk := clocktesting.NewFakeClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
			opts := []LockOption{WithClock(clk), WithTTL(time.Minute), WithGrace(10 * time.Second)}
			a, err := Acquire(ctx, s, "production", "run-a", opts...)
			if err != nil {
				t.Fatal(err)
			}
			// Refresh extends the lock: still held after the first TTL.
			clk.Step(50 * time.Second)
			if err := a.Refresh(ctx); err != nil {
				t.Fatalf("refresh: %v", err)
			}
			clk.Step(50 * time.Second) // 100 s after acquiring, 50 s after the heartbeat
			if _, err := Acquire(ctx, s, "production", "run-b", opts...); !errors.Is(err, ErrLocked) {
				t.Fatalf("after a refresh: %v, want ErrLocked", err)
			}
			// run-a crashes: no refresh. Within the grace it is still held.
			clk.Step(15 * time.Second) // 5 s past expiry (110 s)
			if _, err := Acquire(ctx, s, "production", "run-b", opts...); !errors.Is(err, ErrLocked) {
				t.Fatalf("within the grace: %v, want ErrLocked", err)
			}
			clk.Step(10 * time.Second)
			b, err := Acquire(ctx, s, "production", "run-b", opts...)
			if err != nil {
				t.Fatalf("take over an expired lock: %v", err)
			}
			// The old holder comes back: its refresh and release are refused
			// and the new holder's lock survives.
			if err := a.Refresh(ctx); !errors.Is(err, ErrLockLost) {
				t.Errorf("old holder's refresh: %v, want ErrLockLost", err)
			}
			if err := a.Release(ctx); !errors.Is(err, ErrLockLost) {
				t.Errorf("old holder's release: %v, want ErrLockLost", err)
			}
			cur, err := readLock(ctx, s, "production")
			if err != nil || cur.Token != b.Info().Token || cur.Owner != "run-b" {
				t.Fatalf("lock after the old holder's release: %+v, %v; want run-b's", cur, err)
			}
			if err := b.Refresh(ctx); err != nil {
				t.Errorf("new holder's refresh: %v", err)
			}
			if err := b.Release(ctx); err != nil {
				t.Errorf("new holder's release: %v", err)
			}
		})
	}
}

func TestConcurrentTakeoversOneWins(t *testing.T) {
	t.Parallel()
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			s := st.new(t)
			clk := clocktesting.NewFakeClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
			opts := []LockOption{WithClock(clk), WithTTL(time.Minute), WithGrace(10 * time.Second)}
			if _, err := Acquire(t.Context(), s, "production", "crashed", opts...); err != nil {
				t.Fatal(err)
			}
			clk.Step(2 * time.Minute)
			var wg sync.WaitGroup
			errs := make([]error, 6)
			for i := range errs {
				wg.Go(func() { _, errs[i] = Acquire(t.Context(), s, "production", "taker", opts...) })
			}
			wg.Wait()
			won := 0
			for _, err := range errs {
				switch {
				case err == nil:
					won++
				case !errors.Is(err, ErrLocked):
					t.Errorf("taker: %v", err)
				}
			}
			if won != 1 {
				t.Errorf("%d takers hold the lock, want exactly 1", won)
			}
		})
	}
}

// A holder releasing while a taker has claimed its lock but not yet deleted
// it must not delete anything; a claim whose claimer crashed is superseded
// after twice the grace.
func TestReleaseLosesToAClaimInFlightAndACrashedClaimIsSuperseded(t *testing.T) {
	t.Parallel()
	s := localStore(t)
	ctx := t.Context()
	clk := clocktesting.NewFakeClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	opts := []LockOption{WithClock(clk), WithTTL(time.Minute), WithGrace(10 * time.Second)}
	a, err := Acquire(ctx, s, "production", "run-a", opts...)
	if err != nil {
		t.Fatal(err)
	}
	// A taker won the claim on a's lock and stopped before deleting it.
	if err := s.Create(ctx, endPrefix("production", a.Info().Token)+"1", []byte(`{"by":"stuck","at":"2030-01-01T00:01:15Z"}`)); err != nil {
		t.Fatal(err)
	}
	if err := a.Release(ctx); !errors.Is(err, ErrLockLost) {
		t.Fatalf("release during a takeover: %v, want ErrLockLost", err)
	}
	if _, err := s.Get(ctx, lockKey("production")); err != nil {
		t.Fatalf("the lock object was deleted by a holder that lost the claim: %v", err)
	}
	clk.Step(80 * time.Second) // 20 s past expiry, 5 s after the claim
	if _, err := Acquire(ctx, s, "production", "run-c", opts...); !errors.Is(err, ErrLocked) {
		t.Fatalf("while the claim is in force: %v, want ErrLocked", err)
	}
	clk.Step(20 * time.Second) // the claim is 25 s old: > 2 × grace
	c, err := Acquire(ctx, s, "production", "run-c", opts...)
	if err != nil {
		t.Fatalf("after the claim lapsed: %v", err)
	}
	if c.Info().Owner != "run-c" {
		t.Errorf("holder %q", c.Info().Owner)
	}
}

// A takeover that loses the race to delete-then-create to a third party
// waits like anyone else and never deletes the third party's lock.
func TestTakeoverDoesNotDeleteALockCreatedInItsWindow(t *testing.T) {
	t.Parallel()
	base := localStore(t)
	ctx := t.Context()
	clk := clocktesting.NewFakeClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	opts := []LockOption{WithClock(clk), WithTTL(time.Minute), WithGrace(10 * time.Second)}
	if _, err := Acquire(ctx, base, "production", "crashed", opts...); err != nil {
		t.Fatal(err)
	}
	clk.Step(2 * time.Minute)
	var third *Lock
	var once sync.Once
	// Right after the taker's claim deletes the old lock and before its own
	// create, a third party creates the lock.
	s := hooked{Store: base, before: func(key string) {
		if key != lockKey("production") {
			return
		}
		if _, err := base.Get(ctx, key); errors.Is(err, ErrNotFound) {
			once.Do(func() {
				var err error
				if third, err = Acquire(ctx, base, "production", "third", opts...); err != nil {
					t.Errorf("third party: %v", err)
				}
			})
		}
	}}
	_, err := Acquire(ctx, s, "production", "taker", opts...)
	var he *HeldError
	if !errors.As(err, &he) || he.Holder.Owner != "third" {
		t.Fatalf("taker: %v, want *HeldError naming third", err)
	}
	if err := third.Refresh(ctx); err != nil {
		t.Errorf("third party's lock after the takeover attempt: %v", err)
	}
}

func TestAcquireFailsClosedOnAStoreIgnoringConditionalCreate(t *testing.T) {
	t.Parallel()
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			base := st.new(t)
			_, err := Acquire(t.Context(), overwriting{base}, "production", "run-a")
			var ue *UnsafeStoreError
			if !errors.As(err, &ue) || !errors.Is(err, ErrUnsafeStore) {
				t.Fatalf("got %v, want *UnsafeStoreError", err)
			}
			if !strings.Contains(err.Error(), "second create") {
				t.Errorf("the error does not say why: %v", err)
			}
			if _, err := base.Get(t.Context(), lockKey("production")); !errors.Is(err, ErrNotFound) {
				t.Errorf("a lock object was written: %v", err)
			}
		})
	}
}

func TestLockOptionsRejectBadValues(t *testing.T) {
	t.Parallel()
	s := localStore(t)
	for name, opt := range map[string]LockOption{
		"ttl": WithTTL(0), "grace": WithGrace(-1), "wait": WithWait(-1), "poll": WithPollInterval(0), "clock": WithClock(nil),
	} {
		if _, err := Acquire(t.Context(), s, "production", "x", opt); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: %v, want an error naming it", name, err)
		}
	}
	if _, err := Acquire(t.Context(), s, "a/b", "x"); err == nil {
		t.Error("an environment name with a slash was accepted")
	}
	if _, err := Acquire(t.Context(), s, "production", ""); err == nil {
		t.Error("an empty owner was accepted")
	}
}
