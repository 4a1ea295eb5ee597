package rollout

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/org/platform/internal/helmrelease"
	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/cluster"
	"github.com/org/platform/pkg/spec"
	"github.com/org/platform/pkg/store"
)

// snapshotOf is the snapshot of environment e as its plan observed it —
// the spec (defaults applied), the base (the Linode resources and the
// Kubernetes objects we own, with their observed ids and digests) — and
// its baseline releases as deployed, read from Helm's storage.
func snapshotOf(ctx context.Context, d Deps, e EnvironmentPlan, digest string) (store.Snapshot, error) {
	rels, err := deployedReleases(ctx, d, e)
	if err != nil {
		return store.Snapshot{}, err
	}
	return store.Snapshot{
		Environment: e.Name, TakenAt: d.Clock.Now(), Spec: e.Spec, Base: e.Base, PlanDigest: digest,
		Objects: objectsOf(e.Base), Releases: rels,
	}, nil
}

// deployedReleases reads, read-only, the deployed revision of every
// release of e's baseline: none when the baseline is skipped, the
// Kubernetes layer is, or the cluster does not exist yet. It costs one
// kubeconfig read and one list of Helm's release Secrets per release.
func deployedReleases(ctx context.Context, d Deps, e EnvironmentPlan) ([]store.Release, error) {
	if d.BaselineSkipped != "" || d.KubernetesSkipped != "" || e.ClusterID.Ref != nil || e.ClusterID.Value == 0 {
		return nil, nil
	}
	items, _, err := baseline(d, e.Spec)
	if err != nil {
		return nil, fmt.Errorf("list the baseline releases: %w", err)
	}
	var rels []*helmrelease.Release
	layers := map[*helmrelease.Release]change.Layer{}
	for _, it := range items {
		if it.release != nil {
			rels = append(rels, it.release)
			layers[it.release] = it.layer
		}
	}
	if len(rels) == 0 {
		return nil, nil
	}
	api := d.linodeFor(e.Name)
	kc, err := cluster.Kubeconfig(ctx, api, e.ClusterID.Value, d.clusterOpts(e.Name)...)
	if err != nil {
		return nil, fmt.Errorf("get the kubeconfig of LKE cluster %d: %w", e.ClusterID.Value, err)
	}
	helm, err := d.Helm(ctx, e.Name, kc)
	if err != nil {
		return nil, err
	}
	var out []store.Release
	for _, rel := range rels {
		got, found, err := helmrelease.Deployed(ctx, helm, rel.Namespace, rel.Name, rel.Sensitive, d.helmOpts(e.Name, layers[rel])...)
		if err != nil {
			return nil, fmt.Errorf("read release %s/%s: %w", rel.Namespace, rel.Name, err)
		}
		if !found {
			continue
		}
		sr := store.Release{
			Namespace: got.Namespace, Name: got.Name, Layer: layers[rel],
			Chart:  store.Chart{Name: got.Chart.Name, Version: got.Chart.Version},
			Values: got.Values, ValuesDigest: got.ValuesDigest, Revision: got.Revision, Status: got.Status,
		}
		if got.Chart.Name == rel.Chart.Name {
			sr.Chart.RepoURL = rel.Chart.RepoURL
		}
		for _, s := range got.Sensitive {
			sr.Sensitive = append(sr.Sensitive, store.SensitiveRef{Path: s.Path, Ref: s.Ref, Fingerprint: s.Fingerprint})
		}
		out = append(out, sr)
	}
	return out, nil
}

// TakeSnapshot plans env and returns its snapshot as Apply WithRecords
// writes it before changing the environment (spec, base, objects, and the
// releases as deployed), without writing it or anything else. A rollback
// drill compares it with the snapshot rolled back to (CompareSnapshots).
func TakeSnapshot(ctx context.Context, deps Deps, env spec.Environment) (store.Snapshot, error) {
	d, err := deps.withDefaults()
	if err != nil {
		return store.Snapshot{}, err
	}
	p, err := Plan(ctx, d, env)
	if err != nil {
		return store.Snapshot{}, err
	}
	e, _ := p.Environment(env.Name)
	return snapshotOf(ctx, d, e, p.Digest)
}

// Restoration is how an environment compares with a snapshot: equal but
// for the tolerated differences, or not.
type Restoration struct {
	// Tolerated are the differences that a restore keeps and reports: the
	// ids of a cluster, pools or firewall recreated since the snapshot,
	// and the Helm revisions a rollback makes.
	Tolerated []string `json:"tolerated,omitempty"`
	// Differences are everything else that differs, field by field.
	Differences []string `json:"differences,omitempty"`
}

