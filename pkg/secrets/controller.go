package secrets

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/org/platform/internal/helmrelease"
	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/spec"
)

// The sealed-secrets chart EnsureController installs: the upstream chart,
// pinned (app 0.36.6, the controller of the sealed-secrets module this
// package seals with). ControllerRelease is the release "sealed-secrets".
const (
	ChartName    = "sealed-secrets"
	ChartVersion = "2.18.5"
	ChartRepoURL = "https://bitnami-labs.github.io/sealed-secrets"
	ReleaseName  = "sealed-secrets"
)

// ErrControllerDisabled is wrapped by the error of ControllerRelease and
// EnsureController for an environment whose spec installs no controller
// (secrets.sealedSecrets false).
var ErrControllerDisabled = errors.New("the environment installs no Sealed Secrets controller")

// ControllerRelease returns the Helm release of the Sealed Secrets
// controller of env: chart sealed-secrets 2.18.5 from its upstream
// repository, release "sealed-secrets" in secrets.namespace (default
// kube-system), with fullnameOverride "sealed-secrets-controller" so that
// its Service is named as kubeseal's --controller-name default and
// FetchCert's DefaultControllerName; in kube-system it is also kubeseal's
// --controller-namespace default. Every other value is the chart's
// default, none of which is random, so the render is the same on every
// run. It reads nothing; an environment with secrets.sealedSecrets false
// is an error wrapping ErrControllerDisabled.
//
// To install it from elsewhere than its upstream repository (a mirror, a
// test server), give helmrelease.WithRepository(ChartRepoURL, url) to
// whatever plans or applies it.
func ControllerRelease(env spec.Environment) (helmrelease.Release, error) {
	if !env.Secrets.SealedSecrets {
		return helmrelease.Release{}, fmt.Errorf("secrets.sealedSecrets: false: %w", ErrControllerDisabled)
	}
	ns := env.Secrets.Namespace
	if ns == "" {
		ns = DefaultControllerNamespace
	}
	rel := helmrelease.Release{
		Name:      ReleaseName,
		Namespace: ns,
		Chart:     helmrelease.Chart{Name: ChartName, Version: ChartVersion, RepoURL: ChartRepoURL},
		Values:    map[string]any{"fullnameOverride": DefaultControllerName},
	}
	if err := rel.Validate(); err != nil {
		return helmrelease.Release{}, fmt.Errorf("secrets.namespace: %w", err)
	}
	return rel, nil
}

// EnsureController installs or upgrades the Sealed Secrets controller of
// env (ControllerRelease) with helmrelease.Ensure: plan, then helm upgrade
// --install of exactly that chart and those values, atomic. A second call
// with the same inputs makes no new revision and no write. Before any
// request to the cluster it loads the chart (from the cache of
// helmrelease.WithCacheDir when it holds it) and fails when a value is a
// key the chart does not know (helmrelease.UnknownValues).
//
// opts are helmrelease's; the step's environment and layer default to
// env.Name and change.LayerSecrets, and a later option overrides them.
func EnsureController(ctx context.Context, kube genericclioptions.RESTClientGetter, env spec.Environment, opts ...helmrelease.Option) (helmrelease.Result, error) {
	rel, err := ControllerRelease(env)
	if err != nil {
		return helmrelease.Result{}, err
	}
	all := append([]helmrelease.Option{helmrelease.WithEnvironment(env.Name), helmrelease.WithLayer(change.LayerSecrets)}, opts...)
	ch, err := helmrelease.LoadChart(rel.Chart, all...)
	if err != nil {
		return helmrelease.Result{}, fmt.Errorf("sealed-secrets controller: %w", err)
	}
	unknown, err := helmrelease.UnknownValues(ch, rel.Values, nil)
	if err != nil {
		return helmrelease.Result{}, fmt.Errorf("sealed-secrets controller: %w", err)
	}
	if len(unknown) > 0 {
		return helmrelease.Result{}, fmt.Errorf("sealed-secrets controller: values unknown to chart %s: %s", rel.Chart, strings.Join(unknown, ", "))
	}
	res, err := helmrelease.Ensure(ctx, kube, rel, all...)
	if err != nil {
		return res, fmt.Errorf("sealed-secrets controller: %w", err)
	}
	return res, nil
}
