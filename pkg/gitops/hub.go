package gitops

import (
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/org/platform/internal/helmrelease"
	"github.com/org/platform/pkg/spec"
)

// Hub returns what the hub env installs for GitOps, in apply order: the
// argo-cd release (ArgoCDRelease), then the objects — the AppProject
// ProjectName, the sample service's Application for each environment of
// managed (and the hub) whose spec has the namespace "apps" with ingress,
// and the ApplicationSet when baseline is not nil and an environment hands
// its baseline to Argo CD. managed are all the environments Argo CD
// deploys to, the hub included or not (it is added). env that is not the
// hub is an error wrapping ErrNotHub.
//
// baseline, when not nil, returns an environment's baseline releases as
// the SDK would install them (see ApplicationSet); the AppProject then
// also admits those releases' chart repositories. With a nil baseline no
// ApplicationSet is rendered.
//
// How pkg/rollout uses it, in the hub's plan (layer gitops, after the
// baseline's own layers):
//
//   - the release as any baseline release (helmrelease.Plan / PlanNew,
//     ApplyStep), its values checked with helmrelease.UnknownValues;
//   - the objects with internal/kubeobjects (Plan / PlanNew, ApplyStep);
//     their kinds are served once the release's CRDs are, and
//     kubeobjects plans an unserved kind as a create;
//   - the cluster Secrets with PlanClusters (or PlanClustersNew), applied
//     by ApplyStep (kind prefix "gitops."), after the managed
//     environments' ManagerObjects were applied in their own clusters.
//
// Every managed environment's own plan applies ManagerObjects (layer
// gitops, internal/kubeobjects).
func Hub(env spec.Environment, managed []spec.Environment, baseline func(spec.Environment) ([]helmrelease.Release, error)) ([]helmrelease.Release, []*unstructured.Unstructured, error) {
	env = env.WithDefaults()
	rel, err := ArgoCDRelease(env)
	if err != nil {
		return nil, nil, err
	}
	all := []spec.Environment{env}
	for _, m := range managed {
		if m.Name != env.Name {
			all = append(all, m.WithDefaults())
		}
	}
	var objs []*unstructured.Unstructured
	var chartRepos []string
	var appSet *unstructured.Unstructured
	if baseline != nil {
		if appSet, err = ApplicationSet(all, baseline); err != nil {
			return nil, nil, err
		}
		if appSet != nil {
			elems, err := Elements(appSet)
			if err != nil {
				return nil, nil, err
			}
			for _, e := range elems {
				chartRepos = append(chartRepos, e.RepoURL)
			}
		}
	}
	proj, err := AppProject(env, all, chartRepos...)
	if err != nil {
		return nil, nil, err
	}
	objs = append(objs, proj)
	for _, e := range all {
		if !slices.ContainsFunc(e.Namespaces, func(n spec.Namespace) bool { return n.Name == SampleServiceNamespace && n.Ingress }) {
			continue
		}
		app, err := SampleServiceApplication(e)
		if err != nil {
			return nil, nil, fmt.Errorf("hub %s: %w", env.Name, err)
		}
		objs = append(objs, app)
	}
	if appSet != nil {
		objs = append(objs, appSet)
	}
	return []helmrelease.Release{rel}, objs, nil
}
