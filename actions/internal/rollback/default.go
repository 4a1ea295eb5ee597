package rollback

import (
	"context"
	"errors"

	"github.com/org/platform/pkg/rollout"
	"github.com/org/platform/pkg/store"
)

// ErrNotWired is returned by Default's PlanRollback and Compare while
// pkg/rollout's rollback entry points (PlanRollback, TakeSnapshot,
// CompareSnapshots) are not part of the module: the action then refuses
// every rollback, before any write, saying so.
var ErrNotWired = errors.New("rollback: pkg/rollout's rollback planner is not wired into this action yet")

// Default is the Rollout of pkg/rollout.
func Default() Rollout {
	return Rollout{
		PlanRollback: func(context.Context, rollout.Deps, store.Store, store.SnapshotRef) (rollout.Artifact, error) {
			return rollout.Artifact{}, ErrNotWired
		},
		Apply: rollout.Apply,
		Compare: func(context.Context, rollout.Deps, store.Snapshot) (Restoration, error) {
			return Restoration{}, ErrNotWired
		},
	}
}
