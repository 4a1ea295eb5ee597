package rollout

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes"

	"github.com/org/platform/internal/helmrelease"
	"github.com/org/platform/internal/kubeobjects"
	"github.com/org/platform/internal/poll"
	"github.com/org/platform/internal/reconcile"
	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/cluster"
	"github.com/org/platform/pkg/gitops"
	"github.com/org/platform/pkg/network"
	"github.com/org/platform/pkg/secrets"
	"github.com/org/platform/pkg/spec"
)

// ErrStale means a saved plan was decided on a world that has moved since:
// Apply refuses it (see StaleError).
var ErrStale = errors.New("stale plan")

// StaleError names what moved under a saved plan.
type StaleError struct {
	Environment string
	// Moved lists each observed value that differs: "key: from → to".
	Moved []string
}

func (e *StaleError) Error() string {
	return fmt.Sprintf("environment %q: the plan is stale, the world moved since it was made: %s", e.Environment, strings.Join(e.Moved, "; "))
}

func (e *StaleError) Unwrap() error { return ErrStale }

// ApplyOption changes how Apply and Ensure behave.
type ApplyOption func(*applyOptions)

type applyOptions struct {
	approval       string
	simulation     bool
	maxRounds      int
	skipStaleCheck bool
	records        *Records
}

// WithApproval passes the approval of a GitOps-only environment's plan:
// the plan Digest that the approver reviewed. The SDK checks the digest;
// the authority that grants it is the workflow's protected environment
// with its required reviewers (spec gitops.requiredApprovals documents that
// setting: the SDK does not count reviewers).
func WithApproval(digest string) ApplyOption {
	return func(o *applyOptions) { o.approval = digest }
}

// WithSimulationSelfApproval lets Ensure approve its own plan of a
// GitOps-only environment. It is for simulations only — the example
// programs on the in-process simulator — and says so in its name: against
// a real account, approve a saved plan with WithApproval instead.
func WithSimulationSelfApproval() ApplyOption {
	return func(o *applyOptions) { o.simulation = true }
}

// WithMaxRounds bounds Ensure's plan → apply rounds per environment.
// Default 5.
func WithMaxRounds(n int) ApplyOption {
	return func(o *applyOptions) { o.maxRounds = n }
}

func newApplyOptions(opts []ApplyOption) applyOptions {
	o := applyOptions{maxRounds: 5}
	for _, f := range opts {
		f(&o)
	}
	if o.maxRounds < 1 {
		o.maxRounds = 1
	}
	return o
}

// Result is what Apply or Ensure did, per environment.
type Result struct {
	Environments []EnvironmentResult `json:"environments"`
}

// EnvironmentResult is what happened to one environment: the changes that
// took effect and, if it failed, why. One environment's failure stops none
// of the others.
type EnvironmentResult struct {
	Name string `json:"name"`
	change.Result
	// ClusterID is the environment's LKE cluster, 0 if there is none.
	ClusterID int `json:"clusterID"`
	// Err is why the environment did not converge; nil when it did.
	Err error `json:"-"`
	// Error is Err's text, for JSON.
	Error string `json:"error,omitempty"`
}

// Err returns the environments' errors joined, each naming its
// environment; nil when every environment succeeded.
func (r Result) Err() error {
	var errs []error
	for _, e := range r.Environments {
		if e.Err != nil {
			errs = append(errs, &EnvironmentError{Environment: e.Name, Err: e.Err})
		}
	}
	return errors.Join(errs...)
}

// Result lists every environment's changes.
func (r Result) Result() change.Result {
	var out change.Result
	for _, e := range r.Environments {
		out.Merge(e.Result)
	}
	return out
}

// Environment returns the result of environment name.
func (r Result) Environment(name string) (EnvironmentResult, bool) {
	for _, e := range r.Environments {
		if e.Name == name {
			return e, true
		}
	}
	return EnvironmentResult{}, false
}

