package rollback

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.uber.org/zap/zaptest"

	"github.com/org/platform/actions/internal/gha"
	"github.com/org/platform/actions/internal/ghatest"
	"github.com/org/platform/pkg/linodetest"
	"github.com/org/platform/pkg/rollout"
	"github.com/org/platform/pkg/spec"
	"github.com/org/platform/pkg/store"
)

const (
	token  = "lin-TEST-token-0a1b2c3d4e5f6789"
	secret = "s3-SECRET-9f8e7d6c5b4a"
)

func inputs(set map[string]string) map[string]string {
	vals := map[string]string{}
	for _, in := range Inputs {
		vals[in.Name] = ""
	}
	for k, v := range set {
		vals[k] = v
	}
	return ghatest.InputVars(vals)
}

// world is a simulator with environments converged and then changed, each
// apply recorded in a local store: the newest snapshot of each is the
// state before the change.
type world struct {
	sim   *ghatest.Sim
	dir   string // the store's directory
	store store.Store
}

func newWorld(t *testing.T, names ...string) *world {
	t.Helper()
	return newWorldWith(t, func(e *spec.Environment) { e.Cluster.Tags = append(e.Cluster.Tags, "changed") }, names...)
}

// newWorldWith is newWorld with the change made by edit.
func newWorldWith(t *testing.T, edit func(*spec.Environment), names ...string) *world {
	t.Helper()
	w := &world{sim: newSim(t), dir: t.TempDir()}
	var err error
	if w.store, err = store.NewLocal(w.dir); err != nil {
		t.Fatal(err)
	}
	var envs []spec.Environment
	for _, n := range names {
		env, err := spec.Default(n)
		if err != nil {
			t.Fatal(err)
		}
		envs = append(envs, env)
	}
	rec := rollout.WithRecords(rollout.Records{Store: w.store, Owner: "test"})
	if _, err := rollout.Ensure(t.Context(), w.sim.Deps, envs, rec, rollout.WithSimulationSelfApproval()); err != nil {
		t.Fatal(err)
	}
	for i := range envs {
		edit(&envs[i])
	}
	if _, err := rollout.Ensure(t.Context(), w.sim.Deps, envs, rec, rollout.WithSimulationSelfApproval()); err != nil {
		t.Fatal(err)
	}
	return w
}

// timeScale is the simulator's speed-up in these tests. The store's lock
// reads the same model clock, and refuses to release a lock when more
// than its grace (30 s model time) passes between two of its requests: at
// the default 1000× that is 30 ms of wall time, which a loaded machine
// exceeds. At 200× it is 150 ms, and an LKE cluster is ready in about 1.5 s.
const timeScale = 200

// newSim is ghatest.NewSim at timeScale.
func newSim(t *testing.T) *ghatest.Sim {
	srv, client := linodetest.New(t, linodetest.WithTimeScale(timeScale))
	return &ghatest.Sim{Srv: srv, Deps: rollout.Deps{
		Linode: client, Clock: srv.Clock(), Logger: zaptest.NewLogger(t),
		KubernetesSkipped: "the actions' tests run the Linode layer only",
		BaselineSkipped:   "the actions' tests run the Linode layer only",
	}}
}

// tags are the tags of env's cluster on the simulator.
func (w *world) tags(t *testing.T, env string) []string {
	t.Helper()
	for _, c := range w.sim.Srv.Dump().Clusters {
		if c.Label == "platform-"+env {
			return c.Tags
		}
	}
	t.Fatalf("no cluster of %s", env)
	return nil
}

func (w *world) run(t *testing.T, r Rollout, set map[string]string) (*ghatest.Env, error, string) {
	t.Helper()
	vars := map[string]string{inStore: w.dir, inToken: token}
	for k, v := range set {
		vars[k] = v
	}
	env := ghatest.NewEnv(t, inputs(vars))
	var logs bytes.Buffer
	err := RunWith(t.Context(), env.Action(), w.sim.Connect(t, env), gha.NewLogger(&logs), r)
	return env, err, logs.String()
}

