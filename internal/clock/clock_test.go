package clock

import (
	"context"
	"errors"
	"testing"
	"time"
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
