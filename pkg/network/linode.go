package network

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/linode/linodego"
	"go.uber.org/zap"

	"github.com/org/platform/internal/clock"
	"github.com/org/platform/internal/poll"
	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/spec"
)

// EnvTagPrefix starts the tag that marks a Cloud Firewall as the one of an
// environment: "platform.org/env=production", the tag pkg/cluster puts on
// the environment's LKE cluster. A firewall found by label without it is
// adopted (the tag is added); a duplicate is removed only when it carries
// it.
const EnvTagPrefix = "platform.org/env="

// Writes to Linode. A POST that creates is sent once: on any error the
// reconcile loop re-reads by label and re-plans, adopting what a lost
// response created. Reads, PUTs and DELETEs are retried in place; a DELETE
// answered 404 succeeded.

// step is one unit of work: the changes it makes and how.
type step struct {
	create bool // starts with a POST: never retried in place
	apply  func(ctx context.Context) error
}

// retry runs a read or an idempotent write (PUT, DELETE) until it succeeds,
// fails for good, or ctx ends; transient failures are logged at debug level.
func retry(ctx context.Context, o *options, log *zap.Logger, what string, fn func(ctx context.Context) error) error {
	return poll.Retry(ctx, o.retryPolicy(), func(ctx context.Context) error {
		err := fn(ctx)
		if t, after := poll.Transient(err); t {
			log.Debug("transient Linode API error, retrying", zap.String("request", what), zap.Duration("retryAfter", after), zap.Error(err))
		}
		return err
	})
}

// retryDelete is retry for a DELETE: 404 means it is gone, which is what
// was asked (a lost response to an earlier attempt leaves exactly that).
func retryDelete(ctx context.Context, o *options, log *zap.Logger, what string, fn func(ctx context.Context) error) error {
	return retry(ctx, o, log, what, func(ctx context.Context) error {
		err := fn(ctx)
		if err != nil && linodego.IsNotFound(err) {
			return nil
		}
		return err
	})
}

// isRetryable says whether the reconcile loop should re-read and re-plan
// after a step failed with err.
func isRetryable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	t, _ := poll.Transient(err)
	return t
}

// reconcile runs the loop every Linode Ensure of this package shares:
// observe and plan (plan), then apply the steps; after a step failed
// transiently, wait and start over from a fresh read. It returns the changes
// of the first plan, which are what the run made, or the unchanged marker.
func reconcile(ctx context.Context, o *options, log *zap.Logger, plan func(ctx context.Context) ([]step, []change.Change, error)) ([]change.Change, error) {
	var made []change.Change
	wait := o.retryPolicy()
	delay := wait.Interval
	for round := 1; ; round++ {
		steps, changes, err := plan(ctx)
		if err != nil {
			return made, err
		}
		if round == 1 {
			made = changes
		}
		if len(steps) == 0 {
			return made, nil
		}
		failed, err := applySteps(ctx, steps)
		if err == nil {
			return made, nil
		}
		if !isRetryable(err) || round >= o.maxRounds {
			return made, err
		}
		_, after := poll.Transient(err)
		d := delay
		if after > 0 {
			d = after
		}
		log.Info("a write failed transiently; reading again before the next round",
			zap.Int("round", round), zap.Bool("create", failed.create), zap.Duration("wait", d), zap.Error(err))
		if serr := clock.Sleep(ctx, o.clock, d); serr != nil {
			return made, fmt.Errorf("%w (last error: %w)", serr, err)
		}
		delay = min(time.Duration(float64(delay)*wait.Multiplier), wait.MaxInterval)
	}
}

// applySteps applies steps in order and stops at the first that fails,
// returning it.
func applySteps(ctx context.Context, steps []step) (step, error) {
	for _, s := range steps {
		if err := s.apply(ctx); err != nil {
			return s, err
		}
	}
	return step{}, nil
}

// labelFilter is the X-Filter that selects objects by label, so finding
// one costs one small request whatever the account holds.
func labelFilter(label string) (*linodego.ListOptions, error) {
	b, err := json.Marshal(map[string]string{"label": label})
	if err != nil {
		return nil, err
	}
	return &linodego.ListOptions{Filter: string(b)}, nil
}

// canonicalAddress returns an address or CIDR as a masked CIDR
// ("10.0.0.1" → "10.0.0.1/32"); anything else, such as a Prefix List token
// ("pl::vpcs:123"), is returned as it is.
func canonicalAddress(s string) string {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked().String()
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.PrefixFrom(a, a.BitLen()).String()
	}
	return s
}

// canonicalAddresses returns addrs canonical, sorted and without
// duplicates; nil stays nil.
func canonicalAddresses(addrs []string) []string {
	if len(addrs) == 0 {
		return nil
	}
	out := make([]string, len(addrs))
	for i, a := range addrs {
		out[i] = canonicalAddress(a)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// withDefaults returns env with spec defaults applied. ApplyDefaults writes
// through the DataServices slice and the VPC pointer, so those are copied
// first: the caller's value is never written.
func withDefaults(env spec.Environment) spec.Environment {
	env.DataServices = slices.Clone(env.DataServices)
	if env.Network.VPC != nil {
		v := *env.Network.VPC
		v.Subnets = slices.Clone(v.Subnets)
		env.Network.VPC = &v
	}
	env.ApplyDefaults()
	return env
}

// joinList renders a list for a change line.
func joinList(items []string) string {
	if len(items) == 0 {
		return "(none)"
	}
	return strings.Join(items, ", ")
}
