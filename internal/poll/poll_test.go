package poll

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/linode/linodego"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/org/platform/internal/clock"
)

func fast() Policy {
	return Policy{Interval: time.Second, MaxInterval: 4 * time.Second, Clock: clock.NewScaled(10000)}
}

func TestUntil(t *testing.T) {
	t.Parallel()
	n := 0
	err := Until(t.Context(), fast(), func(context.Context) (bool, error) {
		n++
		return n == 4, nil
	})
	if err != nil || n != 4 {
		t.Fatalf("Until = %v after %d calls, want nil after 4", err, n)
	}
	boom := errors.New("boom")
	if err := Until(t.Context(), fast(), func(context.Context) (bool, error) { return false, boom }); !errors.Is(err, boom) {
		t.Fatalf("Until returned %v, want the condition's error", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if err := Until(ctx, fast(), func(context.Context) (bool, error) { return false, nil }); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Until returned %v, want deadline exceeded", err)
	}
}

func TestTransient(t *testing.T) {
	t.Parallel()
	withAfter := &linodego.Error{Code: 429, Response: &http.Response{Header: http.Header{"Retry-After": {"7"}}}}
	tests := []struct {
		name      string
		err       error
		transient bool
		after     time.Duration
	}{
		{"nil", nil, false, 0},
		{"429 with Retry-After", withAfter, true, 7 * time.Second},
		{"500", &linodego.Error{Code: 500}, true, 0},
		{"502 value", linodego.Error{Code: 502}, true, 0},
		{"503 wrapped", errors.Join(errors.New("get"), &linodego.Error{Code: 503}), true, 0},
		{"dropped connection", &linodego.Error{Code: linodego.ErrorFromError, Message: "EOF"}, true, 0},
		{"400", &linodego.Error{Code: 400}, false, 0},
		{"404", &linodego.Error{Code: 404}, false, 0},
		{"plain", errors.New("x"), false, 0},
		{"ctx", context.Canceled, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tr, after := Transient(tt.err)
			if tr != tt.transient || after != tt.after {
				t.Errorf("Transient(%v) = %v, %v; want %v, %v", tt.err, tr, after, tt.transient, tt.after)
			}
		})
	}
}

func TestUntilAvailable(t *testing.T) {
	t.Parallel()
	n := 0
	err := UntilAvailable(t.Context(), fast(), func(context.Context) error {
		n++
		if n < 3 {
			return &linodego.Error{Code: 503}
		}
		return nil
	})
	if err != nil || n != 3 {
		t.Fatalf("UntilAvailable = %v after %d calls, want nil after 3", err, n)
	}
	n = 0
	err = UntilAvailable(t.Context(), fast(), func(context.Context) error { n++; return &linodego.Error{Code: 400} })
	if n != 1 || !linodego.ErrHasStatus(err, 400) {
		t.Fatalf("UntilAvailable on 400 = %v after %d calls, want the 400 after 1", err, n)
	}
	// Retry-After is waited in model time: 7 s on a manual clock that
	// only the test moves.
	clk := testingclock.NewFakeClock(time.Unix(0, 0))
	p := Policy{Interval: time.Second, Clock: clk}
	withAfter := &linodego.Error{Code: 503, Response: &http.Response{Header: http.Header{"Retry-After": {"7"}}}}
	calls := make(chan struct{}, 2)
	done := make(chan error, 1)
	n = 0
	go func() {
		done <- UntilAvailable(t.Context(), p, func(context.Context) error {
			calls <- struct{}{}
			n++
			if n == 1 {
				return withAfter
			}
			return nil
		})
	}()
	<-calls
	for !clk.HasWaiters() {
		time.Sleep(time.Millisecond)
	}
	clk.Step(6 * time.Second)
	select {
	case <-calls:
		t.Fatal("called again 6 s after a Retry-After of 7 s")
	case <-time.After(20 * time.Millisecond):
	}
	clk.Step(time.Second)
	<-calls
	if err := <-done; err != nil {
		t.Fatalf("UntilAvailable = %v after the Retry-After", err)
	}
}
