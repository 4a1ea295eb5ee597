package baselinetest_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/org/platform/internal/helmrelease"
	"github.com/org/platform/internal/testvalues"
	"github.com/org/platform/pkg/gitops"
	"github.com/org/platform/pkg/ingress"
	"github.com/org/platform/pkg/observability"
	"github.com/org/platform/pkg/secrets"
	"github.com/org/platform/pkg/spec"
)

// baselineCharts are the charts of the baseline, by name.
var baselineCharts = []string{
	"ingress-nginx", "cert-manager", "sealed-secrets", "argo-cd",
	observability.PrometheusStack.Name, observability.Loki.Name, observability.Collector.Name,
}

// productionRelease returns the release the SDK installs chart as in env:
// its name, namespace, pinned chart and values, from the package that
// owns it. Argo CD is installed by the hub environment only
// (pkg/gitops); its values are built for env all the same, so that the
// chart is proven on every environment's node shapes.
func productionRelease(t testing.TB, env spec.Environment, chart string) helmrelease.Release {
	t.Helper()
	obs := func(c observability.Chart, values func(spec.Environment, ...observability.Option) (map[string]any, error)) helmrelease.Release {
		v, err := values(env)
		if err != nil {
			t.Fatalf("%s values for %s: %v", c.Name, env.Name, err)
		}
		return helmrelease.Release{Name: c.Release, Namespace: env.Observability.Namespace,
			Chart: helmrelease.Chart{Name: c.Name, Version: c.Version, RepoURL: c.Repository}, Values: v}
	}
	var rel helmrelease.Release
	switch chart {
	case "ingress-nginx", "cert-manager":
		rels, err := ingress.Releases(env)
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(rels, func(r helmrelease.Release) bool { return r.Chart.Name == chart })
		if i < 0 {
			t.Fatalf("pkg/ingress has no %s release", chart)
		}
		rel = rels[i]
	case "sealed-secrets":
		var err error
		if rel, err = secrets.ControllerRelease(env); err != nil {
			t.Fatal(err)
		}
	case "argo-cd":
		rel = helmrelease.Release{Name: gitops.ReleaseName, Namespace: gitops.Namespace, Chart: gitops.Chart, Values: gitops.ArgoCDValues(env)}
	case observability.PrometheusStack.Name:
		rel = obs(observability.PrometheusStack, observability.PrometheusStackValues)
	case observability.Loki.Name:
		rel = obs(observability.Loki, observability.LokiValues)
	case observability.Collector.Name:
		rel = obs(observability.Collector, observability.CollectorValues)
	default:
		t.Fatalf("no production release for chart %q", chart)
	}
	rel.Values = normalise(t, rel.Values)
	return rel
}

// testRelease returns the release the tests ensure for chart: the
// production release, from repoURL (the shared repository over httptest)
// instead of the chart's upstream repository, with
// internal/testvalues/testvalues.yaml's entry for chart merged over its values.
func testRelease(t testing.TB, env spec.Environment, chart, repoURL string) helmrelease.Release {
	t.Helper()
	rel := productionRelease(t, env, chart)
	rel.Chart.RepoURL = repoURL
	rel.Values = merge(rel.Values, normalise(t, testvalues.Overrides()[rel.Namespace+"/"+rel.Name]))
	return rel
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
// values at exactly the paths internal/testvalues/testvalues.yaml lists, to exactly
// the values it lists.
func TestTestValuesDifferOnlyByThisFile(t *testing.T) {
	t.Parallel()
	overrides := testvalues.Overrides()
	for _, name := range spec.StandardNames() {
		env, err := spec.Default(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range baselineCharts {
			t.Run(name+"/"+c, func(t *testing.T) {
				t.Parallel()
				prodRel, testRel := productionRelease(t, env, c), testRelease(t, env, c, "http://127.0.0.1:1")
				if testRel.Name != prodRel.Name || testRel.Namespace != prodRel.Namespace ||
					testRel.Chart.Name != prodRel.Chart.Name || testRel.Chart.Version != prodRel.Chart.Version {
					t.Errorf("test release %s/%s %s differs from production's %s/%s %s", testRel.Namespace, testRel.Name,
						testRel.Chart, prodRel.Namespace, prodRel.Name, prodRel.Chart)
				}
				prod := leaves("", prodRel.Values, nil)
				used := leaves("", testRel.Values, nil)
				want := leaves("", normalise(t, overrides[prodRel.Namespace+"/"+prodRel.Name]), nil)
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
					t.Errorf("test values differ from production by %s (and drop %v); internal/testvalues/testvalues.yaml lists %s",
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
