package helmrelease

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/release"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/org/platform/internal/reconcile"
	"github.com/org/platform/pkg/change"
)

// ErrStalePlan is wrapped by ApplyStep's refusal of a step whose chart
// renders differently now than when it was planned.
var ErrStalePlan = errors.New("plan is stale")

// Result is what Ensure did: the changes that took effect, and the
// revision the run made (0 when it made none).
type Result struct {
	change.Result
	Revision int `json:"revision,omitempty"`
}

// ApplyStep carries out one StepRelease step: helm upgrade --install of
// exactly the step's chart version with exactly its values (Helm's
// action.Install when the release does not exist, else action.Upgrade
// with ResetValues, so that nothing of the deployed values is reused).
// A step of another kind is an error.
//
// Before it writes, it renders the chart again and refuses the step, with
// an error wrapping ErrStalePlan, when the manifest's digest differs from
// the plan's (the chart, the values, the cluster's capabilities or the
// release's revision moved since). Sensitive values come from
// WithSensitiveResolver and must match the plan's fingerprints.
//
// The install or upgrade is atomic (Helm's Atomic: it waits up to
// WithTimeout for the objects to be ready, and on failure an upgrade is
// rolled back to the previous revision, an install uninstalled); history
// is bounded by WithMaxHistory.
//
// Unlock rule: when the release's last revision is pending-install,
// pending-upgrade or pending-rollback and started more than WithStaleAfter
// ago (its operation died: Helm never leaves pending on its own), it is
// unlocked first: rolled back to the last deployed (or superseded)
// revision, or, when no revision was ever deployed, uninstalled. These
// writes are bookkeeping of the step, which lists them as its "status"
// change. A younger pending revision is an error wrapping ErrPending.
//
// A step of PlanNew (Action.KubeVersion set) is rendered, for the check
// and for the install or upgrade, with the capabilities PlanNew pinned
// (Helm's built-in ones with that Kubernetes version) instead of the
// cluster's, so a plan made before the cluster existed is not stale
// once it does. The cluster's own version is not compared with the pinned
// one: a chart whose render depends on it shows the difference in the
// next Plan, as a drift-correcting update.
//
// It records the new revision as output "revision".
func ApplyStep(ctx context.Context, kube genericclioptions.RESTClientGetter, step change.Step, out *change.Outputs, opts ...Option) error {
	if step.Kind != StepRelease {
		return fmt.Errorf("plan step %s: kind %q is not a step of internal/helmrelease (%s)", step.ID, step.Kind, StepRelease)
	}
	o, err := newOptions(opts)
	if err != nil {
		return err
	}
	var a Action
	if err := step.Decode(&a); err != nil {
		return err
	}
	rel := Release{Name: a.Release, Namespace: a.Namespace, Chart: a.Chart}
	for _, s := range a.Sensitive {
		rel.Sensitive = append(rel.Sensitive, SensitiveValue{Path: s.Path, Ref: s.Ref})
	}
	values, err := deepCopy(a.Values)
	if err != nil {
		return fmt.Errorf("plan step %s: values: %w", step.ID, err)
	}
	for _, s := range a.Sensitive {
		if o.resolver == nil {
			return fmt.Errorf("plan step %s: sensitive value %s (%s): no resolver (WithSensitiveResolver)", step.ID, s.Path, s.Ref)
		}
		v, err := o.resolver(ctx, s.Ref)
		if err != nil {
			return fmt.Errorf("plan step %s: resolve sensitive value %s (%s): %w", step.ID, s.Path, s.Ref, err)
		}
		fp, err := fingerprint(o.key(a.Namespace, a.Release), v)
		if err != nil {
			return err
		}
		if fp != s.Fingerprint {
			return fmt.Errorf("plan step %s: sensitive value %s (%s) is not the one planned (fingerprint differs): %w", step.ID, s.Path, s.Ref, ErrStalePlan)
		}
		setPath(values, s.Path, v)
	}
	rel.Values = values
	if err := rel.Validate(); err != nil {
		return fmt.Errorf("plan step %s: %w", step.ID, err)
	}
	r, err := newRun(kube, a.Namespace, o)
	if err != nil {
		return err
	}
	if a.KubeVersion != "" {
		caps, err := pinnedCapabilities(a.KubeVersion)
		if err != nil {
			return fmt.Errorf("plan step %s: kubeVersion: %w", step.ID, err)
		}
		r.pin(caps)
	}
	want, err := r.desired(rel)
	if err != nil {
		return err
	}
	if want.digest != a.ValuesDigest {
		return fmt.Errorf("plan step %s: values digest %s is not the plan's %s: %w", step.ID, want.digest, a.ValuesDigest, ErrStalePlan)
	}
	got, err := r.apply(ctx, rel, a)
	if err != nil {
		return fmt.Errorf("plan step %s: %w", step.ID, err)
	}
	if out != nil {
		return out.Set(step.ID, "revision", got.Version)
	}
	return nil
}

