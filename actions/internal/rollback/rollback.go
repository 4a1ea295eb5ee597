// Package rollback is the body of the rollback action (actions/rollback):
// Run, Main, the action's input and output tables, and Rollout, what it
// needs of pkg/rollout.
//
// The action org/platform/actions/rollback: for each environment named by
// its inputs it finds a snapshot in the store (by default the newest,
// taken before the last recorded apply, which the rollback undoes), plans the rollback to it (rollout.PlanRollback: a plan like any
// other), shows the plan in the step summary and outputs its digest, then
// applies it with rollout.Apply — under the environment's lock, with a
// snapshot before and an audit record after (rollout.WithRecords) — and
// checks the result against the snapshot: restored means equal to it but
// for the tolerated differences (ids of pools or nodes recreated since),
// which are counted and listed. See README.md.
//
// A GitOps-only environment is applied only when approved-digest holds its
// rollback plan's digest: without it the action plans, outputs the digest
// and stops there (a notice, not a failure), so that a reviewer approves it
// and the workflow runs again with the approval. plan-only stops every
// environment there. A rollback that would undo what cannot be undone (the
// control plane's HA or ACL turned off, a Kubernetes downgrade) is refused
// by the plan, naming the field, with nothing written.
//
// Exit codes: 0 when every environment was restored (or only planned, as
// asked), 1 otherwise, with an ::error:: annotation per problem.
package rollback

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/sethvargo/go-githubactions"
	"go.uber.org/zap"

	"github.com/org/platform/actions/internal/gha"
	"github.com/org/platform/actions/internal/records"
	"github.com/org/platform/pkg/rollout"
	"github.com/org/platform/pkg/store"
)

// Input names.
const (
	inEnvironments = "environments"
	inSnapshot     = "snapshot"
	inApproved     = "approved-digest"
	inStore        = records.InStore
	inAccessKey    = records.InAccessKey
	inSecretKey    = records.InSecretKey
	inToken        = "linode-token"
	inPlanOnly     = "plan-only"
	inActor        = "actor"
)

// Output names.
const (
	outDigest    = "plan-digest"
	outRestored  = "restored"
	outTolerated = "tolerated"
	outSnapshots = "snapshots"
)

// Keywords of the snapshot input. Apply with records writes a snapshot
// before it changes an environment: the state it found and the spec that
// state was made from (the last recorded apply's). So rolling back to
// Latest undoes the last recorded apply (or rollback), and to Previous
// the last two.
const (
	// Latest picks each environment's newest snapshot.
	Latest = "latest"
	// Previous picks each environment's snapshot before its newest.
	Previous = "previous"
)

// Inputs is the action's inputs: action.yml declares exactly these (a test
// holds them equal) and run reads them only through this table.
var Inputs = []gha.Input{
	{Name: inEnvironments, Required: true},
	{Name: inSnapshot, Default: Latest},
	{Name: inApproved},
	{Name: inStore, Required: true},
	{Name: inAccessKey, Secret: true},
	{Name: inSecretKey, Secret: true},
	{Name: inToken, Secret: true},
	{Name: inPlanOnly, Default: "false"},
	{Name: inActor},
}

// Outputs is the action's outputs, as action.yml declares them.
var Outputs = []gha.Output{{Name: outDigest}, {Name: outRestored}, {Name: outTolerated}, {Name: outSnapshots}}

// Restoration is how an environment compares with the snapshot it was
// rolled back to: the tolerated differences (ids recreated since, Helm
// revisions), and every other difference. Restored when there is none of
// the latter.
type Restoration struct {
	Tolerated   []string
	Differences []string
}

// Rollout is what the action needs of pkg/rollout: the rollback's plan,
// its apply, and the check of the result against the snapshot. Default is
// pkg/rollout's; tests may replace a part.
type Rollout struct {
	// PlanRollback plans the rollback of ref.Environment to the snapshot
	// ref names, never writing (rollout.PlanRollback).
	PlanRollback func(ctx context.Context, d rollout.Deps, st store.Store, ref store.SnapshotRef) (rollout.Artifact, error)
	// Apply applies a plan (rollout.Apply).
	Apply func(ctx context.Context, d rollout.Deps, p rollout.Artifact, opts ...rollout.ApplyOption) (rollout.Result, error)
	// Compare reads the environment now and compares it with snap
	// (rollout.TakeSnapshot, rollout.CompareSnapshots).
	Compare func(ctx context.Context, d rollout.Deps, snap store.Snapshot) (Restoration, error)
}

// Run is the action on the Default rollout: inputs from a's environment,
// outputs and the step summary through a's files, workflow commands on a's
// writer. Every error it returns has been annotated with ::error::.
func Run(ctx context.Context, a *githubactions.Action, connect gha.ConnectFunc, log *zap.Logger) error {
	return RunWith(ctx, a, connect, log, Default())
}

// RunWith is Run on r.
func RunWith(ctx context.Context, a *githubactions.Action, connect gha.ConnectFunc, log *zap.Logger, r Rollout) error {
	return gha.Annotate(a, run(ctx, a, connect, log, r))
}

