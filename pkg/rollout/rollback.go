package rollout

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/linode/linodego"
	utilversion "k8s.io/apimachinery/pkg/util/version"

	"github.com/org/platform/internal/helmrelease"
	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/cluster"
	"github.com/org/platform/pkg/spec"
	"github.com/org/platform/pkg/store"
)

// ErrIrreversible is wrapped by the error of a rollback that would undo
// what cannot or must not be undone (see IrreversibleError). It is
// change.ErrIrreversible, which the concerns' own plans wrap too.
var ErrIrreversible = change.ErrIrreversible

// IrreversibleError names a change a rollback refuses: turning the
// control plane's high availability or its ACL off, or downgrading
// Kubernetes. Field is the spec field from the YAML root.
type IrreversibleError struct {
	Environment string
	Field       string
	From, To    string
}

func (e *IrreversibleError) Error() string {
	return fmt.Sprintf("environment %q: rolling back would change %s from %s to %s, which is refused: %v", e.Environment, e.Field, e.From, e.To, ErrIrreversible)
}

func (e *IrreversibleError) Unwrap() error { return ErrIrreversible }

// rollbackNote starts the warning that marks a plan as a rollback to a
// snapshot, naming its key: Apply's audit record and staleness check read
// it back (rollbackOf).
const rollbackNote = "rollback to snapshot "

// PlanRollback returns the plan that brings environment ref.Environment
// back to the snapshot ref names: a plan like any other, shown (Human,
// with the snapshot and the tolerated differences as warnings), approved
// by its Digest and applied with Apply. It never writes.
//
// The spec planned is the one the snapshot's state was made from
// (store.Snapshot.Applied: the last successful apply before it); a
// snapshot taken before the environment's first recorded apply has none
// and is refused.
//
//   - The Linode resources are planned to that spec (firewall, VPC,
//     cluster and pools re-ensured: a pool resized since goes back).
//   - Each baseline Helm release the snapshot recorded is planned back to
//     the chart (name, version, repository) and values the snapshot
//     recorded — not to a revision number, which Helm's bounded history
//     may have pruned. A sensitive value, recorded only as a reference, is
//     taken from the release the snapshot's spec builds when its reference
//     is the same, and refused otherwise. A release the snapshot did not
//     record (not deployed then) is planned from the snapshot's spec, with
//     a warning.
//   - Our Kubernetes objects are planned to that spec.
//
// "Restored" means equal to the snapshot but for tolerated differences,
// listed as warnings (ids of pools or a cluster recreated since: the
// snapshot's cannot come back), and refused changes. Before any plan, the
// live cluster is read (one list, one ACL read): a rollback that would
// turn the control plane's high availability or ACL off, or downgrade
// Kubernetes, returns *IrreversibleError for each such field, wrapping
// ErrIrreversible, with nothing written.
//
// Apply checks a rollback plan for staleness as any plan, rendering each
// release with the chart and values of its saved step. A release the plan
// does not change is re-planned from the snapshot's spec for that check.
func PlanRollback(ctx context.Context, deps Deps, st store.Store, ref store.SnapshotRef) (Artifact, error) {
	d, err := deps.withDefaults()
	if err != nil {
		return Artifact{}, err
	}
	snap, err := store.ReadSnapshot(ctx, st, ref)
	if err != nil {
		return Artifact{}, fmt.Errorf("plan rollback: %w", err)
	}
	if snap.Applied == nil {
		return Artifact{}, fmt.Errorf("plan rollback to %s: the snapshot records no applied spec (it was taken before the environment's first recorded apply): there is no earlier state to restore", ref.Key)
	}
	env := *snap.Applied
	if env.Name == "" || env.Name != snap.Environment || (ref.Environment != "" && ref.Environment != env.Name) {
		return Artifact{}, fmt.Errorf("plan rollback to %s: the snapshot is of environment %q, its applied spec of %q", ref.Key, snap.Environment, env.Name)
	}
	if err := validate(d, []spec.Environment{env}); err != nil {
		return Artifact{}, fmt.Errorf("plan rollback to %s: the snapshot's spec: %w", ref.Key, err)
	}
	if err := checkReversible(ctx, d, env); err != nil {
		return Artifact{}, err
	}
	d.restore = map[string]map[string]store.Release{env.Name: {}}
	for _, r := range snap.Releases {
		d.restore[env.Name][r.Namespace+"/"+r.Name] = r
	}
	p, err := Plan(ctx, d, env)
	if err != nil {
		return p, fmt.Errorf("plan rollback to %s: %w", ref.Key, err)
	}
	e := &p.Environments[0]
	notes := []string{fmt.Sprintf("%s%s (taken %s): Linode resources and our Kubernetes objects planned to the snapshot's spec, %d Helm releases to the charts and values it recorded",
		rollbackNote, ref.Key, snap.TakenAt.UTC().Format(time.RFC3339), len(snap.Releases))}
	items, _, err := baseline(d, env)
	if err != nil {
		return p, err
	}
	for _, it := range items {
		if it.release != nil {
			if _, ok := d.restore[env.Name][it.release.Namespace+"/"+it.release.Name]; !ok && len(snap.Releases) > 0 {
				notes = append(notes, fmt.Sprintf("rollback: release %s/%s was not deployed when the snapshot was taken: planned from the snapshot's spec", it.release.Namespace, it.release.Name))
			}
		}
	}
	for _, t := range CompareSnapshots(store.Snapshot{Base: snap.Base}, store.Snapshot{Base: e.Base}).Tolerated {
		notes = append(notes, "rollback tolerates: "+t)
	}
	e.Warnings = append(notes, e.Warnings...)
	return p, nil
}