// TestRollbackRestores: staging, changed by a second recorded apply, is
// rolled back to its newest snapshot (the default), taken before that
// apply: the change is undone on the simulator, the outputs say restored
// with the digest of the plan and the snapshot's key; the summary shows the
// plan and the result table; the rollback itself took the lock and left a
// snapshot and an audit record by the actor; the token is masked before
// use and printed nowhere else. Rolling back again to that snapshot, named
// by its file name, writes nothing.
func TestRollbackRestores(t *testing.T) {
	t.Parallel()
	w := newWorld(t, spec.Staging)
	refs, err := store.ListSnapshots(t.Context(), w.store, spec.Staging)
	if err != nil || len(refs) != 2 || !slices.Contains(w.tags(t, spec.Staging), "changed") {
		t.Fatalf("setup: snapshots %v, %v; want 2, and the change made", refs, err)
	}
	env, err, logs := w.run(t, Default(), map[string]string{inEnvironments: spec.Staging, inActor: "alice"})
	if err != nil {
		t.Fatalf("rollback: %v\n%s", err, env.Stdout.String())
	}
	if tags := w.tags(t, spec.Staging); slices.Contains(tags, "changed") {
		t.Errorf("after the rollback the cluster still has the tag added after the snapshot: %v", tags)
	}
	out := env.Outputs()
	if out[outRestored] != "true" || out[outTolerated] != "0" || len(out[outDigest]) != 64 || out[outSnapshots] != refs[1].Key {
		t.Errorf("outputs %v; want restored, nothing tolerated, a digest, snapshot %s", out, refs[1].Key)
	}
	sum := env.Summary()
	for _, want := range []string{"## Rollback of staging to " + refs[1].Key, "| staging | 0 | 2 | 0 | 0 | no |", "## Rollback result",
		"| staging | `" + refs[1].Key + "` | `" + out[outDigest][:12] + "` | applied | yes | 0 |", "rollback to snapshot " + refs[1].Key} {
		if !strings.Contains(sum, want) {
			t.Errorf("summary lacks %q:\n%s", want, sum)
		}
	}
	audit, err := store.ListAudit(t.Context(), w.store)
	if err != nil {
		t.Fatal(err)
	}
	last := audit[len(audit)-1]
	if len(audit) != 3 || last.Who != "github:alice via org/platform/actions/rollback" || last.PlanDigest != out[outDigest] ||
		last.Result != "rolled back to snapshot "+refs[1].Key {
		t.Errorf("audit records %d, last %+v; want the rollback's, by alice, with its digest", len(audit), last)
	}
	if after, _ := store.ListSnapshots(t.Context(), w.store, spec.Staging); len(after) != 3 {
		t.Errorf("%d snapshots after the rollback; want a third, taken before it", len(after))
	}
	checkSecrets(t, env, logs)

	w.sim.Srv.ResetCounts()
	again, err, _ := w.run(t, Default(), map[string]string{inEnvironments: spec.Staging, inSnapshot: strings.TrimSuffix(filepath.Base(refs[1].Key), ".json")})
	if err != nil || again.Outputs()[outRestored] != "true" {
		t.Fatalf("a second rollback: %v, outputs %v\n%s", err, again.Outputs(), again.Stdout.String())
	}
	if n := w.sim.Srv.Counts().Mutating; n != 0 {
		t.Errorf("a second rollback to the same snapshot sent %d writes", n)
	}
}

