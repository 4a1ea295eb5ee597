package gitops

import (
	"errors"
	"fmt"

	"github.com/org/platform/internal/helmrelease"
	"github.com/org/platform/pkg/spec"
)

// Chart is the argo-cd chart (Argo CD v3.4.4), pinned.
var Chart = helmrelease.Chart{Name: "argo-cd", Version: "10.1.1", RepoURL: "https://argoproj.github.io/argo-helm"}

// Namespace is where Argo CD runs in the hub, and where its AppProject,
// ApplicationSet, Applications and cluster Secrets live. pkg/network owns
// this namespace (default-deny plus Argo CD's flows) in the system
// environment.
const Namespace = "argocd"

// ReleaseName is the Helm release of Argo CD. With the chart's
// nameOverride "argocd", its components are argocd-server,
// argocd-repo-server, argocd-application-controller …, the pod names
// pkg/network's policies select.
const ReleaseName = "argocd"

// HubName is the environment that runs Argo CD: the system environment.
// The spec has no field naming a hub; one hub per account is the design,
// and the system environment is the one that exists to run the
// platform's own tools.
const HubName = spec.System

// ErrNotHub is returned when Argo CD's objects are asked of an
// environment that is not the hub.
var ErrNotHub = errors.New("Argo CD runs in the system environment only")

// IsHub reports whether env runs Argo CD.
func IsHub(env spec.Environment) bool { return env.Name == HubName }

// ArgoCDRelease returns the argo-cd release of the hub env: namespace
// Namespace, release ReleaseName, values ArgoCDValues(env). For any other
// environment it returns an error wrapping ErrNotHub.
//
// The render is stable: the admin password is not a value (Argo CD's
// server generates the Secret argocd-initial-admin-secret at its first
// start, in the cluster), so the chart's only time-dependent template —
// admin.passwordMtime, rendered only with
// configs.secret.argocdServerAdminPassword — is never rendered; and
// Redis' password is made in the cluster by the chart's redis-secret-init
// hook Job, never in the manifest.
//
// To install it from elsewhere than its upstream repository, give
// helmrelease.WithRepository(Chart.RepoURL, url) to whatever plans or
// applies it.
func ArgoCDRelease(env spec.Environment) (helmrelease.Release, error) {
	env = env.WithDefaults()
	if !IsHub(env) {
		return helmrelease.Release{}, fmt.Errorf("argo-cd release of %q: %w (%s)", env.Name, ErrNotHub, HubName)
	}
	rel := helmrelease.Release{Name: ReleaseName, Namespace: Namespace, Chart: Chart, Values: ArgoCDValues(env)}
	if err := rel.Validate(); err != nil {
		return helmrelease.Release{}, err
	}
	return rel, nil
}

// ArgoCDValues are argo-cd's values for the hub env:
//
//   - CRDs installed and kept on uninstall (Applications must outlive a
//     broken upgrade);
//   - the chart's NetworkPolicies off: pkg/network's zero-trust policies
//     are the argocd namespace's only ones;
//   - Dex off: no SSO is configured, and an idle Dex is one more pod
//     with a network flow to allow;
//   - every object labelled with the environment;
//   - the application controller's, server's and repo server's metrics
//     on, for Prometheus to scrape (pkg/network admits Prometheus to
//     every namespace);
//   - the admin password and Redis' password left to the cluster (see
//     ArgoCDRelease).
func ArgoCDValues(env spec.Environment) map[string]any {
	env = env.WithDefaults()
	labels := map[string]any{"platform.org/environment": env.Name}
	return map[string]any{
		"crds": map[string]any{"install": true, "keep": true},
		// pkg/network owns the argocd namespace's NetworkPolicies (default
		// deny plus exactly Argo CD's flows); the chart's own policies
		// (on by default, argocd-server open to every source on 8080) would
		// widen them, and the drift check reports them as posture drift.
		"global": map[string]any{"additionalLabels": labels, "networkPolicy": map[string]any{"create": false}},
		"dex":    map[string]any{"enabled": false},
		"controller": map[string]any{
			"replicas": 1,
			"metrics":  map[string]any{"enabled": true},
		},
		"server": map[string]any{
			"replicas": 1,
			"metrics":  map[string]any{"enabled": true},
		},
		"repoServer": map[string]any{
			"replicas": 1,
			"metrics":  map[string]any{"enabled": true},
		},
	}
}
