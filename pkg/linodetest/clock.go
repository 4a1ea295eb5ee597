package linodetest

import (
	"sort"
	"sync"
	"time"

	"github.com/org/platform/internal/clock"
)

// Clock tells model time and waits in it. It is the project's shared clock
// interface, re-exported so that code outside this module can hand one clock
// to both the simulator and its own pollers.
type Clock = clock.Clock

// NewScaledClock returns a clock whose model time runs scale times faster
// than real time, starting at the current real time. A scale ≤ 0 is 1.
func NewScaledClock(scale float64) Clock { return clock.NewScaled(scale) }

// ManualClock is a clock that moves only when told to: Advance and Set move
// model time forward and release the waiters whose deadline has passed. It
// makes life-cycle tests exact ("at 129 s the kubeconfig is not ready, at
// 251 s it is"). Safe for concurrent use.
type ManualClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []manualWaiter
}

type manualWaiter struct {
	at time.Time
	ch chan time.Time
}

// NewManualClock returns a ManualClock reading start.
func NewManualClock(start time.Time) *ManualClock {
	return &ManualClock{now: start}
}

// Now returns the clock's current model time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// After returns a channel that receives once the clock has been advanced by
// at least d. A d ≤ 0 fires at once.
func (c *ManualClock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, manualWaiter{at: c.now.Add(d), ch: ch})
	return ch
}

// Advance moves the clock forward by d (a negative d is ignored).
func (c *ManualClock) Advance(d time.Duration) {
	if d < 0 {
		return
	}
	c.mu.Lock()
	c.setLocked(c.now.Add(d))
	c.mu.Unlock()
}

// Set moves the clock to t; moving it backwards is ignored.
func (c *ManualClock) Set(t time.Time) {
	c.mu.Lock()
	if t.After(c.now) {
		c.setLocked(t)
	}
	c.mu.Unlock()
}

func (c *ManualClock) setLocked(t time.Time) {
	c.now = t
	sort.Slice(c.waiters, func(i, j int) bool { return c.waiters[i].at.Before(c.waiters[j].at) })
	n := 0
	for _, w := range c.waiters {
		if !w.at.After(t) {
			w.ch <- t
			continue
		}
		c.waiters[n] = w
		n++
	}
	c.waiters = c.waiters[:n]
}

var _ Clock = (*ManualClock)(nil)