// Apply executes exactly the steps of a saved plan, and nothing else,
// environment by environment, concurrently. Before the first write it
// refuses, with 0 writes:
//
//   - a plan that is not intact (another schema version, a digest that does
//     not match its steps or specs: altered after it was written);
//   - a GitOps-only environment without an approval equal to plan.Digest
//     (change.ErrApprovalRequired);
//   - a stale plan: the world moved since the plan was made (ErrStale,
//     naming what moved). Apply observes again for this, the same reads
//     as Plan.
//
// Values a step needs from an earlier one (a new firewall's id) are filled
// in as they become known. Waiting for a new or changed cluster to be
// ready, and reading its kubeconfig for the Kubernetes steps, are reads.
// The Result lists, per environment, what took effect; an environment that
// fails stops none of the others, and the returned error names each one
// that failed.
func Apply(ctx context.Context, deps Deps, plan Artifact, opts ...ApplyOption) (Result, error) {
	d, err := deps.withDefaults()
	if err != nil {
		return Result{}, err
	}
	o := newApplyOptions(opts)
	if err := Verify(plan); err != nil {
		return Result{}, err
	}
	specs := make([]spec.Environment, len(plan.Environments))
	for i, e := range plan.Environments {
		specs[i] = e.Spec
	}
	d = d.withFleet(specs)
	var refused []error
	for _, e := range plan.Environments {
		if e.GitOpsOnly && o.approval != plan.Digest {
			refused = append(refused, &EnvironmentError{Environment: e.Name, Err: fmt.Errorf(
				"GitOps-only: the plan needs an approval of digest %s: %w", plan.Digest, change.ErrApprovalRequired)})
		}
	}
	if err := errors.Join(refused...); err != nil {
		return Result{}, err
	}
	// Locks first, in name order (two runs over several environments never
	// wait on each other in a circle), so that nothing moves between the
	// staleness check and the writes.
	recs, err := o.beginAll(ctx, d, plan)
	if err != nil {
		return Result{}, err
	}
	if !o.skipStaleCheck {
		if err := checkStale(ctx, d, plan); err != nil {
			for _, e := range plan.Environments {
				err = errors.Join(err, recs[e.Name].end(ctx, e.Name, change.Result{}, err))
			}
			return Result{}, err
		}
	}
	res := Result{Environments: make([]EnvironmentResult, len(plan.Environments))}
	var wg sync.WaitGroup
	for i, e := range plan.Environments {
		wg.Go(func() {
			r := EnvironmentResult{Name: e.Name}
			start := d.Clock.Now()
			a := newEnvApplier(d, e)
			done, err := reconcile.Apply(ctx, change.Plan{Steps: e.Steps}, a.out, a.step)
			if err == nil {
				err = a.finish(ctx)
			}
			err = errors.Join(err, recs[e.Name].end(ctx, e.Name, done, err))
			r.Result, r.ClusterID = done, a.clusterID()
			r.Elapsed = d.Clock.Now().Sub(start)
			r.Retained = e.Retained
			r.setErr(err)
			res.Environments[i] = r
		})
	}
	wg.Wait()
	return res, res.Err()
}

// beginAll takes the lock and snapshot of every environment of plan, in
// name order; when one cannot be taken, those taken are released.
func (o applyOptions) beginAll(ctx context.Context, d Deps, plan Artifact) (map[string]*recorder, error) {
	recs := map[string]*recorder{}
	if o.records == nil {
		return recs, nil
	}
	names := plan.Names()
	slices.Sort(names)
	for _, name := range names {
		e, _ := plan.Environment(name)
		rec, err := o.begin(ctx, d, e, plan.Digest)
		if err != nil {
			for n, r := range recs {
				err = errors.Join(err, r.end(ctx, n, change.Result{}, fmt.Errorf("not applied: %w", err)))
			}
			return nil, err
		}
		recs[name] = rec
	}
	return recs, nil
}

func (r *EnvironmentResult) setErr(err error) {
	r.Err = err
	if err != nil {
		r.Error = err.Error()
	}
}

// checkStale observes the plan's environments again and compares, per
// environment, the base a fresh plan is decided on with the saved one.
func checkStale(ctx context.Context, d Deps, plan Artifact) error {
	d, err := d.withRestoreOf(plan) // a rollback's releases: rollback.go
	if err != nil {
		return err
	}
	envs := make([]spec.Environment, len(plan.Environments))
	for i, e := range plan.Environments {
		envs[i] = e.Spec
	}
	fresh, errs := planAll(ctx, d, envs)
	var out []error
	for i, e := range plan.Environments {
		if errs[i] != nil {
			out = append(out, &EnvironmentError{Environment: e.Name, Err: fmt.Errorf("check the plan is current: %w", errs[i])})
			continue
		}
		saved := change.Plan{Base: e.Base}
		if moved := saved.Moved(fresh[i].Base); len(moved) > 0 {
			out = append(out, &StaleError{Environment: e.Name, Moved: moved})
		}
	}
	return errors.Join(out...)
}

