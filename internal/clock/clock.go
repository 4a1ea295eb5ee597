// Package clock is the one time source shared by the Linode simulator and
// the pollers of this project, so that a simulated cluster that takes four
// model minutes to come up, and the poller waiting for it, agree on time.
//
// What comes from k8s.io/utils/clock, and what is ours, and why:
//
//   - Clock is the consumers' interface: Now and After are all the pollers,
//     the reconcile loop and the simulator use. Every k8s.io/utils/clock
//     Clock satisfies it — RealClock, the testing FakeClock (which
//     pkg/linodetest's ManualClock wraps) and Scaled — so any of them can
//     be handed to this project. It is not k8s.io/utils' wider Clock
//     (NewTimer, Tick, Sleep, Since) because nothing here needs those, and
//     asking for them would make every caller's own clock implement them.
//   - Real is k8s.io/utils' RealClock.
//   - Scaled stays ours: the simulator needs model time that runs N times
//     faster than real time by itself (at ×10 000 an LKE cluster that is
//     ready after 250 model seconds is ready after 25 ms), and k8s.io/utils
//     has no such clock. Its FakeClock moves only when stepped: driving one
//     from a goroutine on a real ticker would quantize model time to the
//     tick (a 1 ms tick at ×10 000 is a 10 s jump, longer than the
//     simulator's 5 s polls) and cost a goroutine waking 1000 times a
//     second per simulator, where Scaled computes Now from the real clock
//     and waits with one runtime timer. Scaled implements k8s.io/utils'
//     WithTicker, so it can also drive code written against that package.
//   - Sleep waits on any Clock but also ends with ctx, which the
//     k8s.io/utils Clock's Sleep does not.
package clock

import (
	"context"
	"sync"
	"time"

	k8sclock "k8s.io/utils/clock"
)

// Clock tells model time and waits in it. Every k8s.io/utils/clock.Clock
// satisfies it.
type Clock interface {
	// Now returns the current model time.
	Now() time.Time
	// After returns a channel that receives once d of model time has passed.
	After(d time.Duration) <-chan time.Time
}

// Real is the wall clock: k8s.io/utils/clock's RealClock.
type Real = k8sclock.RealClock

var (
	_ Clock               = Real{}
	_ Clock               = (*Scaled)(nil)
	_ k8sclock.WithTicker = (*Scaled)(nil)
)

// Scaled is a clock whose model time runs Scale times faster than real time:
// with Scale 1000, 250 s of model time pass in 250 ms. It starts at the real
// time of its creation. It implements k8s.io/utils/clock.WithTicker; its
// timers and tickers deliver model time. Safe for concurrent use.
type Scaled struct {
	mu    sync.Mutex
	start time.Time // real time at creation
	epoch time.Time // model time at creation
	scale float64
}

// NewScaled returns a clock that runs scale times faster than real time.
// A scale ≤ 0 is treated as 1.
func NewScaled(scale float64) *Scaled {
	if scale <= 0 {
		scale = 1
	}
	now := time.Now()
	return &Scaled{start: now, epoch: now, scale: scale}
}

// Scale returns the clock's speed-up factor.
func (c *Scaled) Scale() float64 { return c.scale }

// Now returns model time.
func (c *Scaled) Now() time.Time { return c.at(time.Now()) }

// at returns the model time at real time t.
func (c *Scaled) at(t time.Time) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	real := t.Sub(c.start)
	return c.epoch.Add(time.Duration(float64(real) * c.scale))
}

// Since returns the model time elapsed since t.
func (c *Scaled) Since(t time.Time) time.Duration { return c.Now().Sub(t) }

// real converts a model duration to the real one.
func (c *Scaled) real(d time.Duration) time.Duration { return time.Duration(float64(d) / c.scale) }

// After waits d of model time (d/Scale of real time).
func (c *Scaled) After(d time.Duration) <-chan time.Time { return c.NewTimer(d).C() }

// NewTimer returns a timer that fires once d of model time has passed,
// delivering the model time.
func (c *Scaled) NewTimer(d time.Duration) k8sclock.Timer {
	t := &scaledTimer{c: c, ch: make(chan time.Time, 1)}
	t.t = time.AfterFunc(c.real(d), t.fire)
	return t
}

// Sleep blocks for d of model time. Prefer the package's Sleep, which also
// ends with a context.
func (c *Scaled) Sleep(d time.Duration) { time.Sleep(c.real(d)) }

// Tick is NewTicker's channel, for a ticker that is never stopped; nil for
// a d ≤ 0, as time.Tick.
func (c *Scaled) Tick(d time.Duration) <-chan time.Time {
	if d <= 0 {
		return nil
	}
	return c.NewTicker(d).C()
}

// NewTicker returns a ticker that ticks every d of model time, delivering
// the model time, and drops ticks a slow reader misses (as time.Ticker).
// It panics on a d ≤ 0, as time.NewTicker.
func (c *Scaled) NewTicker(d time.Duration) k8sclock.Ticker {
	if d <= 0 {
		panic("clock: non-positive interval for Scaled.NewTicker")
	}
	t := &scaledTicker{t: time.NewTicker(max(c.real(d), 1)), ch: make(chan time.Time, 1), done: make(chan struct{})}
	go func() {
		for {
			select {
			case tick := <-t.t.C:
				// Stamp the tick with when it fired, not when this
				// goroutine got to it: under load the two differ by
				// milliseconds, which are seconds of model time.
				select {
				case t.ch <- c.at(tick):
				default:
				}
			case <-t.done:
				return
			}
		}
	}()
	return t
}

type scaledTimer struct {
	c  *Scaled
	ch chan time.Time
	t  *time.Timer
}

func (t *scaledTimer) fire() {
	select {
	case t.ch <- t.c.Now():
	default:
	}
}

func (t *scaledTimer) C() <-chan time.Time        { return t.ch }
func (t *scaledTimer) Stop() bool                 { return t.t.Stop() }
func (t *scaledTimer) Reset(d time.Duration) bool { return t.t.Reset(t.c.real(d)) }

type scaledTicker struct {
	t    *time.Ticker
	ch   chan time.Time
	done chan struct{}
	once sync.Once
}

func (t *scaledTicker) C() <-chan time.Time { return t.ch }

func (t *scaledTicker) Stop() {
	t.t.Stop()
	t.once.Do(func() { close(t.done) })
}

// Sleep waits d of model time on c, or until ctx ends, whichever is first.
func Sleep(ctx context.Context, c Clock, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-c.After(d):
		return nil
	}
}