// pin makes the run render with caps, and Helm install and upgrade with
// them, instead of the cluster's. The configuration is copied: one given
// by the caller (unit tests) is not changed.
func (r *run) pin(caps *chartutil.Capabilities) {
	cfg := *r.cfg
	cfg.Capabilities = caps
	r.cfg, r.caps = &cfg, caps
}

// apply unlocks a stale pending release, renders again, checks the
// digest, and installs or upgrades.
func (r *run) apply(ctx context.Context, rel Release, a Action) (*release.Release, error) {
	log := r.o.log.With(zap.String("release", rel.Namespace+"/"+rel.Name))
	s, err := r.state(rel.Name)
	if err != nil {
		return nil, err
	}
	unlock, err := r.unlockRule(s)
	if err != nil {
		return nil, err
	}
	ch, err := r.o.loadChart(rel.Chart)
	if err != nil {
		return nil, err
	}
	vals, err := deepCopy(rel.Values)
	if err != nil {
		return nil, err
	}
	revision := nextRevision(s, unlock)
	fresh, err := renderChart(ch, vals, releaseOptions(rel.Name, rel.Namespace, revision), r.caps, r.rc)
	if err != nil {
		return nil, fmt.Errorf("release %s/%s: %w", rel.Namespace, rel.Name, err)
	}
	if fresh.digest != a.ManifestDigest {
		return nil, fmt.Errorf("release %s/%s: the chart renders to manifest %s now (revision %d), the plan's is %s (revision %d): %w",
			rel.Namespace, rel.Name, fresh.digest, revision, a.ManifestDigest, a.Revision, ErrStalePlan)
	}
	if unlock != nil {
		if err := r.unlock(rel, unlock); err != nil {
			return nil, err
		}
	}
	// Helm processes dependencies in place: give it a chart of its own.
	if ch, err = r.o.loadChart(rel.Chart); err != nil {
		return nil, err
	}
	if vals, err = deepCopy(rel.Values); err != nil {
		return nil, err
	}
	var got *release.Release
	if revision == 1 {
		inst := action.NewInstall(r.cfg)
		inst.ReleaseName, inst.Namespace = rel.Name, rel.Namespace
		inst.CreateNamespace = true
		inst.Atomic, inst.Wait, inst.Timeout = true, true, r.o.timeout
		log.Info("installing", zap.String("chart", rel.Chart.String()))
		got, err = inst.RunWithContext(ctx, ch, vals)
		if err != nil {
			return nil, fmt.Errorf("install release %s/%s (chart %s): %w", rel.Namespace, rel.Name, rel.Chart, err)
		}
	} else {
		up := action.NewUpgrade(r.cfg)
		up.Install = true // informative: this is upgrade --install
		up.Namespace = rel.Namespace
		up.ResetValues = true
		up.Atomic, up.Wait, up.Timeout = true, true, r.o.timeout
		up.MaxHistory = r.o.maxHistory
		log.Info("upgrading", zap.String("chart", rel.Chart.String()), zap.Int("revision", revision), zap.Bool("driftCorrection", a.DriftCorrection))
		got, err = up.RunWithContext(ctx, rel.Name, ch, vals)
		if err != nil {
			return nil, fmt.Errorf("upgrade release %s/%s to chart %s: %w", rel.Namespace, rel.Name, rel.Chart, err)
		}
	}
	if d := manifestDigest(got.Manifest); d != a.ManifestDigest {
		// Helm rendered otherwise than this package: the plan's object
		// changes may not be all that changed.
		log.Warn("Helm stored a manifest other than the planned one", zap.String("stored", d), zap.String("planned", a.ManifestDigest))
	}
	return got, nil
}