// TestGitOpsOnlyAwaitsApproval: production is GitOps-only, changed since
// its newest snapshot and, out of band, its ingress pool deleted. Without
// an approval the rollback is planned, its digest output, a notice asks
// for the approval, nothing is written and the step succeeds with
// restored false; a wrong digest changes nothing either. With the digest
// approved it is applied: the change undone, the pool made again — a new
// pool id, a tolerated difference, counted and listed.
func TestGitOpsOnlyAwaitsApproval(t *testing.T) {
	t.Parallel()
	w := newWorld(t, spec.Production)
	var clusterID, poolID int
	for _, c := range w.sim.Srv.Dump().Clusters {
		if c.Label == "platform-production" {
			clusterID = c.ID
		}
	}
	pools, err := w.sim.Srv.NewClient().ListLKENodePools(t.Context(), clusterID, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pools {
		if slices.Contains(p.Tags, "platform.org/pool=ingress") {
			poolID = p.ID
		}
	}
	if err := w.sim.Srv.NewClient().DeleteLKENodePool(t.Context(), clusterID, poolID); err != nil {
		t.Fatal(err)
	}

	w.sim.Srv.ResetCounts()
	first, err, _ := w.run(t, Default(), map[string]string{inEnvironments: spec.Production})
	if err != nil {
		t.Fatalf("unapproved: %v\n%s", err, first.Stdout.String())
	}
	digest := first.Outputs()[outDigest]
	if len(digest) != 64 || first.Outputs()[outRestored] != "false" || w.sim.Srv.Counts().Mutating != 0 {
		t.Fatalf("unapproved: outputs %v, writes %d; want a digest, not restored, no write", first.Outputs(), w.sim.Srv.Counts().Mutating)
	}
	if n := ghatest.Commands(first.Stdout.String(), "notice"); len(n) != 1 || !strings.Contains(n[0], digest) {
		t.Errorf("notices %q; want one naming the digest", n)
	}
	if !strings.Contains(first.Summary(), "awaiting approval") || !strings.Contains(first.Summary(), "| production | 1 | 2 | 0 | 0 | yes") {
		t.Errorf("summary:\n%s", first.Summary())
	}

	wrong, err, _ := w.run(t, Default(), map[string]string{inEnvironments: spec.Production, inApproved: strings.Repeat("0", 64)})
	if err != nil || wrong.Outputs()[outRestored] != "false" || w.sim.Srv.Counts().Mutating != 0 {
		t.Fatalf("a wrong digest: %v, outputs %v, writes %d; want planned only", err, wrong.Outputs(), w.sim.Srv.Counts().Mutating)
	}

	approved, err, _ := w.run(t, Default(), map[string]string{inEnvironments: spec.Production, inApproved: "  " + strings.Repeat("1", 64) + ", " + digest})
	if err != nil || approved.Outputs()[outRestored] != "true" || approved.Outputs()[outDigest] != digest {
		t.Fatalf("approved: %v, outputs %v\n%s", err, approved.Outputs(), approved.Stdout.String())
	}
	if tags := w.tags(t, spec.Production); slices.Contains(tags, "changed") {
		t.Errorf("approved rollback did not undo the change: %v", tags)
	}
	if n, _ := strconv.Atoi(approved.Outputs()[outTolerated]); n < 1 || !strings.Contains(approved.Summary(), "- tolerated: ") || !strings.Contains(approved.Summary(), "ingress") {
		t.Errorf("the recreated pool: tolerated %q; summary:\n%s", approved.Outputs()[outTolerated], approved.Summary())
	}
}

// TestPlanOnly plans both environments and writes nothing.
func TestPlanOnly(t *testing.T) {
	t.Parallel()
	w := newWorld(t, spec.Development, spec.Staging)
	w.sim.Srv.ResetCounts()
	env, err, _ := w.run(t, Default(), map[string]string{inEnvironments: "development,staging", inPlanOnly: "true"})
	if err != nil {
		t.Fatal(err)
	}
	out := env.Outputs()
	if ds := strings.Split(out[outDigest], ","); len(ds) != 2 || out[outRestored] != "false" || len(strings.Split(out[outSnapshots], ",")) != 2 {
		t.Errorf("outputs %v; want two digests and snapshots, not restored", out)
	}
	if n := w.sim.Srv.Counts().Mutating; n != 0 {
		t.Errorf("plan-only sent %d writes", n)
	}
	if n := len(ghatest.Commands(env.Stdout.String(), "notice")); n != 2 {
		t.Errorf("%d notices; want one per environment", n)
	}
}

// TestRefusedRollback: development was upgraded to Kubernetes 1.34 since
// its snapshot; rolling it back would downgrade, which is refused naming
// the field, with no write to it; staging, rolled back in the same run, is
// restored.
func TestRefusedRollback(t *testing.T) {
	t.Parallel()
	w := newWorldWith(t, func(e *spec.Environment) {
		if e.Name == spec.Development {
			e.Cluster.KubernetesVersion = "1.34"
		} else {
			e.Cluster.Tags = append(e.Cluster.Tags, "changed")
		}
	}, spec.Development, spec.Staging)
	seen := 0
	for _, r := range w.sim.Srv.Requests() {
		seen = max(seen, r.Seq)
	}
	env, err, _ := w.run(t, Default(), map[string]string{inEnvironments: "development,staging"})
	if !errors.Is(err, rollout.ErrIrreversible) {
		t.Fatalf("err %v; want ErrIrreversible", err)
	}
	errs := ghatest.Commands(env.Stdout.String(), "error")
	if len(errs) != 1 || !strings.Contains(errs[0], "environment development") || !strings.Contains(errs[0], "kubernetesVersion") {
		t.Errorf("annotations %q; want one naming development and the field", errs)
	}
	if slices.Contains(w.tags(t, spec.Staging), "changed") {
		t.Errorf("staging was not rolled back")
	}
	devPath := ""
	for _, c := range w.sim.Srv.Dump().Clusters {
		if c.Label == "platform-development" {
			devPath = fmt.Sprintf("/lke/clusters/%d", c.ID)
		}
	}
	for _, r := range w.sim.Srv.Requests() {
		if r.Seq > seen && r.Method != "GET" && (strings.HasSuffix(r.Path, devPath) || strings.Contains(r.Path, devPath+"/")) {
			t.Errorf("a write to development's cluster: %s %s", r.Method, r.Path)
		}
	}
	if out := env.Outputs(); out[outRestored] != "false" || len(out[outDigest]) != 64 {
		t.Errorf("outputs %v; want not restored, staging's digest alone", out)
	}
	if !strings.Contains(env.Summary(), "| development | `snapshots/development/") || !strings.Contains(env.Summary(), "failed: environment development") {
		t.Errorf("summary:\n%s", env.Summary())
	}
}

// TestBadInputs: each bad input fails before connecting, with an ::error::
// naming it and never echoing a secret.
func TestBadInputs(t *testing.T) {
	t.Parallel()
	w := &world{sim: ghatest.NewSim(t), dir: t.TempDir()}
	for _, tc := range []struct {
		name string
		set  map[string]string
		want string
	}{
		{"no environments", map[string]string{inEnvironments: ""}, "inputs environments: required"},
		{"no store", map[string]string{inEnvironments: "staging", inStore: ""}, "store: required"},
		{"id with two envs", map[string]string{inEnvironments: "staging,production", inSnapshot: "2026-x"}, "give one environment"},
		{"bad digest", map[string]string{inEnvironments: "staging", inApproved: "abc"}, "not a plan digest"},
		{"plan-only", map[string]string{inEnvironments: "staging", inPlanOnly: "yes"}, "plan-only"},
		{"s3 without keys", map[string]string{inEnvironments: "staging", inStore: "s3://us-east-1.linodeobjects.com/records"}, "required for an s3:// store"},
		{"s3 without bucket", map[string]string{inEnvironments: "staging", inStore: "s3://us-east-1.linodeobjects.com", inAccessKey: "AK", inSecretKey: secret}, "names no bucket"},
		{"s3 with credentials in the URL", map[string]string{inEnvironments: "staging", inStore: "s3://AK:" + secret + "@us-east-1.linodeobjects.com/records"}, "credentials removed"},
		{"keys for a local store", map[string]string{inEnvironments: "staging", inAccessKey: "AK", inSecretKey: secret}, "for an s3:// store"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set := map[string]string{inToken: ""}
			for k, v := range tc.set {
				set[k] = v
			}
			env, err, logs := w.run(t, Default(), set)
			errs := strings.Join(ghatest.Commands(env.Stdout.String(), "error"), "\n")
			if err == nil || !strings.Contains(errs, tc.want) {
				t.Errorf("err %v, annotations %q; want one containing %q", err, errs, tc.want)
			}
			if strings.Contains(errs+logs, secret) {
				t.Errorf("the secret is echoed: %s", errs)
			}
		})
	}
	if n := len(w.sim.Tokens()); n != 0 {
		t.Errorf("connected %d times on bad inputs", n)
	}

	// Inputs that pass, and a store that holds nothing to roll back to.
	env, err, _ := w.run(t, Default(), map[string]string{inEnvironments: "staging"})
	if err == nil || !strings.Contains(strings.Join(ghatest.Commands(env.Stdout.String(), "error"), "\n"), "holds no snapshot of environment staging") {
		t.Errorf("an empty store: %v\n%s", err, env.Stdout.String())
	}
	if out := env.Outputs(); out[outRestored] != "false" || out[outDigest] != "" {
		t.Errorf("an empty store: outputs %v", out)
	}
}

