package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
	k8sclock "k8s.io/utils/clock"
)

// Clock is the time source of the lock. Every k8s.io/utils/clock.Clock
// satisfies it (RealClock, the testing FakeClock), as does the project's
// internal/clock.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// LockInfo is the content of a lock: who holds it and until when.
type LockInfo struct {
	// Environment is the environment the lock guards.
	Environment string `json:"environment"`
	// Owner names the holder for people ("ci run 1234 by alice").
	Owner string `json:"owner"`
	// Token identifies this holding; a new one is drawn at every Acquire.
	Token string `json:"token"`
	// AcquiredAt is when the lock was taken.
	AcquiredAt time.Time `json:"acquiredAt"`
	// HeartbeatAt is the last Refresh (AcquiredAt before the first).
	HeartbeatAt time.Time `json:"heartbeatAt"`
	// ExpiresAt is when the lock lapses unless refreshed.
	ExpiresAt time.Time `json:"expiresAt"`
}

// HeldError is an Acquire refused because another owner holds the lock.
type HeldError struct {
	// Environment is the locked environment.
	Environment string
	// Holder is the lock as last read.
	Holder LockInfo
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("lock %s: %v by %q since %s (expires %s)", e.Environment, ErrLocked, e.Holder.Owner,
		e.Holder.AcquiredAt.UTC().Format(time.RFC3339), e.Holder.ExpiresAt.UTC().Format(time.RFC3339))
}

// Unwrap returns ErrLocked.
func (e *HeldError) Unwrap() error { return ErrLocked }

type lockOptions struct {
	ttl, grace, wait, poll time.Duration
	clock                  Clock
	log                    *zap.Logger
}

// LockOption changes how Acquire takes a lock.
type LockOption func(*lockOptions) error

// WithTTL sets how long a lock lasts without a Refresh. Default 2 minutes.
func WithTTL(d time.Duration) LockOption {
	return func(o *lockOptions) error {
		if d <= 0 {
			return fmt.Errorf("lock ttl: must be > 0 (got %s)", d)
		}
		o.ttl = d
		return nil
	}
}

// WithGrace sets the allowance for clock skew between runners plus one
// request's latency: an expired lock is taken over only this long after its
// expiry, and a takeover must finish within it. Default 30 seconds.
func WithGrace(d time.Duration) LockOption {
	return func(o *lockOptions) error {
		if d <= 0 {
			return fmt.Errorf("lock grace: must be > 0 (got %s)", d)
		}
		o.grace = d
		return nil
	}
}

// WithWait makes Acquire wait up to d for a held lock before returning a
// *HeldError. Default 0: fail at once.
func WithWait(d time.Duration) LockOption {
	return func(o *lockOptions) error {
		if d < 0 {
			return fmt.Errorf("lock wait: must be ≥ 0 (got %s)", d)
		}
		o.wait = d
		return nil
	}
}

// WithPollInterval sets how often a waiting Acquire reads the lock again.
// Default 2 seconds.
func WithPollInterval(d time.Duration) LockOption {
	return func(o *lockOptions) error {
		if d <= 0 {
			return fmt.Errorf("lock poll interval: must be > 0 (got %s)", d)
		}
		o.poll = d
		return nil
	}
}

// WithClock sets the clock. Default k8s.io/utils/clock.RealClock.
func WithClock(c Clock) LockOption {
	return func(o *lockOptions) error {
		if c == nil {
			return errors.New("lock clock: nil")
		}
		o.clock = c
		return nil
	}
}

// WithLogger sets the logger. Default zap.NewNop().
func WithLogger(l *zap.Logger) LockOption {
	return func(o *lockOptions) error {
		if l == nil {
			return errors.New("lock logger: nil")
		}
		o.log = l
		return nil
	}
}

// Lock is a held environment lock. Its methods are safe for concurrent use.
type Lock struct {
	store Store
	opts  lockOptions
	mu    sync.Mutex
	info  LockInfo
}

func lockKey(env string) string               { return "locks/" + env }
func stateKey(env, token, leaf string) string { return "lockstate/" + env + "/" + token + "/" + leaf }
func endPrefix(env, token string) string      { return stateKey(env, token, "end-") }

// claim is the content of an end-<n> claim.
type claim struct {
	By string    `json:"by"`
	At time.Time `json:"at"`
}

