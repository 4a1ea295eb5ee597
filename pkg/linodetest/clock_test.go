package linodetest

import (
	"testing"
	"time"

	k8sclock "k8s.io/utils/clock"
)

// ManualClock can drive code written against k8s.io/utils/clock.
var _ k8sclock.WithTicker = (*ManualClock)(nil)

// TestManualClock checks the guarantees ManualClock adds to the FakeClock
// it wraps: a wait of d ≤ 0 is over at once, waiters are released exactly
// when their deadline is reached, and time never moves backwards.
func TestManualClock(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		run  func(t *testing.T, c *ManualClock)
	}{
		{"After(0) fires at once", func(t *testing.T, c *ManualClock) {
			select {
			case at := <-c.After(0):
				if !at.Equal(t0) {
					t.Errorf("After(0) delivered %s, want the current time", at)
				}
			default:
				t.Error("After(0) did not fire without the clock moving")
			}
		}},
		{"waiter released at its deadline", func(t *testing.T, c *ManualClock) {
			ch := c.After(10 * time.Second)
			c.Advance(9 * time.Second)
			select {
			case <-ch:
				t.Fatal("released 1 s before its deadline")
			default:
			}
			c.Set(t0.Add(10 * time.Second))
			select {
			case at := <-ch:
				if want := t0.Add(10 * time.Second); !at.Equal(want) {
					t.Errorf("released with %s, want %s", at, want)
				}
			default:
				t.Error("not released at its deadline")
			}
		}},
		{"never backwards", func(t *testing.T, c *ManualClock) {
			c.Advance(5 * time.Second)
			c.Advance(-time.Hour)
			c.Set(t0)
			if got := c.Now(); !got.Equal(t0.Add(5 * time.Second)) {
				t.Errorf("Now = %s after a negative Advance and a backward Set, want t0+5s", got)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, NewManualClock(t0))
		})
	}
}