// checkReversible reads env's live cluster, if any, and refuses a
// rollback that would turn high availability or the control-plane ACL
// off, or downgrade Kubernetes.
func checkReversible(ctx context.Context, d Deps, env spec.Environment) error {
	api := d.linodeFor(env.Name)
	label := cluster.TargetOf(env, cluster.Placement{}).Label
	f := linodego.Filter{}
	f.AddField(linodego.Eq, "label", label)
	b, err := f.MarshalJSON()
	if err != nil {
		return err
	}
	all, err := api.ListLKEClusters(ctx, &linodego.ListOptions{Filter: string(b)})
	if err != nil {
		return fmt.Errorf("plan rollback: list LKE clusters labelled %q: %w", label, err)
	}
	var live *linodego.LKECluster
	for i := range all {
		if all[i].Label == label {
			live = &all[i]
		}
	}
	if live == nil {
		return nil // the plan creates the cluster as the snapshot's spec says
	}
	var errs []error
	refuse := func(field, from, to string) {
		errs = append(errs, &IrreversibleError{Environment: env.Name, Field: field, From: from, To: to})
	}
	want := env.WithDefaults().Cluster
	if live.ControlPlane.HighAvailability && !want.HighAvailability {
		refuse("cluster.highAvailability", "true", "false")
	}
	acl, err := api.GetLKEClusterControlPlaneACL(ctx, live.ID)
	if err != nil {
		return fmt.Errorf("plan rollback: get the control-plane ACL of LKE cluster %d: %w", live.ID, err)
	}
	if acl.ACL.Enabled && !want.ControlPlaneACL.Enabled {
		refuse("cluster.controlPlaneACL.enabled", "true", "false")
	}
	if downgrade(live.K8sVersion, want.KubernetesVersion) {
		refuse("cluster.kubernetesVersion", live.K8sVersion, want.KubernetesVersion)
	}
	return errors.Join(errs...)
}

// downgrade reports whether want's minor version is below have's
// ("1.33" below "1.34" or "v1.34.2+lke1"). Versions that do not parse are
// left to the cluster's own plan.
func downgrade(have, want string) bool {
	h, err1 := utilversion.ParseGeneric(have)
	w, err2 := utilversion.ParseGeneric(want)
	if err1 != nil || err2 != nil {
		return false
	}
	if h.Major() != w.Major() {
		return w.Major() < h.Major()
	}
	return w.Minor() < h.Minor()
}

