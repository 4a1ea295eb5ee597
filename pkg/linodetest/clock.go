package linodetest

import (
	"sync"
	"time"

	testingclock "k8s.io/utils/clock/testing"

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
// 251 s it is"). It is k8s.io/utils/clock/testing's FakeClock, embedded
// (so it is also a k8s.io/utils/clock.WithTicker, and Step, SetTime and
// HasWaiters are at hand), with two guarantees of its own: After(d) with
// d ≤ 0 fires at once, and Advance and Set never move time backwards
// (FakeClock's Step and SetTime would). Safe for concurrent use.
type ManualClock struct {
	*testingclock.FakeClock
	mu sync.Mutex // orders Advance and Set
}

// NewManualClock returns a ManualClock reading start.
func NewManualClock(start time.Time) *ManualClock {
	return &ManualClock{FakeClock: testingclock.NewFakeClock(start)}
}

// After returns a channel that receives once the clock has been advanced by
// at least d. A d ≤ 0 fires at once.
func (c *ManualClock) After(d time.Duration) <-chan time.Time {
	if d <= 0 {
		ch := make(chan time.Time, 1)
		ch <- c.Now()
		return ch
	}
	return c.FakeClock.After(d)
}

// Advance moves the clock forward by d (a negative d is ignored).
func (c *ManualClock) Advance(d time.Duration) {
	if d < 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Step(d)
}

// Set moves the clock to t; moving it backwards is ignored.
func (c *ManualClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.Now()) {
		c.SetTime(t)
	}
}

var _ Clock = (*ManualClock)(nil)
