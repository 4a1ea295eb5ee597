package rollout_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/org/platform/internal/helmrelease"
	"github.com/org/platform/pkg/linodetest"

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

// drillFigures are what one rollback drill measured.
type drillFigures struct {
	model, wall  time.Duration // the rollback's apply: model and wall time
	provisioning time.Duration // model time from the pool write to the first Helm write
	linodeWrites int
	helmWrites   int64
}

// rollbackDrill provisions production (its baseline installed on a local
// control plane with kwok nodes), changes it — a pool resized and the
// ingress release upgraded (replicas 3 → 2) — rolls it back to the
// snapshot taken before the change, with the normal Apply, and checks
// that the environment equals the snapshot: spec-level Linode state,
// each release's chart version and values digest, and a fresh plan of
// the restored spec empty (our objects as the spec renders them).
func rollbackDrill(t testing.TB) drillFigures {
	env := *find(t, standard(t), spec.Production)
	env = env.WithDefaults()

	var mu sync.Mutex
	var poolWriteAt time.Time
	var srv *linodetest.Server
	lke := newLocalLKE(t, env, func(r linodetest.HookRequest) linodetest.HookAction {
		if r.Method == "PUT" && r.Route == "/lke/clusters/{clusterId}/pools/{poolId}" {
			mu.Lock()
			poolWriteAt = srv.Clock().Now()
			mu.Unlock()
		}
		return linodetest.HookAction{}
	})
	srv = lke.srv

	var helmRequests, helmWrites atomic.Int64
	var firstHelmWrite atomic.Pointer[time.Time]
	counting := countingHelm(&helmRequests, &helmWrites)
	deps := lke.deps
	deps.Kubernetes = (&kubeRecorder{}).client
	deps.Helm = func(ctx context.Context, env string, kc []byte) (genericclioptions.RESTClientGetter, error) {
		g, err := counting(ctx, env, kc)
		if err != nil {
			return nil, err
		}
		cfg, _ := g.ToRESTConfig()
		cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
			return roundTripper(func(r *http.Request) (*http.Response, error) {
				if r.Method != http.MethodGet && r.URL.Query().Get("dryRun") != "All" {
					now := srv.Clock().Now()
					firstHelmWrite.CompareAndSwap(nil, &now)
				}
				return rt.RoundTrip(r)
			})
		})
		return helmrelease.GetterFor(cfg)
	}
	st, err := store.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()

	start := time.Now()
	applyRecorded(t, deps, st, env)
	t.Logf("production provisioned with its baseline in %s (wall)", time.Since(start).Round(time.Second))

	changed := env
	changed.Cluster.NodePools = append([]spec.NodePool(nil), env.Cluster.NodePools...)
	resized := ""
	for i, p := range changed.Cluster.NodePools {
		if p.Autoscaler == nil {
			changed.Cluster.NodePools[i].Count++
			resized = p.Name
			break
		}
	}
	changed.Ingress.Replicas = env.Ingress.Replicas - 1
	applyRecorded(t, deps, st, changed)
	ref := lastSnapshot(t, st, spec.Production)
	want, err := store.ReadSnapshot(ctx, st, ref)
	if err != nil {
		t.Fatal(err)
	}
	const ingressRelease = "ingress-nginx/ingress-nginx"
	var wantIngress *store.Release
	for i, r := range want.Releases {
		if r.Namespace+"/"+r.Name == ingressRelease {
			wantIngress = &want.Releases[i]
		}
	}
	if wantIngress == nil || wantIngress.Chart.RepoURL == "" || wantIngress.ValuesDigest == "" || wantIngress.Revision != 1 {
		t.Fatalf("the snapshot before the change does not record release %s as deployed at revision 1: %+v", ingressRelease, want.Releases)
	}

	plan, err := rollout.PlanRollback(ctx, deps, st, ref)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, s := range plan.Environments[0].Steps {
		kinds[s.Kind+" "+s.Object] = true
	}
	if !kinds["helm.release release/"+ingressRelease] || !containsAll(plan.String(), "pool/"+resized, "count") {
		t.Errorf("the rollback plan lacks the pool %s's count or the release %s:\n%s", resized, ingressRelease, plan)
	}
	t.Logf("rollback plan:\n%s", plan)

	n := len(srv.Requests())
	helmWrites.Store(0)
	firstHelmWrite.Store(nil)
	modelStart, wallStart := srv.Clock().Now(), time.Now()
	res, err := rollout.Apply(ctx, deps, roundTrip(t, plan), rollout.WithApproval(plan.Digest),
		rollout.WithRecords(rollout.Records{Store: st, Owner: "test:drill"}))
	if err != nil {
		t.Fatalf("apply the rollback: %v", err)
	}
	f := drillFigures{model: srv.Clock().Now().Sub(modelStart), wall: time.Since(wallStart),
		linodeWrites: len(writesOf(srv, n)), helmWrites: helmWrites.Load()}
	mu.Lock()
	if fw := firstHelmWrite.Load(); fw != nil && !poolWriteAt.IsZero() && poolWriteAt.After(modelStart) {
		f.provisioning = fw.Sub(poolWriteAt)
	}
	mu.Unlock()
	assertWritesAreSteps(t, plan, writesOf(srv, n))
	t.Logf("rollback applied: %v", objects(res.Result()))

	got, err := rollout.TakeSnapshot(ctx, deps, env)
	if err != nil {
		t.Fatal(err)
	}
	r := rollout.CompareSnapshots(want, got)
	if !r.Restored() {
		t.Errorf("not restored:\n%s", strings.Join(r.Differences, "\n"))
	}
	t.Logf("restored; tolerated: %v", r.Tolerated)
	fresh, err := rollout.Plan(ctx, deps, env)
	if err != nil || !fresh.Empty() {
		t.Errorf("a fresh plan of the restored spec: %v\n%s", err, fresh)
	}
	audit, err := store.ListAudit(ctx, st)
	if err != nil || len(audit) == 0 || audit[len(audit)-1].Result != "rolled back to snapshot "+ref.Key {
		t.Errorf("the audit log does not end with the rollback: %v", err)
	}
	return f
}

// TestRollbackDrill is the rollback drill (make rollback-drill).
func TestRollbackDrill(t *testing.T) {
	t.Parallel()
	f := rollbackDrill(t)
	t.Logf("rollback of production: %s model time (%s wall), of which %s Linode provisioning (pool write → first Helm write); %s beyond it; %d Linode writes, %d Helm/object writes",
		f.model.Round(time.Second), f.wall.Round(time.Millisecond), f.provisioning.Round(time.Second), (f.model - f.provisioning).Round(time.Second), f.linodeWrites, f.helmWrites)
}
