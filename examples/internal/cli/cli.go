// Package cli is the shared body of the example programs: connect
// (internal/local: the Linode API with LINODE_TOKEN, else the in-process
// simulator), plan the environments in one rollout.Plan and print it, apply
// exactly that plan, print what each environment got, then plan again to
// show that nothing is left to do and what that fresh plan cost.
//
// A GitOps-only environment (production) is changed only through an
// approved plan. On the simulator the program approves its own plan, saying
// so, because -approve-simulation defaults to true there; with
// -approve-simulation=false it prints the plan and applies nothing. On the
// real Linode API -approve-simulation defaults to false, passing it is
// refused, and a plan with GitOps-only changes is printed, not applied:
// its digest is approved and applied in the workflow.
//
// With -records DIR, applies keep their records in a local directory store
// (pkg/store): the environment's lock, a snapshot before each change and
// an audit record of each apply; the program lists the last audit records
// at the end. With -rollback KEY as well (a snapshot key, as
// store.ListSnapshots returns it, of the program's one environment), the
// program plans the rollback to that snapshot (rollout.PlanRollback)
// instead of the standard spec, and prints, approves and applies it as
// any plan.
//
// Exit codes: 0 when the run did what it says, 1 on any error. Every error
// names the environments of the program. Logs go to stderr, the report to
// stdout.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/org/platform/internal/local"
	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/rollout"
	"github.com/org/platform/pkg/spec"
	"github.com/org/platform/pkg/store"
)

// Program is one example program: the standard environments it rolls out
// together.
type Program struct {
	// Environments are the names of the standard environments (spec.Default).
	Environments []string
	// AfterRun, when set, is called at the end of a run that returns 0,
	// before the connection closes, with what the run was on. The examples'
	// tests use it to plan again on the same simulator.
	AfterRun func(ctx context.Context, env *local.Env)
}

// Run runs the program with the command-line arguments args (without the
// program name) and returns its exit code.
func (p Program) Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	label := strings.Join(p.Environments, ", ")
	fs := flag.NewFlagSet(label, flag.ContinueOnError)
	fs.SetOutput(stderr)
	approve := fs.Bool("approve-simulation", false,
		"approve this run's own plan of a GitOps-only environment (production); default true on the simulator, refused on the real Linode API")
	records := fs.String("records", "", "keep the lock, snapshots and audit records in this directory (a local store), and list the last audit records")
	rollback := fs.String("rollback", "", "roll the environment back to this snapshot key of the -records store instead of applying its standard spec")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 1 // the flag package has said what is wrong
	}
	approveSet := false
	fs.Visit(func(f *flag.Flag) { approveSet = approveSet || f.Name == "approve-simulation" })

	log := newLogger(stderr)
	defer func() { _ = log.Sync() }()
	r := &runner{out: stdout, records: *records, rollback: *rollback}
	err := r.run(ctx, p, log, *approve, approveSet)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", label, err)
		return 1
	}
	return 0
}

// newLogger logs human-readable lines at info level to w.
func newLogger(w io.Writer) *zap.Logger {
	enc := zap.NewDevelopmentEncoderConfig()
	core := zapcore.NewCore(zapcore.NewConsoleEncoder(enc), zapcore.Lock(zapcore.AddSync(w)), zap.InfoLevel)
	return zap.New(core)
}

type runner struct {
	out      io.Writer
	records  string // -records: the local store's directory
	rollback string // -rollback: the snapshot key
}

func (r *runner) printf(format string, args ...any) { fmt.Fprintf(r.out, format, args...) }

func (r *runner) run(ctx context.Context, p Program, log *zap.Logger, approve, approveSet bool) error {
	if len(p.Environments) == 0 {
		return errors.New("no environment to roll out")
	}
	envs := make([]spec.Environment, len(p.Environments))
	for i, name := range p.Environments {
		var err error
		if envs[i], err = spec.Default(name); err != nil {
			return fmt.Errorf("load the standard spec: %w", err)
		}
	}

	e, err := local.Connect(ctx, log)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer e.Close()
	if !approveSet {
		approve = e.Simulated
	}
	if approve && !e.Simulated {
		return fmt.Errorf("-approve-simulation is refused on %s: a GitOps-only environment there is changed only by applying a plan whose digest the workflow's reviewers approved (rollout.WithApproval)", e.Where)
	}

	var st store.Store
	var opts []rollout.ApplyOption
	if r.records != "" {
		if st, err = store.NewLocal(r.records); err != nil {
			return fmt.Errorf("open the records store: %w", err)
		}
		opts = append(opts, rollout.WithRecords(rollout.Records{Store: st, Owner: "examples/" + strings.Join(p.Environments, ",")}))
		defer r.audit(ctx, st)
	}
	if r.rollback != "" && (st == nil || len(envs) != 1) {
		return errors.New("-rollback needs -records and a program of one environment")
	}

	r.printf("Rolling out %s on %s.\n", strings.Join(p.Environments, ", "), e.Where)
	if e.Deps.KubernetesSkipped != "" {
		r.printf("Kubernetes layer skipped: %s.\n", e.Deps.KubernetesSkipped)
	}
	r.printf("\n")

	var plan rollout.Artifact
	if r.rollback != "" {
		r.printf("Rolling back to snapshot %s.\n", r.rollback)
		plan, err = rollout.PlanRollback(ctx, e.Deps, st, store.SnapshotRef{Key: r.rollback, Environment: envs[0].Name})
	} else {
		plan, err = rollout.Plan(ctx, e.Deps, envs...)
	}
	if err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	for i, ep := range plan.Environments {
		envs[i] = ep.Spec // a rollback's spec: the fresh plan below checks it
	}
	if err := plan.Human(r.out); err != nil {
		return fmt.Errorf("print the plan: %w", err)
	}
	r.printf("\n")
	if plan.Empty() {
		r.printf("Nothing to apply.\n")
		r.cost("The plan", e, tally{})
		return after(ctx, p, e)
	}

	if gated := gitOpsChanges(plan); len(gated) > 0 {
		if !approve {
			r.printf("Not applied: %s is GitOps-only; its changes go through a saved plan whose digest %s is approved in the workflow.\n",
				strings.Join(gated, ", "), plan.Digest)
			if e.Simulated {
				r.printf("On the simulator, -approve-simulation (the default there) lets this program approve its own plan.\n")
			}
			return after(ctx, p, e)
		}
		r.printf("%s is GitOps-only: this program approves its own plan %s because the run is a simulation (-approve-simulation).\n",
			strings.Join(gated, ", "), plan.Digest)
		opts = append(opts, rollout.WithApproval(plan.Digest))
	}

	res, err := rollout.Apply(ctx, e.Deps, plan, opts...)
	for _, er := range res.Environments {
		r.result(e, er)
	}
	if err != nil {
		return fmt.Errorf("apply: %w", err)
	}

	r.printf("\n")
	before := counts(e)
	fresh, err := rollout.Plan(ctx, e.Deps, envs...)
	if err != nil {
		return fmt.Errorf("plan again after applying: %w", err)
	}
	if !fresh.Empty() {
		_ = fresh.Human(r.out)
		return fmt.Errorf("a fresh plan after applying is not empty: %s", fresh.Summary())
	}
	r.printf("A fresh plan is empty: %s.\n", fresh.Summary())
	r.cost("It", e, before)
	return after(ctx, p, e)
}