// restoreRelease replaces rel's chart and values with those the snapshot
// of a rollback recorded for it, if any (Deps.restore); sensitive values
// are taken from rel by reference.
func (d Deps) restoreRelease(env string, rel *helmrelease.Release) error {
	r, ok := d.restore[env][rel.Namespace+"/"+rel.Name]
	if !ok {
		return nil
	}
	if r.Chart.Name == "" || r.Chart.Version == "" || r.Chart.RepoURL == "" {
		return fmt.Errorf("restore release %s/%s: the snapshot records chart %q version %q from repository %q: all three are needed",
			rel.Namespace, rel.Name, r.Chart.Name, r.Chart.Version, r.Chart.RepoURL)
	}
	values, err := copyValues(r.Values)
	if err != nil {
		return fmt.Errorf("restore release %s/%s: %w", rel.Namespace, rel.Name, err)
	}
	var sens []helmrelease.SensitiveValue
	for _, s := range r.Sensitive {
		v, found := any(nil), false
		for _, have := range rel.Sensitive {
			if have.Ref == s.Ref {
				v, found = helmrelease.ValueAt(rel.Values, have.Path)
				break
			}
		}
		if !found {
			return fmt.Errorf("restore release %s/%s: sensitive value %s (%s): the snapshot's spec gives no value with this reference",
				rel.Namespace, rel.Name, s.Path, s.Ref)
		}
		helmrelease.SetValueAt(values, s.Path, v)
		sens = append(sens, helmrelease.SensitiveValue{Path: s.Path, Ref: s.Ref})
	}
	rel.Chart = helmrelease.Chart{Name: r.Chart.Name, Version: r.Chart.Version, RepoURL: r.Chart.RepoURL}
	rel.Values, rel.Sensitive = values, sens
	return nil
}

// withRestoreOf returns d set, for each rollback plan of p, to render
// each release with the chart and values of its saved step: the fresh
// plan of Apply's staleness check then renders what the saved plan will
// apply. Plans that are not rollbacks are left as they are.
func (d Deps) withRestoreOf(p Artifact) (Deps, error) {
	for _, e := range p.Environments {
		if rollbackOf(e) == "" {
			continue
		}
		if d.restore == nil {
			d.restore = map[string]map[string]store.Release{}
		}
		rels := map[string]store.Release{}
		for _, s := range e.Steps {
			if s.Kind != helmrelease.StepRelease {
				continue
			}
			var a helmrelease.Action
			if err := s.Decode(&a); err != nil {
				return d, fmt.Errorf("environment %q: read step %s: %w", e.Name, s.ID, err)
			}
			r := store.Release{Namespace: a.Namespace, Name: a.Release, Values: a.Values,
				Chart: store.Chart{Name: a.Chart.Name, Version: a.Chart.Version, RepoURL: a.Chart.RepoURL}}
			for _, sr := range a.Sensitive {
				r.Sensitive = append(r.Sensitive, store.SensitiveRef{Path: sr.Path, Ref: sr.Ref, Fingerprint: sr.Fingerprint})
			}
			rels[a.Namespace+"/"+a.Release] = r
		}
		d.restore[e.Name] = rels
	}
	return d, nil
}

// rollbackOf returns the key of the snapshot e rolls back to, "" when e
// is not a rollback plan.
func rollbackOf(e EnvironmentPlan) string {
	for _, w := range e.Warnings {
		if rest, ok := strings.CutPrefix(w, rollbackNote); ok {
			key, _, _ := strings.Cut(rest, " ")
			return key
		}
	}
	return ""
}

// copyValues deep-copies values through JSON.
func copyValues(v map[string]any) (map[string]any, error) {
	out := map[string]any{}
	if v == nil {
		return out, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	err = json.Unmarshal(b, &out)
	return out, err
}
