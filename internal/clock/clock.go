// Package clock is the one time source shared by the Linode simulator and
// the pollers of this project, so that a simulated cluster that takes four
// model minutes to come up, and the poller waiting for it, agree on time.
package clock

import (
	"context"
	"sync"
	"time"
)

// Clock tells model time and waits in it.
type Clock interface {
	// Now returns the current model time.
	Now() time.Time
	// After returns a channel that receives once d of model time has passed.
	After(d time.Duration) <-chan time.Time
}

// Real is the wall clock.
type Real struct{}

// Now returns time.Now().
func (Real) Now() time.Time { return time.Now() }

// After is time.After.
func (Real) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Scaled is a clock whose model time runs Scale times faster than real time:
// with Scale 1000, 250 s of model time pass in 250 ms. It starts at the real
// time of its creation. Safe for concurrent use.
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
func (c *Scaled) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	real := time.Since(c.start)
	return c.epoch.Add(time.Duration(float64(real) * c.scale))
}

// After waits d of model time (d/Scale of real time).
func (c *Scaled) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	realD := time.Duration(float64(d) / c.scale)
	time.AfterFunc(realD, func() { ch <- c.Now() })
	return ch
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