// Ensure makes every environment match its spec: Plan, then Apply, then
// plan again from fresh reads until a plan is empty, per environment, with
// the environments concurrent and isolated (one's failure stops none of the
// others). A step that fails transiently, or a create whose response was
// lost, is settled by the next round's reads, as every concern's Ensure
// does. GitOps-only environments are refused (change.ErrGitOpsOnly) unless
// WithSimulationSelfApproval is given: their changes go through a saved,
// approved plan. A second Ensure with the same specs sends no write.
func Ensure(ctx context.Context, deps Deps, envs []spec.Environment, opts ...ApplyOption) (Result, error) {
	d, err := deps.withDefaults()
	if err != nil {
		return Result{}, err
	}
	o := newApplyOptions(opts)
	if err := validate(d, envs); err != nil {
		return Result{}, err
	}
	d = d.withFleet(envs)
	first, errs := planAll(ctx, d, envs)
	res := Result{Environments: make([]EnvironmentResult, len(envs))}
	var wg sync.WaitGroup
	for i, env := range envs {
		res.Environments[i] = EnvironmentResult{Name: env.Name}
		if errs[i] != nil {
			res.Environments[i].setErr(errs[i])
			continue
		}
		if first[i].GitOpsOnly && len(first[i].Steps) > 0 && !o.simulation {
			res.Environments[i].setErr(fmt.Errorf("changes need an approved plan (Plan, then Apply WithApproval): %w", change.ErrGitOpsOnly))
			continue
		}
		wg.Go(func() {
			rec, err := o.begin(ctx, d, first[i], "")
			if err != nil {
				res.Environments[i].setErr(err)
				return
			}
			r := ensureEnvironment(ctx, d, o, env, first[i])
			if err := rec.end(ctx, env.Name, r.Result, r.Err); err != nil {
				r.setErr(errors.Join(r.Err, err))
			}
			res.Environments[i] = r
		})
	}
	wg.Wait()
	return res, res.Err()
}

// ensureEnvironment converges one environment, starting from its plan.
func ensureEnvironment(ctx context.Context, d Deps, o applyOptions, env spec.Environment, first EnvironmentPlan) EnvironmentResult {
	r := EnvironmentResult{Name: env.Name}
	a := newEnvApplier(d, first)
	latest := first
	rounds := 0
	planFn := func(ctx context.Context) (change.Plan, error) {
		rounds++
		if rounds > 1 {
			api := d.linodeFor(env.Name)
			obs, err := observe(ctx, d, api, []spec.Environment{env})
			if err != nil {
				return change.Plan{}, err
			}
			if latest, err = planEnvironment(ctx, d, api, obs, env); err != nil {
				return change.Plan{}, err
			}
			a.plan = latest
		}
		return change.Plan{Steps: latest.Steps, Base: latest.Base, Retained: latest.Retained}, nil
	}
	cres, err := reconcile.Converge(ctx, reconcile.Options{
		Clock: d.Clock, Log: d.Logger.With(zap.String("environment", env.Name)), MaxRounds: o.maxRounds,
		Pause: time.Second, MaxPause: 30 * time.Second, Transient: transient,
	}, planFn, a.step, a.out)
	if err == nil {
		err = a.finish(ctx)
	}
	r.Result, r.ClusterID = cres, a.clusterID()
	if r.ClusterID == 0 && latest.ClusterID.Ref == nil {
		r.ClusterID = latest.ClusterID.Value
	}
	r.setErr(err)
	return r
}

// transient classifies step errors for another round: the Linode API's
// transient answers and requests that got none (internal/poll), which the
// client's own retries (pkg/linodeclient) gave up on. Kubernetes steps
// retry transient errors themselves, within their bounded time.
func transient(err error) (bool, time.Duration) {
	if t, after := poll.Transient(err); t {
		return true, after
	}
	return false, 0
}

// envApplier carries out one environment's steps, handing each to the
// package that planned it, and builds the Kubernetes client once the
// cluster is ready.
type envApplier struct {
	d       Deps
	plan    EnvironmentPlan
	api     LinodeAPI
	out     *change.Outputs
	kube    kubernetes.Interface
	kc      []byte // the kubeconfig kube was built from
	helm    genericclioptions.RESTClientGetter
	sec     *secrets.Clients  // pkg/secrets' clients, built from helm's configuration
	cert    *x509.Certificate // the sealing certificate, fetched by the first seal step
	lke     bool              // a cluster step ran: wait for readiness before finishing
	readyID int
}

func newEnvApplier(d Deps, e EnvironmentPlan) *envApplier {
	return &envApplier{d: d, plan: e, api: d.linodeFor(e.Name), out: &change.Outputs{}}
}

