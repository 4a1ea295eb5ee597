package clock

import (
	"context"
	"errors"
	"testing"
	"time"

	k8sclock "k8s.io/utils/clock"
	testingclock "k8s.io/utils/clock/testing"
)

func TestScaled(t *testing.T) {
	t.Parallel()
	c := NewScaled(1000)
	start, realStart := c.Now(), time.Now()
	// 5 s of model time pass in about 5 ms of real time.
	if err := Sleep(t.Context(), c, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	model, real := c.Now().Sub(start), time.Since(realStart)
	if model < 5*time.Second {
		t.Errorf("slept %s of model time, want ≥ 5s", model)
	}
	if real > 2*time.Second {
		t.Errorf("5 s of model time took %s of real time at ×1000", real)
	}
	// Model time is real time × scale, within scheduling noise.
	if ratio := float64(model) / float64(real); ratio < 500 || ratio > 1001 {
		t.Errorf("model/real = %.0f, want ≈ 1000", ratio)
	}
	if NewScaled(0).Scale() != 1 || NewScaled(-3).Scale() != 1 {
		t.Error("a scale ≤ 0 is not treated as 1")
	}
}

func TestSleep(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := Sleep(ctx, Real{}, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep on a cancelled context = %v", err)
	}
	if err := Sleep(t.Context(), Real{}, 0); err != nil {
		t.Errorf("Sleep(0) = %v", err)
	}
}

// Every k8s.io/utils clock can be handed to this project.
var (
	_ Clock = k8sclock.RealClock{}
	_ Clock = (*testingclock.FakeClock)(nil)
)

// TestScaledTimers checks the k8s.io/utils/clock.WithTicker side of Scaled:
// timers and tickers wait model time (1/1000 of it in real time at ×1000)
// and deliver model time; a stopped timer never fires, a reset one fires
// after the new duration.
func TestScaledTimers(t *testing.T) {
	t.Parallel()
	c := NewScaled(1000)
	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"timer fires after d of model time", func(t *testing.T) {
			start := c.Now()
			at := <-c.NewTimer(3 * time.Second).C()
			if got := at.Sub(start); got < 3*time.Second {
				t.Errorf("timer fired %s of model time after it was set, want ≥ 3s", got)
			}
			if c.Since(start) < 3*time.Second {
				t.Errorf("Since = %s after the timer fired, want ≥ 3s", c.Since(start))
			}
		}},
		{"stopped timer never fires", func(t *testing.T) {
			tm := c.NewTimer(2 * time.Second)
			if !tm.Stop() {
				t.Fatal("Stop of a pending timer = false")
			}
			select {
			case <-tm.C():
				t.Error("a stopped timer fired")
			case <-time.After(20 * time.Millisecond): // 20 s of model time
			}
		}},
		{"reset timer fires after the new duration", func(t *testing.T) {
			tm := c.NewTimer(time.Hour)
			start := c.Now()
			tm.Reset(2 * time.Second)
			select {
			case at := <-tm.C():
				if got := at.Sub(start); got < 2*time.Second || got > 30*time.Minute {
					t.Errorf("reset timer fired after %s of model time, want ≈ 2s", got)
				}
			case <-time.After(2 * time.Second): // an hour of model time is 3.6 s
				t.Error("reset timer did not fire within 2000 s of model time")
			}
		}},
		{"ticker ticks every d of model time", func(t *testing.T) {
			tk := c.NewTicker(5 * time.Second)
			defer tk.Stop()
			first := <-tk.C()
			second := <-tk.C()
			if gap := second.Sub(first); gap < 4*time.Second {
				t.Errorf("ticks %s of model time apart, want ≈ 5s", gap)
			}
		}},
		{"Sleep waits model time", func(t *testing.T) {
			start := c.Now()
			c.Sleep(4 * time.Second)
			if got := c.Since(start); got < 4*time.Second {
				t.Errorf("Sleep(4s) returned after %s of model time", got)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t)
		})
	}
}