// Restored reports whether nothing but tolerated differences remain.
func (r Restoration) Restored() bool { return len(r.Differences) == 0 }

// poolID matches the id in a pool's base key ("lke/x/pool/general#20001").
var poolID = regexp.MustCompile(`#[0-9]+$`)

// idField reports whether a base field is an id the provider gives: it
// differs, tolerated, when the object was recreated.
func idField(field string) bool { return field == "id" || strings.HasSuffix(field, "_id") }

// CompareSnapshots compares got (the environment now) with want (the
// snapshot restored): the spec; every observed value of the base, pools
// matched by name whatever their ids; and per Helm release its chart
// version and values digest. Ids of objects recreated since and Helm
// revisions are tolerated and reported; anything else that differs is a
// difference, named by object and field. The spec compared is the one
// each state was made from (Snapshot.Applied when recorded, else Spec).
func CompareSnapshots(want, got store.Snapshot) Restoration {
	var r Restoration
	ws, _ := change.Digest(stateSpec(want))
	gs, _ := change.Digest(stateSpec(got))
	if ws != gs {
		r.Differences = append(r.Differences, "spec: differs from the snapshot's")
	}
	wb, wIDs := normalBase(want.Base)
	gb, gIDs := normalBase(got.Base)
	for _, k := range slices.Sorted(maps.Keys(wb)) {
		obj, field, _ := strings.Cut(k, " ")
		v, ok := gb[k]
		switch {
		case !ok:
			r.Differences = append(r.Differences, fmt.Sprintf("%s %s: %s → (gone)", obj, field, wb[k]))
		case v == wb[k]:
		case idField(field):
			r.Tolerated = append(r.Tolerated, fmt.Sprintf("%s %s: %s → %s (recreated since the snapshot)", obj, field, wb[k], v))
		default:
			r.Differences = append(r.Differences, fmt.Sprintf("%s %s: %s → %s", obj, field, wb[k], v))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(gb)) {
		if _, ok := wb[k]; !ok {
			r.Differences = append(r.Differences, fmt.Sprintf("%s: (not in the snapshot) → %s", k, gb[k]))
		}
	}
	for _, obj := range slices.Sorted(maps.Keys(wIDs)) {
		if g, ok := gIDs[obj]; ok && g != wIDs[obj] {
			r.Tolerated = append(r.Tolerated, fmt.Sprintf("%s id: %s → %s (recreated since the snapshot)", obj, wIDs[obj], g))
		}
	}
	gr := map[string]store.Release{}
	for _, rel := range got.Releases {
		gr[rel.Namespace+"/"+rel.Name] = rel
	}
	for _, w := range want.Releases {
		key := w.Namespace + "/" + w.Name
		g, ok := gr[key]
		switch {
		case !ok:
			r.Differences = append(r.Differences, fmt.Sprintf("release/%s: deployed in the snapshot, not now", key))
			continue
		case g.Chart.Name != w.Chart.Name || g.Chart.Version != w.Chart.Version:
			r.Differences = append(r.Differences, fmt.Sprintf("release/%s chart: %s %s → %s %s", key, w.Chart.Name, w.Chart.Version, g.Chart.Name, g.Chart.Version))
		}
		if g.ValuesDigest != w.ValuesDigest {
			r.Differences = append(r.Differences, fmt.Sprintf("release/%s values: %s → %s", key, w.ValuesDigest, g.ValuesDigest))
		}
		if g.Revision != w.Revision {
			r.Tolerated = append(r.Tolerated, fmt.Sprintf("release/%s revision: %d → %d", key, w.Revision, g.Revision))
		}
		delete(gr, key)
	}
	for _, key := range slices.Sorted(maps.Keys(gr)) {
		r.Differences = append(r.Differences, fmt.Sprintf("release/%s: deployed now, not in the snapshot", key))
	}
	return r
}

// stateSpec is the spec a snapshot's state was made from: Applied when
// recorded (a snapshot taken before an apply), else Spec (TakeSnapshot's).
func stateSpec(s store.Snapshot) spec.Environment {
	if s.Applied != nil {
		return *s.Applied
	}
	return s.Spec
}

// normalBase returns base with pools keyed by name alone, and each such
// pool's id.
func normalBase(base map[string]string) (map[string]string, map[string]string) {
	out := make(map[string]string, len(base))
	ids := map[string]string{}
	for k, v := range base {
		obj, field, _ := strings.Cut(k, " ")
		if m := poolID.FindString(obj); m != "" {
			obj = strings.TrimSuffix(obj, m)
			ids[obj] = m[1:]
		}
		out[obj+" "+field] = v
	}
	return out, ids
}
