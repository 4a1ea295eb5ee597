package reconcile_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/org/platform/internal/clock"
	"github.com/org/platform/internal/reconcile"
	"github.com/org/platform/pkg/change"
)

var errTransient = errors.New("502 bad gateway")

// world is a fake concern: objects exist or not; the plan creates the
// missing ones. fail decides what happens to the n-th write.
type world struct {
	want   []string
	have   map[string]bool
	writes int
	fail   func(n int, obj string) (err error, committed bool)
}

func (w *world) plan(context.Context) (change.Plan, error) {
	var p change.Plan
	for _, o := range w.want {
		p.Observe(o, boolString(w.have[o]))
		if !w.have[o] {
			p.Add(change.Step{ID: o, Kind: "create", Op: change.Create, Object: o, Creates: true,
				Changes: []change.Change{{Object: o, Op: change.Create}}})
		}
	}
	return p, nil
}

func (w *world) step(_ context.Context, s change.Step, out *change.Outputs) error {
	w.writes++
	if w.fail != nil {
		if err, committed := w.fail(w.writes, s.Object); err != nil {
			if committed {
				w.have[s.Object] = true
			}
			return err
		}
	}
	w.have[s.Object] = true
	return out.Set(s.ID, "id", w.writes)
}

func boolString(b bool) string {
	if b {
		return "present"
	}
	return "absent"
}

func opts(t *testing.T) reconcile.Options {
	return reconcile.Options{
		Clock: clock.NewScaled(1e6), Log: zaptest.NewLogger(t), Pause: time.Second, MaxRounds: 5,
		Transient: func(err error) (bool, time.Duration) { return errors.Is(err, errTransient), 0 },
	}
}

func objects(r change.Result) []string {
	var out []string
	for _, c := range r.Changes {
		out = append(out, c.Object)
	}
	slices.Sort(out)
	return out
}

func TestConvergeReportsOnlyWhatTookEffect(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		fail      func(n int, obj string) (error, bool)
		wantErr   bool
		wantMade  []string
		wantWrite int
	}{
		{name: "no faults", wantMade: []string{"a", "b", "c"}, wantWrite: 3},
		{name: "lost response: made, reported once, not sent twice",
			fail: func(n int, obj string) (error, bool) {
				if n == 2 {
					return errTransient, true
				}
				return nil, false
			},
			wantMade: []string{"a", "b", "c"}, wantWrite: 3},
		{name: "transient failure before commit: sent again",
			fail: func(n int, obj string) (error, bool) {
				if n == 2 {
					return errTransient, false
				}
				return nil, false
			},
			wantMade: []string{"a", "b", "c"}, wantWrite: 4},
		{name: "permanent failure of a create: stops, reports only what was made",
			fail: func(n int, obj string) (error, bool) {
				if obj == "b" {
					return errors.New("400 invalid"), false
				}
				return nil, false
			},
			wantErr: true, wantMade: []string{"a"}, wantWrite: 2},
		{name: "permanent error but the create took effect",
			fail: func(n int, obj string) (error, bool) {
				if n == 2 {
					return errors.New("400 label must be unique"), true
				}
				return nil, false
			},
			wantMade: []string{"a", "b", "c"}, wantWrite: 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := &world{want: []string{"a", "b", "c"}, have: map[string]bool{}, fail: tc.fail}
			res, err := reconcile.Converge(t.Context(), opts(t), w.plan, w.step, nil)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if got := objects(res); !slices.Equal(got, tc.wantMade) {
				t.Errorf("reported %v, want %v", got, tc.wantMade)
			}
			if w.writes != tc.wantWrite {
				t.Errorf("%d writes, want %d", w.writes, tc.wantWrite)
			}
			if res.Elapsed <= 0 {
				t.Error("no elapsed time")
			}
		})
	}
}

func TestConvergeIsBounded(t *testing.T) {
	t.Parallel()
	w := &world{want: []string{"a"}, have: map[string]bool{}, fail: func(int, string) (error, bool) { return errTransient, false }}
	_, err := reconcile.Converge(t.Context(), opts(t), w.plan, w.step, nil)
	if err == nil || !errors.Is(err, errTransient) || w.writes != 5 {
		t.Fatalf("err = %v after %d writes, want the last error after 5 rounds", err, w.writes)
	}
}

func TestApplyExecutesExactlyThePlan(t *testing.T) {
	t.Parallel()
	w := &world{want: []string{"a", "b"}, have: map[string]bool{}}
	p, _ := w.plan(t.Context())
	p.Steps = p.Steps[:1] // a reviewed plan that creates only a
	var out change.Outputs
	res, err := reconcile.Apply(t.Context(), p, &out, w.step)
	if err != nil || w.writes != 1 || !w.have["a"] || w.have["b"] || len(res.Changes) != 1 {
		t.Fatalf("Apply: %v, %d writes, have %v, result %v", err, w.writes, w.have, res.Changes)
	}
	if _, ok := out.Get(change.Ref{Step: "a", Output: "id"}); !ok {
		t.Error("the step's output was not recorded")
	}
	var se *reconcile.StepError
	w.fail = func(int, string) (error, bool) { return errors.New("boom"), false }
	p2, _ := w.plan(t.Context())
	if _, err := reconcile.Apply(t.Context(), p2, &out, w.step); !errors.As(err, &se) || se.Step.Object != "b" {
		t.Errorf("err = %v, want a StepError naming b", err)
	}
}