// TestFirstSnapshot: the snapshot before an environment's first recorded
// apply holds no earlier state; rolling back to it is refused, naming it.
func TestFirstSnapshot(t *testing.T) {
	t.Parallel()
	w := newWorld(t, spec.Development)
	w.sim.Srv.ResetCounts()
	env, err, _ := w.run(t, Default(), map[string]string{inEnvironments: spec.Development, inSnapshot: Previous})
	errs := strings.Join(ghatest.Commands(env.Stdout.String(), "error"), "\n")
	if err == nil || !strings.Contains(errs, "no applied spec") || w.sim.Srv.Counts().Mutating != 0 {
		t.Errorf("err %v, annotations %q, writes %d; want refused, nothing written", err, errs, w.sim.Srv.Counts().Mutating)
	}
}

func TestTables(t *testing.T) {
	t.Parallel()
	ghatest.CheckTables(t, "../../rollback", Inputs, Outputs)
}

// checkSecrets: the token was masked, and appears nowhere but in the mask.
func checkSecrets(t *testing.T, env *ghatest.Env, logs string) {
	t.Helper()
	stdout := env.Stdout.String()
	if !strings.Contains(stdout, "::add-mask::"+token+"\n") {
		t.Error("the token was not masked")
	}
	rest := strings.ReplaceAll(stdout, "::add-mask::"+token+"\n", "")
	for where, s := range map[string]string{"stdout": rest, "summary": env.Summary(), "logs": logs} {
		if strings.Contains(s, token) {
			t.Errorf("the token appears in %s", where)
		}
	}
	for k, v := range env.Outputs() {
		if strings.Contains(v, token) {
			t.Errorf("the token appears in output %s", k)
		}
	}
}
