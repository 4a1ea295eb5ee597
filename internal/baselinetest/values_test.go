package baselinetest_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/org/platform/internal/helmrelease"
	"github.com/org/platform/pkg/observability"
	"github.com/org/platform/pkg/spec"
)

// chartRef is one baseline chart: its name and version in the shared
// repository, and the release it is installed as.
type chartRef struct {
	chart, version, release string
	namespace               func(spec.Environment) string
}

// baselineCharts are the charts of the baseline, in install order groups:
// the observability charts need the Prometheus operator's CRDs first.
var baselineCharts = []chartRef{
	{"ingress-nginx", "4.15.1", "ingress-nginx", func(e spec.Environment) string { return e.Ingress.Namespace }},
	{"cert-manager", "v1.21.1", "cert-manager", func(spec.Environment) string { return "cert-manager" }},
	{"sealed-secrets", "2.18.5", "sealed-secrets", func(e spec.Environment) string { return e.Secrets.Namespace }},
	{"argo-cd", "10.1.1", "argo-cd", func(spec.Environment) string { return "argocd" }},
	{observability.PrometheusStack.Name, observability.PrometheusStack.Version, observability.PrometheusStack.Release, obsNamespace},
	{observability.Loki.Name, observability.Loki.Version, observability.Loki.Release, obsNamespace},
	{observability.Collector.Name, observability.Collector.Version, observability.Collector.Release, obsNamespace},
}

func obsNamespace(e spec.Environment) string { return e.Observability.Namespace }

// readValuesFile reads a testdata file of values keyed by chart name.
func readValuesFile(t testing.TB, name string) map[string]map[string]any {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]any{}
	if err := yaml.Unmarshal(b, &out); err != nil {
		t.Fatalf("parse testdata/%s: %v", name, err)
	}
	for c := range out {
		if !slices.ContainsFunc(baselineCharts, func(r chartRef) bool { return r.chart == c }) {
			t.Fatalf("testdata/%s: %q is not a baseline chart", name, c)
		}
	}
	return out
}

// productionValues returns the values production installs c with in env.
func productionValues(t testing.TB, env spec.Environment, c chartRef) map[string]any {
	t.Helper()
	var (
		v   map[string]any
		err error
	)
	switch c.chart {
	case observability.PrometheusStack.Name:
		v, err = observability.PrometheusStackValues(env)
	case observability.Loki.Name:
		v, err = observability.LokiValues(env)
	case observability.Collector.Name:
		v, err = observability.CollectorValues(env)
	default:
		v = readValuesFile(t, "baseline-values.yaml")[c.chart]
		if c.chart == "ingress-nginx" {
			v = merge(v, ingressValues(env))
		}
	}
	if err != nil {
		t.Fatalf("%s values for %s: %v", c.chart, env.Name, err)
	}
	return normalise(t, v)
}

// ingressValues are ingress-nginx's values that depend on the spec: the
// replica count, the IngressClass, and, when a pool is labelled
// dedicated=ingress, the controller pinned to it and tolerating its taint.
func ingressValues(env spec.Environment) map[string]any {
	replicas := env.Ingress.Replicas
	if replicas == 0 {
		replicas = 2 // the spec's documented default
	}
	ctrl := map[string]any{
		"replicaCount":         replicas,
		"ingressClassResource": map[string]any{"name": env.Ingress.ClassName},
		"ingressClass":         env.Ingress.ClassName,
	}
	for _, p := range env.Cluster.NodePools {
		if p.Labels["dedicated"] != "ingress" {
			continue
		}
		ctrl["nodeSelector"] = map[string]any{"dedicated": "ingress"}
		var tol []any
		for _, tn := range p.Taints {
			tol = append(tol, map[string]any{"key": tn.Key, "operator": "Equal", "value": tn.Value, "effect": tn.Effect})
		}
		ctrl["tolerations"] = tol
		break
	}
	return map[string]any{"controller": ctrl}
}

// testValues returns the values the tests install c with: production's,
// with testdata/test-values.yaml's entry for c merged over them.
func testValues(t testing.TB, env spec.Environment, c chartRef) map[string]any {
	t.Helper()
	return merge(productionValues(t, env, c), normalise(t, readValuesFile(t, "test-values.yaml")[c.chart]))
}