// audit lists the last audit records of the store.
func (r *runner) audit(ctx context.Context, st store.Store) {
	recs, err := store.ListAudit(ctx, st)
	if err != nil {
		r.printf("\nAudit log: %v\n", err)
		return
	}
	r.printf("\nAudit log (last %d of %d):\n", min(5, len(recs)), len(recs))
	for _, a := range recs[max(0, len(recs)-5):] {
		digest := a.PlanDigest
		if len(digest) > 12 {
			digest = digest[:12]
		}
		r.printf("  %s  %s  %s  %s  plan %s, %d changes\n", a.When.UTC().Format(time.RFC3339), a.Who, strings.Join(a.Environments, ","), a.Result, digest, len(a.Changes))
	}
}

func after(ctx context.Context, p Program, e *local.Env) error {
	if p.AfterRun != nil {
		p.AfterRun(ctx, e)
	}
	return nil
}

// gitOpsChanges names the GitOps-only environments the plan changes.
func gitOpsChanges(p rollout.Artifact) []string {
	var out []string
	for _, ep := range p.Environments {
		if ep.GitOpsOnly && len(ep.Steps) > 0 {
			out = append(out, ep.Name)
		}
	}
	return out
}

// Layers are the layers a run's summary names, in apply order.
var Layers = []change.Layer{change.LayerLinode, change.LayerKubernetes, change.LayerSecrets,
	change.LayerHelm, change.LayerObservability, change.LayerGitOps}

// result prints what one environment got: per layer, the changes that took
// effect; its cluster; the time it took and on which clock.
func (r *runner) result(e *local.Env, er rollout.EnvironmentResult) {
	status := "applied"
	if er.Err != nil {
		status = "failed"
	}
	r.printf("%s: %s in %s of %s time, cluster %d\n", er.Name, status, er.Elapsed.Round(timeUnit(e)), e.Clock, er.ClusterID)
	for _, layer := range Layers {
		if e.Deps.KubernetesSkipped != "" {
			switch layer {
			case change.LayerKubernetes:
				r.printf("  %s: skipped, %s\n", layer, e.Deps.KubernetesSkipped)
				continue
			case change.LayerLinode:
			default:
				r.printf("  %s: rendered only (the plan shows what would be installed)\n", layer)
				continue
			}
		}
		var n [4]int
		for _, c := range er.Changes {
			if c.Layer != layer {
				continue
			}
			switch c.Op {
			case change.Create:
				n[0]++
			case change.Update:
				n[1]++
			case change.Replace:
				n[2]++
			case change.Delete:
				n[3]++
			}
		}
		r.printf("  %s: %d created, %d updated, %d replaced, %d deleted\n", layer, n[0], n[1], n[2], n[3])
	}
	if er.Err != nil {
		r.printf("  error: %v\n", er.Err)
	}
}

// timeUnit rounds model times, which run in minutes, to the second, and
// wall times to the tenth of a second.
func timeUnit(e *local.Env) time.Duration {
	if e.Clock == local.ModelClock {
		return time.Second
	}
	return time.Second / 10
}

// tally is a snapshot of the request counters.
type tally struct{ linodeReq, linodeWrites, kubeReq, kubeWrites int64 }

func counts(e *local.Env) tally {
	return tally{e.Linode.Requests(), e.Linode.Writes(), e.Kubernetes.Requests(), e.Kubernetes.Writes()}
}

// cost prints the requests sent since before.
func (r *runner) cost(what string, e *local.Env, before tally) {
	now := counts(e)
	r.printf("%s cost %d Linode requests (%d writes)", what, now.linodeReq-before.linodeReq, now.linodeWrites-before.linodeWrites)
	if e.Deps.KubernetesSkipped == "" {
		r.printf(" and %d Kubernetes requests (%d writes; server-side dry-runs are not writes)", now.kubeReq-before.kubeReq, now.kubeWrites-before.kubeWrites)
	}
	r.printf(".\n")
}