// unlock carries out the unlock rule (see ApplyStep).
func (r *run) unlock(rel Release, u *Unlock) error {
	log := r.o.log.With(zap.String("release", rel.Namespace+"/"+rel.Name), zap.Int("revision", u.Revision), zap.String("status", string(u.Status)))
	if u.RollbackTo == 0 {
		log.Warn("uninstalling a release stuck pending since it never deployed", zap.Time("since", u.Since))
		un := action.NewUninstall(r.cfg)
		un.Wait, un.Timeout = true, r.o.timeout
		if _, err := un.Run(rel.Name); err != nil {
			return fmt.Errorf("unlock release %s/%s (revision %d %s): uninstall: %w", rel.Namespace, rel.Name, u.Revision, u.Status, err)
		}
		return nil
	}
	log.Warn("rolling back a release stuck pending", zap.Time("since", u.Since), zap.Int("rollbackTo", u.RollbackTo))
	// Mark the stuck revision failed first, so that no revision of the
	// history stays pending (Helm's rollback supersedes deployed ones only).
	stuck, err := r.cfg.Releases.Get(rel.Name, u.Revision)
	if err != nil {
		return fmt.Errorf("unlock release %s/%s: read revision %d: %w", rel.Namespace, rel.Name, u.Revision, err)
	}
	stuck.SetStatus(release.StatusFailed, fmt.Sprintf("%s since %s: abandoned, unlocked by rolling back to revision %d", u.Status, u.Since.UTC().Format(time.RFC3339), u.RollbackTo))
	if err := r.cfg.Releases.Update(stuck); err != nil {
		return fmt.Errorf("unlock release %s/%s: mark revision %d failed: %w", rel.Namespace, rel.Name, u.Revision, err)
	}
	rb := action.NewRollback(r.cfg)
	rb.Version = u.RollbackTo
	rb.Wait, rb.Timeout = true, r.o.timeout
	rb.MaxHistory = r.o.maxHistory
	if err := rb.Run(rel.Name); err != nil {
		return fmt.Errorf("unlock release %s/%s (revision %d %s): roll back to revision %d: %w", rel.Namespace, rel.Name, u.Revision, u.Status, u.RollbackTo, err)
	}
	return nil
}

// Ensure makes the release match rel: Plan, then ApplyStep of its step,
// through reconcile.Converge (at most WithMaxRounds rounds; after a failed
// step it plans again from fresh reads). A second call with the same
// inputs finds nothing to do and makes no new revision. Sensitive values
// come from rel itself.
func Ensure(ctx context.Context, kube genericclioptions.RESTClientGetter, rel Release, opts ...Option) (Result, error) {
	o, err := newOptions(opts)
	if err != nil {
		return Result{}, err
	}
	if err := rel.Validate(); err != nil {
		return Result{}, err
	}
	byRef := map[string]any{}
	for _, s := range rel.Sensitive {
		v, _ := lookup(rel.Values, s.Path)
		byRef[s.Ref] = v
	}
	applyOpts := append(append([]Option(nil), opts...), WithSensitiveResolver(func(_ context.Context, ref string) (any, error) {
		v, ok := byRef[ref]
		if !ok {
			return nil, fmt.Errorf("no sensitive value %q in the release", ref)
		}
		return v, nil
	}))
	outputs := &change.Outputs{}
	res, err := reconcile.Converge(ctx, reconcile.Options{Clock: o.clock, Log: o.log, MaxRounds: o.maxRounds},
		func(ctx context.Context) (change.Plan, error) { return Plan(ctx, kube, rel, opts...) },
		func(ctx context.Context, s change.Step, out *change.Outputs) error {
			return ApplyStep(ctx, kube, s, out, applyOpts...)
		}, outputs)
	out := Result{Result: res}
	if v, ok := outputs.Get(change.Ref{Step: StepID(o.env, o.layer, rel.Namespace, rel.Name), Output: "revision"}); ok {
		if jerr := json.Unmarshal(v, &out.Revision); jerr != nil && err == nil {
			err = fmt.Errorf("read the revision Ensure made: %w", jerr)
		}
	}
	return out, err
}
