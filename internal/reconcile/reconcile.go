// Package reconcile is the one observe → plan → apply loop every concern
// of this project shares, so that they behave the same on faults, lost
// responses and retries.
//
// A concern supplies two functions: Plan, which reads the world and
// returns a change.Plan (data: steps, each with the request it would send),
// and Step, which carries out one step of such a plan. Apply executes
// exactly a plan's steps, in order, and nothing else; Converge is what
// every Ensure is: plan, apply, and, after a step failed in a way that
// re-reading can settle, plan again from fresh observations, until a plan is
// empty or the rounds run out.
//
// What a run reports is what took effect: the changes of every step that
// completed, and of a failed step only when the next observation shows
// that it took effect anyway (its response was lost). A run that fails
// half-way never reports work it did not do.
package reconcile

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/org/platform/internal/clock"
	"github.com/org/platform/pkg/change"
)

// PlanFunc observes the world and returns what would make it match the
// spec. It must not write.
type PlanFunc func(ctx context.Context) (change.Plan, error)

// StepFunc carries out one step whose Fills are resolved, recording what it
// produced (ids) in out for later steps.
type StepFunc func(ctx context.Context, s change.Step, out *change.Outputs) error

// Classifier says whether an error of a failed step is worth another round
// (re-reading first), and how long the server asked to wait.
type Classifier func(err error) (transient bool, retryAfter time.Duration)

// Options tune Converge.
type Options struct {
	// Clock tells and waits model time. Default clock.Real{}.
	Clock clock.Clock
	// Log receives a line per failed step (Info) and per round (Debug).
	// Default zap.NewNop().
	Log *zap.Logger
	// MaxRounds bounds the rounds that apply something: a run that has
	// applied MaxRounds plans and is still handed a non-empty one stops.
	// The read that confirms convergence is not a round. Default 10.
	MaxRounds int
	// Pause is the first wait before re-reading after a failed step; it
	// doubles while failures repeat, up to MaxPause. Defaults 2 s and 30 s.
	Pause, MaxPause time.Duration
	// Transient classifies step errors. Default: nothing is transient.
	Transient Classifier
}

func (o Options) withDefaults() Options {
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	if o.MaxRounds <= 0 {
		o.MaxRounds = 10
	}
	if o.Pause <= 0 {
		o.Pause = 2 * time.Second
	}
	if o.MaxPause < o.Pause {
		o.MaxPause = max(30*time.Second, o.Pause)
	}
	if o.Transient == nil {
		o.Transient = func(error) (bool, time.Duration) { return false, 0 }
	}
	return o
}

// StepError is the error of a step that failed: it names the step.
type StepError struct {
	Step change.Step
	Err  error
}

// Error is the step's own error, which names what was being done.
func (e *StepError) Error() string { return e.Err.Error() }

func (e *StepError) Unwrap() error { return e.Err }

// Apply executes the plan's steps in order, resolving each one's Fills from
// out first, and stops at the first that fails. It returns the changes of
// the steps that completed and, on failure, a *StepError.
func Apply(ctx context.Context, p change.Plan, out *change.Outputs, step StepFunc) (change.Result, error) {
	var done change.Result
	for _, s := range p.Steps {
		resolved, err := out.Resolve(s)
		if err != nil {
			return done, &StepError{Step: s, Err: err}
		}
		if err := step(ctx, resolved, out); err != nil {
			return done, &StepError{Step: s, Err: err}
		}
		done.Add(s.Changes...)
	}
	return done, nil
}