// Main runs the action as its main does (gha.Main) and returns its exit
// status, 0 or 1.
func Main() int { return gha.Main(Run) }

// request is the inputs, checked.
type request struct {
	names    []string
	snapshot string
	approved []string
	planOnly bool
	owner    string
	token    string
	store    store.Store
}

// outcome is what happened to one environment.
type outcome struct {
	env      string
	ref      store.SnapshotRef
	plan     rollout.Artifact
	state    string // planned, awaiting approval, applied, refused, failed
	restored bool
	check    Restoration
	err      error
}

// States of an environment's rollback, as the result table shows them.
const (
	statePlanned  = "planned only (plan-only)"
	stateAwaiting = "planned: awaiting approval of its digest"
	stateApplied  = "applied"
	stateFailed   = "failed"
)

func run(ctx context.Context, a *githubactions.Action, connect gha.ConnectFunc, log *zap.Logger, r Rollout) error {
	in, err := gha.Read(a, Inputs) // masks the token and the store's keys first
	if err != nil {
		return err
	}
	var req request
	if err := gha.Phase(a, "Read the inputs", func() error { return readRequest(a, in, &req) }); err != nil {
		return err
	}
	e, err := connect(ctx, req.token, log)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer e.Close()
	if e.Simulated {
		a.Warningf("no linode-token: rolling back on %s, not on a Linode account", e.Where)
	}

	var outs []*outcome
	for _, name := range req.names {
		o := &outcome{env: name}
		outs = append(outs, o)
		o.err = gha.Phase(a, "Roll back "+name, func() error { return rollBack(ctx, a, e.Deps, r, req, o) })
		if o.err != nil {
			o.state = stateFailed
			o.err = fmt.Errorf("environment %s: %w", name, o.err)
		}
	}

	a.AddStepSummary(resultTable(outs))
	var digests, keys []string
	restored, tolerated := true, 0
	var errs []error
	for _, o := range outs {
		if o.plan.Digest != "" {
			digests = append(digests, o.plan.Digest)
		}
		if o.ref.Key != "" {
			keys = append(keys, o.ref.Key)
		}
		restored = restored && o.restored
		tolerated += len(o.check.Tolerated)
		errs = append(errs, o.err)
	}
	gha.SetOutput(a, Outputs, outDigest, strings.Join(digests, ","))
	gha.SetOutput(a, Outputs, outRestored, strconv.FormatBool(restored))
	gha.SetOutput(a, Outputs, outTolerated, strconv.Itoa(tolerated))
	gha.SetOutput(a, Outputs, outSnapshots, strings.Join(keys, ","))
	return errors.Join(errs...)
}

// rollBack finds o.env's snapshot, plans the rollback to it, shows the
// plan and, unless it stops at the plan, applies it and checks the result.
func rollBack(ctx context.Context, a *githubactions.Action, d rollout.Deps, r Rollout, req request, o *outcome) error {
	ref, err := findSnapshot(ctx, req.store, o.env, req.snapshot)
	if err != nil {
		return err
	}
	o.ref = ref
	snap, err := store.ReadSnapshot(ctx, req.store, ref)
	if err != nil {
		return err
	}
	a.Infof("environment %s: rolling back to snapshot %s, taken %s", o.env, ref.Key, ref.TakenAt.UTC().Format("2006-01-02 15:04:05 MST"))
	p, err := r.PlanRollback(ctx, d, req.store, ref)
	if err != nil {
		return fmt.Errorf("plan the rollback to %s: %w", ref.Key, err)
	}
	o.plan = p
	a.Infof("%s", p.String())
	a.AddStepSummary(gha.PlanSummary("Rollback of "+o.env+" to "+ref.Key, p))

	gated := slices.ContainsFunc(p.Environments, func(e rollout.EnvironmentPlan) bool { return e.GitOpsOnly })
	switch {
	case req.planOnly:
		o.state = statePlanned
		a.Noticef("environment %s: rollback planned, not applied (plan-only); plan digest %s", o.env, p.Digest)
		return nil
	case gated && !slices.Contains(req.approved, p.Digest):
		o.state = stateAwaiting
		a.Noticef("environment %s is GitOps-only: approve the rollback plan's digest %s and run again with approved-digest", o.env, p.Digest)
		return nil
	}

	res, err := r.Apply(ctx, d, p, rollout.WithApproval(p.Digest), rollout.WithRecords(rollout.Records{Store: req.store, Owner: req.owner}))
	if err == nil {
		err = res.Err()
	}
	if err != nil {
		return fmt.Errorf("apply the rollback to %s: %w", ref.Key, err)
	}
	o.state = stateApplied
	if o.check, err = r.Compare(ctx, d, snap); err != nil {
		return fmt.Errorf("compare with snapshot %s: %w", ref.Key, err)
	}
	o.restored = len(o.check.Differences) == 0
	for _, t := range o.check.Tolerated {
		a.Infof("environment %s: tolerated: %s", o.env, t)
	}
	if !o.restored {
		return fmt.Errorf("not restored: after the rollback, %d differences from snapshot %s remain: %s",
			len(o.check.Differences), ref.Key, strings.Join(o.check.Differences, "; "))
	}
	return nil
}

