package rollback

import (
	"context"
	"errors"
	"fmt"

	"github.com/org/platform/pkg/rollout"
	"github.com/org/platform/pkg/store"
)

// Default is the Rollout of pkg/rollout: PlanRollback, Apply, and a fresh
// TakeSnapshot of the spec the snapshot was made from compared with it by
// CompareSnapshots.
func Default() Rollout {
	return Rollout{
		PlanRollback: rollout.PlanRollback,
		Apply:        rollout.Apply,
		Compare:      compare,
	}
}

// compare observes the environment now, as a snapshot of the spec snap's
// state was made from (snap.Applied), and compares it with snap. It only
// reads.
func compare(ctx context.Context, d rollout.Deps, snap store.Snapshot) (Restoration, error) {
	if snap.Applied == nil {
		return Restoration{}, errors.New("the snapshot records no applied spec")
	}
	now, err := rollout.TakeSnapshot(ctx, d, *snap.Applied)
	if err != nil {
		return Restoration{}, fmt.Errorf("observe environment %s: %w", snap.Environment, err)
	}
	r := rollout.CompareSnapshots(snap, now)
	return Restoration{Tolerated: r.Tolerated, Differences: r.Differences}, nil
}