// Converge plans and applies until a plan is empty. After a step fails:
//
//   - when ctx has ended, or the error is not transient and the step does
//     not create anything, it returns at once;
//   - otherwise it waits (the server's Retry-After, else a pause that grows)
//     and plans again from fresh observations. The failed step's changes
//     that the new plan no longer asks for took effect (a lost response)
//     and are reported; a create that failed for good and is still asked
//     for ends the run with its error.
//
// It returns what took effect and, when it gives up, the error of the last
// failed step. outputs may be nil.
func Converge(ctx context.Context, o Options, plan PlanFunc, step StepFunc, outputs *change.Outputs) (res change.Result, err error) {
	o = o.withDefaults()
	start := o.Clock.Now()
	defer func() { res.Elapsed = o.Clock.Now().Sub(start) }()
	if outputs == nil {
		outputs = &change.Outputs{}
	}
	var (
		uncertain *change.Step // the step that failed last round: made or not?
		hardErr   error        // its error when it was a create that failed for good
		lastErr   error
		pause     = o.Pause
	)
	for round := 1; ; round++ {
		p, perr := plan(ctx)
		if perr != nil {
			return res, withLast(ctx, perr, lastErr)
		}
		res.Retained = p.Retained
		if uncertain != nil {
			settled := Settled(uncertain.Changes, p)
			res.Add(settled...)
			if hardErr != nil && len(settled) < len(uncertain.Changes) {
				return res, hardErr
			}
			uncertain, hardErr = nil, nil
		}
		if p.Empty() {
			return res, nil
		}
		if round > o.MaxRounds {
			if lastErr == nil {
				return res, fmt.Errorf("not converged after %d rounds: %d steps still planned", o.MaxRounds, len(p.Steps))
			}
			return res, fmt.Errorf("not converged after %d rounds (last error: %w)", o.MaxRounds, lastErr)
		}
		o.Log.Debug("plan", zap.Int("round", round), zap.Int("steps", len(p.Steps)))
		done, aerr := Apply(ctx, p, outputs, step)
		res.Add(done.Changes...)
		if aerr == nil {
			continue // re-observe: the next plan is empty when converged
		}
		var se *StepError
		if !errors.As(aerr, &se) {
			return res, aerr
		}
		if ctx.Err() != nil {
			// The caller gave up while a step was in flight: it may have
			// taken effect. One last read, on a short leash of its own,
			// says which of its changes did, so the result does not leave
			// them out.
			res.Add(settleDetached(ctx, plan, se.Step)...)
			return res, withLast(ctx, aerr, lastErr)
		}
		transient, after := o.Transient(se.Err)
		if !transient && !se.Step.Creates {
			return res, aerr
		}
		lastErr = aerr
		failed := se.Step
		uncertain = &failed
		if !transient {
			hardErr = aerr
		}
		d := pause
		if after > 0 {
			d = after
		}
		o.Log.Info("a step failed; reading again before the next round",
			zap.Int("round", round), zap.String("step", failed.ID), zap.Duration("wait", d), zap.Error(se.Err))
		if serr := clock.Sleep(ctx, o.Clock, d); serr != nil {
			return res, fmt.Errorf("%w (last error: %w)", serr, aerr)
		}
		pause = min(2*pause, o.MaxPause)
	}
}

// SettleTimeout bounds, in wall time, the read that settles a step in
// flight when the caller's context ended. It is wall time on purpose: on a
// simulator's fast model clock a few model seconds are milliseconds, too
// short for a read under load, while a read that cannot succeed fails fast
// on its own (the client's retries are bounded).
const SettleTimeout = 30 * time.Second

// settleDetached plans once more, outside the ended ctx, and returns the
// changes of step that the fresh plan no longer asks for. When that read
// fails too, it returns nothing: a change not known to have taken effect is
// never reported.
func settleDetached(ctx context.Context, plan PlanFunc, step change.Step) []change.Change {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), SettleTimeout)
	defer cancel()
	p, err := plan(dctx)
	if err != nil {
		return nil
	}
	return Settled(step.Changes, p)
}

func withLast(ctx context.Context, err, last error) error {
	if ctx.Err() != nil && last != nil && !errors.Is(err, last) {
		return fmt.Errorf("%w (last error: %w)", err, last)
	}
	return err
}

// Settled returns the changes of cs that plan p no longer asks for: they
// took effect.
func Settled(cs []change.Change, p change.Plan) []change.Change {
	var out []change.Change
	for _, c := range cs {
		if !Asked(c, p) {
			out = append(out, c)
		}
	}
	return out
}

// Asked reports whether plan p asks for change c again: the same object,
// field and op. The target value is not compared: it may have read
// "(known after apply)" before an earlier step ran and a known id since.
func Asked(c change.Change, p change.Plan) bool {
	for _, s := range p.Steps {
		if slices.ContainsFunc(s.Changes, func(o change.Change) bool {
			return o.Object == c.Object && o.Field == c.Field && o.Op == c.Op
		}) {
			return true
		}
	}
	return false
}