// findSnapshot returns env's snapshot that want names: Latest (the
// newest), Previous (the one before), a key ("snapshots/<env>/<time>-<digest>.json"), or the key's
// file name with or without ".json".
func findSnapshot(ctx context.Context, st store.Store, env, want string) (store.SnapshotRef, error) {
	refs, err := store.ListSnapshots(ctx, st, env)
	if err != nil {
		return store.SnapshotRef{}, err
	}
	if len(refs) == 0 {
		return store.SnapshotRef{}, fmt.Errorf("%s: the store holds no snapshot of environment %s (one is written before every apply with records)", inSnapshot, env)
	}
	switch want {
	case Latest:
		return refs[len(refs)-1], nil
	case Previous:
		if len(refs) < 2 {
			return store.SnapshotRef{}, fmt.Errorf("%s: environment %s has one snapshot, %s, and none before it", inSnapshot, env, refs[0].Key)
		}
		return refs[len(refs)-2], nil
	}
	for _, r := range refs {
		base := r.Key[strings.LastIndex(r.Key, "/")+1:]
		if want == r.Key || want == base || want+".json" == base {
			return r, nil
		}
	}
	return store.SnapshotRef{}, fmt.Errorf("%s: environment %s has no snapshot %q (it has %d; the newest is %s)", inSnapshot, env, want, len(refs), refs[len(refs)-1].Key)
}

// readRequest checks the inputs before anything is sent.
func readRequest(a *githubactions.Action, in gha.Values, req *request) error {
	req.token = in.Get(inToken)
	req.snapshot = in.Get(inSnapshot)
	req.owner = "github-actions: org/platform/actions/rollback"
	if actor := in.Get(inActor); actor != "" {
		req.owner = "github:" + actor + " via org/platform/actions/rollback"
	}
	var errs []error
	names, err := gha.Environments(in.Get(inEnvironments), true) // rolled back to the snapshots' specs: any name
	errs = append(errs, err)
	req.names = names
	if req.snapshot != Latest && req.snapshot != Previous && len(names) > 1 {
		errs = append(errs, fmt.Errorf("%s: %q names one environment's snapshot; give one environment, or %q or %q (got %s)", inSnapshot, req.snapshot, Latest, Previous, strings.Join(names, ", ")))
	}
	for _, d := range strings.Split(in.Get(inApproved), ",") {
		if d = strings.TrimSpace(d); d == "" {
			continue
		}
		errs = append(errs, gha.Digest(inApproved, d))
		req.approved = append(req.approved, d)
	}
	switch v := in.Get(inPlanOnly); v {
	case "true":
		req.planOnly = true
	case "false":
	default:
		errs = append(errs, fmt.Errorf("%s: %q; want true or false", inPlanOnly, v))
	}
	st, err := openStore(a, in)
	errs = append(errs, err)
	req.store = st
	return errors.Join(errs...)
}

// openStore opens the store input: s3://<endpoint>/<bucket>[/<prefix>/]
// with the key inputs, or else a local directory (relative to the
// workspace), as records.Parse reads them. It sends no request.
func openStore(a *githubactions.Action, in gha.Values) (store.Store, error) {
	loc, err := records.Parse(a, in)
	if err != nil {
		return nil, err
	}
	if err := loc.Keys(); err != nil {
		return nil, err
	}
	return loc.Open()
}

// resultTable is the step summary's result of the rollback: per
// environment, the snapshot, the plan digest, what happened, and whether
// it was restored with how many tolerated differences.
func resultTable(outs []*outcome) string {
	var b strings.Builder
	b.WriteString("## Rollback result\n\n")
	b.WriteString("| Environment | Snapshot | Plan digest | Outcome | Restored | Tolerated differences |\n")
	b.WriteString("|---|---|---|---|---|---:|\n")
	for _, o := range outs {
		outcome := o.state
		if o.err != nil {
			outcome = "failed: " + strings.NewReplacer("|", `\|`, "\n", " ").Replace(o.err.Error())
		}
		restored := "no"
		if o.restored {
			restored = "yes"
		}
		digest := ""
		if o.plan.Digest != "" {
			digest = "`" + o.plan.Digest[:min(12, len(o.plan.Digest))] + "`"
		}
		key := ""
		if o.ref.Key != "" {
			key = "`" + o.ref.Key + "`"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %d |\n", o.env, key, digest, outcome, restored, len(o.check.Tolerated))
	}
	for _, o := range outs {
		if len(o.check.Tolerated) == 0 && len(o.check.Differences) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n### %s compared with its snapshot\n\n", o.env)
		for _, t := range o.check.Tolerated {
			fmt.Fprintf(&b, "- tolerated: %s\n", t)
		}
		for _, d := range o.check.Differences {
			fmt.Fprintf(&b, "- **differs**: %s\n", d)
		}
	}
	return b.String()
}