// Acquire takes the lock of env for owner. It first proves with
// CheckConditionalCreate that s refuses a second create, and fails closed
// with an *UnsafeStoreError otherwise. If another owner holds the lock it
// waits up to WithWait, reading again every WithPollInterval, then returns
// a *HeldError naming the holder. A lock more than WithGrace past its
// expiry is taken over, as the package documentation describes. The caller
// must Refresh the lock well within its TTL (a third of it is customary)
// and Release it when done.
func Acquire(ctx context.Context, s Store, env, owner string, opts ...LockOption) (*Lock, error) {
	o := lockOptions{ttl: 2 * time.Minute, grace: 30 * time.Second, poll: 2 * time.Second, clock: k8sclock.RealClock{}, log: zap.NewNop()}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	if err := validateName("environment", env); err != nil {
		return nil, fmt.Errorf("acquire lock: %w", err)
	}
	if owner == "" {
		return nil, errors.New("acquire lock: owner: required")
	}
	if err := CheckConditionalCreate(ctx, s); err != nil {
		return nil, fmt.Errorf("acquire lock %s: %w", env, err)
	}
	log := o.log.With(zap.String("environment", env), zap.String("owner", owner))
	deadline := o.clock.Now().Add(o.wait)
	for {
		now := o.clock.Now()
		info := LockInfo{Environment: env, Owner: owner, Token: randomToken(), AcquiredAt: now, HeartbeatAt: now, ExpiresAt: now.Add(o.ttl)}
		b, err := json.Marshal(info)
		if err != nil {
			return nil, err
		}
		err = s.Create(ctx, lockKey(env), b)
		if err == nil {
			log.Info("lock acquired", zap.Time("expiresAt", info.ExpiresAt))
			return &Lock{store: s, opts: o, info: info}, nil
		}
		if !errors.Is(err, ErrExists) {
			return nil, fmt.Errorf("acquire lock %s: %w", env, err)
		}
		cur, err := readLock(ctx, s, env)
		if errors.Is(err, ErrNotFound) {
			continue // released between our create and our read
		}
		if err != nil {
			return nil, fmt.Errorf("acquire lock %s: %w", env, err)
		}
		readAt := o.clock.Now()
		if readAt.After(cur.ExpiresAt.Add(o.grace)) {
			ended, err := endLock(ctx, s, cur, owner, readAt, o)
			if err != nil {
				return nil, fmt.Errorf("acquire lock %s: take over from %q: %w", env, cur.Owner, err)
			}
			if ended {
				log.Warn("took over an expired lock", zap.String("previousOwner", cur.Owner), zap.Time("expiredAt", cur.ExpiresAt))
				continue
			}
		}
		now = o.clock.Now()
		if !now.Before(deadline) {
			return nil, &HeldError{Environment: env, Holder: cur}
		}
		wait := min(o.poll, deadline.Sub(now))
		if t := cur.ExpiresAt.Add(o.grace).Sub(now); t > 0 && t < wait {
			wait = t + time.Nanosecond
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("acquire lock %s held by %q: %w", env, cur.Owner, ctx.Err())
		case <-o.clock.After(wait):
		}
	}
}

// readLock reads the lock of env with its latest heartbeat.
func readLock(ctx context.Context, s Store, env string) (LockInfo, error) {
	b, err := s.Get(ctx, lockKey(env))
	if err != nil {
		return LockInfo{}, err
	}
	var info LockInfo
	if err := json.Unmarshal(b, &info); err != nil || info.Token == "" {
		return LockInfo{}, fmt.Errorf("%w: %s: not a lock", ErrCorrupt, lockKey(env))
	}
	hb, err := s.Get(ctx, stateKey(env, info.Token, "heartbeat"))
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return LockInfo{}, err
	default:
		var h LockInfo
		if json.Unmarshal(hb, &h) == nil && h.Token == info.Token && h.ExpiresAt.After(info.ExpiresAt) {
			info.HeartbeatAt, info.ExpiresAt = h.HeartbeatAt, h.ExpiresAt
		}
	}
	return info, nil
}