func (a *envApplier) step(ctx context.Context, s change.Step, out *change.Outputs) error {
	env := a.plan.Name
	switch kind := s.Kind; {
	case strings.HasPrefix(kind, "firewall."):
		return network.ApplyFirewallStep(ctx, a.api, s, out, a.d.networkOpts(env)...)
	case strings.HasPrefix(kind, "vpc."):
		return network.ApplyVPCStep(ctx, a.api, s, out, a.d.networkOpts(env)...)
	case strings.HasPrefix(kind, "lke."):
		a.lke = true
		return cluster.ApplyStep(ctx, a.api, s, out, a.d.clusterOpts(env)...)
	case strings.HasPrefix(kind, "k8s."):
		kube, err := a.kubernetes(ctx)
		if err != nil {
			return err
		}
		return network.ApplyKubernetesStep(ctx, kube, s, out, a.d.networkOpts(env)...)
	case kind == helmrelease.StepRelease:
		helm, err := a.helmClient(ctx)
		if err != nil {
			return err
		}
		return helmrelease.ApplyStep(ctx, helm, s, out, a.d.helmOpts(env, s.Layer)...)
	case strings.HasPrefix(kind, "gitops."):
		kube, err := a.kubernetes(ctx)
		if err != nil {
			return err
		}
		return gitops.ApplyStep(ctx, kube, fleetClusters{d: a.d}, s, gitops.WithLogger(a.d.logger(env)))
	case strings.HasPrefix(kind, "sealedsecret.") || strings.HasPrefix(kind, "secrets."):
		return a.secretsStep(ctx, s, out)
	case kind == kubeobjects.StepApply:
		helm, err := a.helmClient(ctx)
		if err != nil {
			return err
		}
		return kubeobjects.ApplyStep(ctx, helm, s, kubeobjects.Options{Env: env, Layer: s.Layer})
	}
	return fmt.Errorf("apply %s: no package applies steps of kind %q", s.ID, s.Kind)
}

// clusterID resolves the environment's cluster id, known or made by a step.
func (a *envApplier) clusterID() int {
	id := a.plan.ClusterID
	if id.Ref == nil {
		return id.Value
	}
	v, ok := a.out.Get(*id.Ref)
	if !ok {
		return 0
	}
	var n int
	if json.Unmarshal(v, &n) != nil {
		return 0
	}
	return n
}

// ready waits until the cluster is ready, once.
func (a *envApplier) ready(ctx context.Context) (int, error) {
	id := a.clusterID()
	if id == 0 {
		return 0, fmt.Errorf("the cluster of environment %q does not exist (its create step did not run)", a.plan.Name)
	}
	if a.readyID == id {
		return id, nil
	}
	if err := cluster.WaitReady(ctx, a.api, id, a.d.clusterOpts(a.plan.Name)...); err != nil {
		return 0, err
	}
	a.readyID = id
	return id, nil
}

// kubernetes returns the cluster's Kubernetes client, waiting for the
// cluster first.
func (a *envApplier) kubernetes(ctx context.Context) (kubernetes.Interface, error) {
	if a.kube != nil {
		return a.kube, nil
	}
	if a.d.KubernetesSkipped != "" {
		return nil, fmt.Errorf("the plan has Kubernetes steps but the Kubernetes layer is skipped: %s", a.d.KubernetesSkipped)
	}
	id, err := a.ready(ctx)
	if err != nil {
		return nil, err
	}
	kube, kc, err := kubeClient(ctx, a.d, a.api, a.plan.Name, id)
	if err != nil {
		return nil, err
	}
	a.kube, a.kc = kube, kc
	return kube, nil
}

// helmClient returns the client of the Helm release and object steps,
// built from the same kubeconfig as the Kubernetes client.
func (a *envApplier) helmClient(ctx context.Context) (genericclioptions.RESTClientGetter, error) {
	if a.helm != nil {
		return a.helm, nil
	}
	if _, err := a.kubernetes(ctx); err != nil {
		return nil, err
	}
	h, err := a.d.Helm(ctx, a.plan.Name, a.kc)
	if err != nil {
		return nil, err
	}
	a.helm = h
	return h, nil
}

// finish waits for a cluster that a step created or changed to be ready.
func (a *envApplier) finish(ctx context.Context) error {
	if !a.lke {
		return nil
	}
	_, err := a.ready(ctx)
	return err
}

// secretsStep hands a step of pkg/secrets to secrets.ApplyStep; a
// sealedsecret.seal step is given the Source and the sealing certificate,
// fetched now, when the controller its plan was made before runs.
func (a *envApplier) secretsStep(ctx context.Context, s change.Step, out *change.Outputs) error {
	if a.sec == nil {
		helm, err := a.helmClient(ctx)
		if err != nil {
			return err
		}
		c, err := secretsClients(helm)
		if err != nil {
			return err
		}
		a.sec = &c
	}
	opts := []secrets.Option{secrets.WithLogger(a.d.logger(a.plan.Name))}
	if s.Kind == secrets.StepSealedSecretSeal {
		if a.d.Secrets.Source == nil {
			return fmt.Errorf("apply %s: it seals when applied, and Deps.Secrets.Source is not set", s.ID)
		}
		if a.cert == nil {
			cert, err := a.d.sealingCert(ctx, a.plan.Spec, a.sec.Core)
			if err != nil {
				return fmt.Errorf("apply %s: %w", s.ID, err)
			}
			a.cert = cert
		}
		opts = append(opts, secrets.WithSource(a.d.Secrets.Source), secrets.WithCert(a.cert))
	}
	return secrets.ApplyStep(ctx, *a.sec, s, out, opts...)
}
