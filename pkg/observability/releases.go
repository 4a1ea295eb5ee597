package observability

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/org/platform/internal/helmrelease"
	"github.com/org/platform/pkg/spec"
)

// HelmChart returns c as the Helm release step locates it.
func (c Chart) HelmChart() helmrelease.Chart {
	return helmrelease.Chart{Name: c.Name, Version: c.Version, RepoURL: c.Repository}
}

// Releases returns env's observability releases, in install order:
// kube-prometheus-stack (its CRDs go first, apart: PrometheusOperatorCRDs),
// Loki, then the OpenTelemetry Collector that ships logs into it. Each
// release's values are the ones PrometheusStackValues, LokiValues and
// CollectorValues return; an invalid env is the error they return.
func Releases(env spec.Environment, opts ...Option) ([]helmrelease.Release, error) {
	env = env.WithDefaults()
	type build struct {
		chart  Chart
		values func(spec.Environment, ...Option) (map[string]any, error)
	}
	var out []helmrelease.Release
	for _, b := range []build{
		{PrometheusStack, PrometheusStackValues},
		{Loki, LokiValues},
		{Collector, CollectorValues},
	} {
		v, err := b.values(env, opts...)
		if err != nil {
			return nil, err
		}
		out = append(out, helmrelease.Release{
			Name: b.chart.Release, Namespace: env.Observability.Namespace, Chart: b.chart.HelmChart(), Values: v,
		})
	}
	return out, nil
}

// DashboardObjects returns Dashboards as objects to apply.
func DashboardObjects(env spec.Environment) ([]*unstructured.Unstructured, error) {
	cms, err := Dashboards(env)
	if err != nil {
		return nil, err
	}
	out := make([]*unstructured.Unstructured, len(cms))
	for i := range cms {
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&cms[i])
		if err != nil {
			return nil, fmt.Errorf("dashboard %s: %w", cms[i].Name, err)
		}
		u := &unstructured.Unstructured{Object: m}
		unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
		out[i] = u
	}
	return out, nil
}
