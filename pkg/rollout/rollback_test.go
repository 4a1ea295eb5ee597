package rollout_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/org/platform/pkg/rollout"
	"github.com/org/platform/pkg/spec"
	"github.com/org/platform/pkg/store"
)

// applyRecorded plans env and applies the plan with records (approved:
// the tests stand for the workflow's reviewers), failing the test on error.
func applyRecorded(t testing.TB, deps rollout.Deps, st store.Store, env spec.Environment) rollout.Artifact {
	t.Helper()
	plan, err := rollout.Plan(t.Context(), deps, env)
	if err != nil {
		t.Fatalf("plan %s: %v", env.Name, err)
	}
	res, err := rollout.Apply(t.Context(), deps, plan, rollout.WithApproval(plan.Digest),
		rollout.WithRecords(rollout.Records{Store: st, Owner: "test:drill"}))
	if err != nil {
		t.Fatalf("apply %s: %v", env.Name, err)
	}
	if err := res.Err(); err != nil {
		t.Fatalf("apply %s: %v", env.Name, err)
	}
	return plan
}

// lastSnapshot returns the reference of env's newest snapshot.
func lastSnapshot(t testing.TB, st store.Store, env string) store.SnapshotRef {
	t.Helper()
	refs, err := store.ListSnapshots(t.Context(), st, env)
	if err != nil || len(refs) == 0 {
		t.Fatalf("snapshots of %s: %v, %v", env, refs, err)
	}
	return refs[len(refs)-1]
}

// TestRollbackRefusesIrreversible: a rollback to a snapshot taken before
// high availability or the control-plane ACL was turned on, or before a
// Kubernetes upgrade, fails naming the field, from → to, and sends no
// write.
func TestRollbackRefusesIrreversible(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		before   func(*spec.Environment)
		after    func(*spec.Environment)
		field    string
		from, to string
	}{
		{"high availability turned on since",
			func(e *spec.Environment) { e.Cluster.HighAvailability = false },
			func(e *spec.Environment) { e.Cluster.HighAvailability = true },
			"cluster.highAvailability", "true", "false"},
		{"control-plane ACL turned on since",
			func(e *spec.Environment) { e.Cluster.ControlPlaneACL = spec.ControlPlaneACL{} },
			func(e *spec.Environment) {},
			"cluster.controlPlaneACL.enabled", "true", "false"},
		{"Kubernetes upgraded since",
			func(e *spec.Environment) { e.Cluster.KubernetesVersion = "1.33" },
			func(e *spec.Environment) { e.Cluster.KubernetesVersion = "1.34" },
			"cluster.kubernetesVersion", "1.34", "1.33"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, _, deps := sim(t)
			st := localStore(t)
			base := *find(t, standard(t), spec.Staging)
			before, after := base, base
			tt.before(&before)
			after.Cluster.ControlPlaneACL = base.Cluster.ControlPlaneACL
			tt.after(&after)
			if tt.field != "cluster.highAvailability" {
				after.Cluster.HighAvailability = before.Cluster.HighAvailability
			}
			if tt.field != "cluster.kubernetesVersion" {
				after.Cluster.KubernetesVersion = before.Cluster.KubernetesVersion
			}
			applyRecorded(t, deps, st, before)
			applyRecorded(t, deps, st, after)
			ref := lastSnapshot(t, st, spec.Staging) // taken before the change

			n := len(srv.Requests())
			_, err := rollout.PlanRollback(t.Context(), deps, st, ref)
			var irr *rollout.IrreversibleError
			if !errors.As(err, &irr) || !errors.Is(err, rollout.ErrIrreversible) {
				t.Fatalf("rollback: %v; want an IrreversibleError", err)
			}
			if irr.Field != tt.field || irr.From != tt.from || irr.To != tt.to || !strings.Contains(err.Error(), tt.field) {
				t.Errorf("refused %s %s → %s (%v); want %s %s → %s", irr.Field, irr.From, irr.To, err, tt.field, tt.from, tt.to)
			}
			if w := writesOf(srv, n); len(w) != 0 {
				t.Errorf("a refused rollback sent %d writes: %v", len(w), w)
			}
		})
	}
}

// TestRollbackLinodeLayer: a pool resized since the snapshot is planned
// back to its count; the plan names the snapshot; applying it with the
// normal Apply restores the snapshot's state (CompareSnapshots finds no
// difference), a fresh plan of the restored spec is empty, and the audit
// record says it was a rollback. A snapshot taken before the first apply
// has nothing to roll back to.
func TestRollbackLinodeLayer(t *testing.T) {
	t.Parallel()
	srv, _, deps := sim(t)
	st := localStore(t)
	before := *find(t, standard(t), spec.Production)
	applyRecorded(t, deps, st, before)
	if _, err := rollout.PlanRollback(t.Context(), deps, st, lastSnapshot(t, st, spec.Production)); err == nil ||
		!strings.Contains(err.Error(), "no applied spec") {
		t.Errorf("rollback to the snapshot before the first apply: %v; want refused, nothing to restore", err)
	}

	after := before
	after.Cluster.NodePools = append([]spec.NodePool(nil), before.Cluster.NodePools...)
	resized := ""
	for i, p := range after.Cluster.NodePools {
		if p.Autoscaler == nil {
			after.Cluster.NodePools[i].Count++
			resized = p.Name
			break
		}
	}
	if resized == "" {
		t.Fatal("production has no pool of fixed size to resize")
	}
	applyRecorded(t, deps, st, after)
	ref := lastSnapshot(t, st, spec.Production)
	want, err := store.ReadSnapshot(t.Context(), st, ref)
	if err != nil {
		t.Fatal(err)
	}

	plan, err := rollout.PlanRollback(t.Context(), deps, st, ref)
	if err != nil {
		t.Fatal(err)
	}
	human := plan.String()
	if !containsAll(human, "rollback to snapshot "+ref.Key, "pool/"+resized, "count") {
		t.Errorf("the rollback plan does not name the snapshot and the pool's count:\n%s", human)
	}
	n := len(srv.Requests())
	res, err := rollout.Apply(t.Context(), deps, roundTrip(t, plan), rollout.WithApproval(plan.Digest),
		rollout.WithRecords(rollout.Records{Store: st, Owner: "test:drill"}))
	if err != nil {
		t.Fatalf("apply the rollback: %v", err)
	}
	assertWritesAreSteps(t, plan, writesOf(srv, n))
	if len(objects(res.Result())) == 0 {
		t.Error("the rollback changed nothing")
	}

	got, err := rollout.TakeSnapshot(t.Context(), deps, before)
	if err != nil {
		t.Fatal(err)
	}
	if r := rollout.CompareSnapshots(want, got); !r.Restored() {
		t.Errorf("not restored: %v (tolerated %v)", r.Differences, r.Tolerated)
	}
	fresh, err := rollout.Plan(t.Context(), deps, before)
	if err != nil || !fresh.Empty() {
		t.Errorf("a fresh plan of the restored spec: %v\n%s", err, fresh)
	}
	audit, err := store.ListAudit(t.Context(), st)
	if err != nil || len(audit) != 3 {
		t.Fatalf("audit %v, %v; want three records", audit, err)
	}
	if a := audit[2]; a.Result != "rolled back to snapshot "+ref.Key || a.PlanDigest != plan.Digest {
		t.Errorf("audit record of the rollback: %+v", a)
	}
}