// endLock deletes the lock instance cur (token cur.Token) if it wins the
// claim to end it, as the package documentation describes. readAt is when
// cur was read. It reports false, nil when another claim is in force.
func endLock(ctx context.Context, s Store, cur LockInfo, by string, readAt time.Time, o lockOptions) (bool, error) {
	keys, err := s.List(ctx, endPrefix(cur.Environment, cur.Token))
	if err != nil {
		return false, err
	}
	n := 0
	for _, k := range keys {
		if i, err := strconv.Atoi(strings.TrimPrefix(k, endPrefix(cur.Environment, cur.Token))); err == nil && i > n {
			n = i
		}
	}
	if n > 0 {
		// A claim exists: in force for twice the grace, then superseded.
		b, err := s.Get(ctx, endPrefix(cur.Environment, cur.Token)+strconv.Itoa(n))
		if err != nil && !errors.Is(err, ErrNotFound) {
			return false, err
		}
		var c claim
		if err == nil && json.Unmarshal(b, &c) == nil && !o.clock.Now().After(c.At.Add(2*o.grace)) {
			return false, nil
		}
	}
	at := o.clock.Now()
	b, err := json.Marshal(claim{By: by, At: at})
	if err != nil {
		return false, err
	}
	if err := s.Create(ctx, endPrefix(cur.Environment, cur.Token)+strconv.Itoa(n+1), b); err != nil {
		if errors.Is(err, ErrExists) {
			return false, nil
		}
		return false, err
	}
	// We own the claim: nobody else deletes instance cur now. Give up if we
	// were too slow for the lease arithmetic to hold.
	if o.clock.Now().After(readAt.Add(o.grace)) {
		return false, fmt.Errorf("%w: more than %s passed between reading the lock and claiming it; not deleting", ErrLockLost, o.grace)
	}
	if err := s.Delete(ctx, lockKey(cur.Environment)); err != nil {
		return false, err
	}
	_ = s.Delete(ctx, stateKey(cur.Environment, cur.Token, "heartbeat"))
	return true, nil
}

// Info returns the lock as last written by Acquire or Refresh.
func (l *Lock) Info() LockInfo {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.info
}

// Refresh extends the lock by its TTL from now. It returns an error
// wrapping ErrLockLost, and writes nothing, if the lock expired on our clock,
// was taken over, or is being taken over.
func (l *Lock) Refresh(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	env, tok := l.info.Environment, l.info.Token
	if err := l.stillOurs(ctx); err != nil {
		return fmt.Errorf("refresh lock %s: %w", env, err)
	}
	now := l.opts.clock.Now()
	if !now.Before(l.info.ExpiresAt) {
		return fmt.Errorf("refresh lock %s: %w: it expired at %s", env, ErrLockLost, l.info.ExpiresAt.UTC().Format(time.RFC3339))
	}
	next := l.info
	next.HeartbeatAt, next.ExpiresAt = now, now.Add(l.opts.ttl)
	b, err := json.Marshal(next)
	if err != nil {
		return err
	}
	// Only the holder of token tok writes this key, so a plain put is safe.
	if err := l.store.Put(ctx, stateKey(env, tok, "heartbeat"), b); err != nil {
		return fmt.Errorf("refresh lock %s: %w", env, err)
	}
	l.info = next
	return nil
}

// stillOurs checks that the lock object holds our token and that nobody
// claimed to end it.
func (l *Lock) stillOurs(ctx context.Context) error {
	env, tok := l.info.Environment, l.info.Token
	cur, err := readLock(ctx, l.store, env)
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("%w: the lock is gone", ErrLockLost)
	}
	if err != nil {
		return err
	}
	if cur.Token != tok {
		return fmt.Errorf("%w: now held by %q", ErrLockLost, cur.Owner)
	}
	claims, err := l.store.List(ctx, endPrefix(env, tok))
	if err != nil {
		return err
	}
	if len(claims) > 0 {
		return fmt.Errorf("%w: being taken over", ErrLockLost)
	}
	return nil
}

// Release removes the lock if it is still ours. If it was taken over, or is
// being taken over, it deletes nothing and returns an error wrapping
// ErrLockLost.
func (l *Lock) Release(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	env := l.info.Environment
	if err := l.stillOurs(ctx); err != nil {
		return fmt.Errorf("release lock %s: %w", env, err)
	}
	ended, err := endLock(ctx, l.store, l.info, l.info.Owner, l.opts.clock.Now(), l.opts)
	if err != nil {
		return fmt.Errorf("release lock %s: %w", env, err)
	}
	if !ended {
		return fmt.Errorf("release lock %s: %w: being taken over", env, ErrLockLost)
	}
	l.opts.log.Info("lock released", zap.String("environment", env), zap.String("owner", l.info.Owner))
	return nil
}