// releaseFor is the helmrelease.Release the tests ensure for c.
func releaseFor(t testing.TB, env spec.Environment, c chartRef, repoURL string) helmrelease.Release {
	return helmrelease.Release{
		Name: c.release, Namespace: c.namespace(env),
		Chart:  helmrelease.Chart{Name: c.chart, Version: c.version, RepoURL: repoURL},
		Values: testValues(t, env, c),
	}
}

// merge returns dst with src merged over it, maps key by key; src wins
// for every other value. Neither argument is changed.
func merge(dst, src map[string]any) map[string]any {
	out := maps.Clone(dst)
	if out == nil {
		out = map[string]any{}
	}
	for k, sv := range src {
		sm, sok := sv.(map[string]any)
		dm, dok := out[k].(map[string]any)
		if sok && dok {
			out[k] = merge(dm, sm)
			continue
		}
		out[k] = sv
	}
	return out
}

// normalise returns v as JSON would read it back (numbers float64, lists
// []any), so that values from Go and from YAML compare equal.
func normalise(t testing.TB, v map[string]any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]any{}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// leaves flattens v into dotted paths of its non-map values.
func leaves(prefix string, v map[string]any, out map[string]any) map[string]any {
	if out == nil {
		out = map[string]any{}
	}
	for k, x := range v {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		if m, ok := x.(map[string]any); ok && len(m) > 0 {
			leaves(p, m, out)
			continue
		}
		out[p] = x
	}
	return out
}

// TestTestValuesDifferOnlyByThisFile shows that, for every environment and
// chart, the values the install tests use differ from the production
// values at exactly the paths testdata/test-values.yaml lists, to exactly
// the values it lists.
func TestTestValuesDifferOnlyByThisFile(t *testing.T) {
	t.Parallel()
	overrides := readValuesFile(t, "test-values.yaml")
	for _, name := range spec.StandardNames() {
		env, err := spec.Default(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range baselineCharts {
			t.Run(name+"/"+c.chart, func(t *testing.T) {
				t.Parallel()
				prod := leaves("", productionValues(t, env, c), nil)
				used := leaves("", testValues(t, env, c), nil)
				want := leaves("", normalise(t, overrides[c.chart]), nil)
				got := map[string]any{}
				for p, v := range used {
					if pv, ok := prod[p]; !ok || !reflect.DeepEqual(pv, v) {
						got[p] = v
					}
				}
				var missing []string
				for p := range prod {
					if _, ok := used[p]; !ok && !hasPrefixIn(p, want) {
						missing = append(missing, p)
					}
				}
				if !reflect.DeepEqual(got, want) || len(missing) > 0 {
					t.Errorf("test values differ from production by %s (and drop %v); testdata/test-values.yaml lists %s",
						show(got), missing, show(want))
				}
			})
		}
	}
}

// hasPrefixIn reports whether p lies under a path of want (an override
// that replaces a map drops its production leaves).
func hasPrefixIn(p string, want map[string]any) bool {
	for w := range want {
		if strings.HasPrefix(p, w+".") {
			return true
		}
	}
	return false
}

func show(m map[string]any) string {
	keys := slices.Sorted(maps.Keys(m))
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		b, _ := json.Marshal(m[k])
		parts = append(parts, fmt.Sprintf("%s=%s", k, b))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// TestMergeAndLeaves pins the helpers TestTestValuesDifferOnlyByThisFile
// rests on: an override changes what it names and nothing else.
func TestMergeAndLeaves(t *testing.T) {
	t.Parallel()
	prod := map[string]any{"a": map[string]any{"b": 1.0, "c": 2.0}, "d": []any{"x"}}
	got := merge(prod, map[string]any{"a": map[string]any{"c": 3.0}, "e": true})
	want := map[string]any{"a.b": 1.0, "a.c": 3.0, "d": []any{"x"}, "e": true}
	if l := leaves("", got, nil); !reflect.DeepEqual(l, want) {
		t.Errorf("leaves(merge) = %v, want %v", l, want)
	}
	if prod["a"].(map[string]any)["c"] != 2.0 {
		t.Error("merge changed its first argument")
	}
}
