package observability_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"sigs.k8s.io/yaml"

	"github.com/org/platform/internal/shared"
	"github.com/org/platform/pkg/observability"
	"github.com/org/platform/pkg/spec"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// standard returns the standard environment name, defaulted.
func standard(t *testing.T, name string) spec.Environment {
	t.Helper()
	env, err := spec.Default(name)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// charts caches the loaded chart archives: kube-prometheus-stack alone is
// 0.9 MB of gzip, and every test may read it concurrently (a loaded chart
// is only read by UnknownValues and action.Install).
var charts sync.Map // file name → *chartResult

type chartResult struct {
	once sync.Once
	ch   *chart.Chart
	err  error
}

// loadChart loads a chart archive from the shared chart repository,
// skipping the test when the shared files are absent and not demanded.
func loadChart(t *testing.T, c observability.Chart) *chart.Chart {
	t.Helper()
	file := c.Name + "-" + c.Version + ".tgz"
	path, err := shared.Find(filepath.Join("charts", file))
	if err != nil {
		if shared.Required() {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	v, _ := charts.LoadOrStore(file, &chartResult{})
	r := v.(*chartResult)
	r.once.Do(func() { r.ch, r.err = loader.Load(path) })
	if r.err != nil {
		t.Fatalf("load chart %s: %v", file, r.err)
	}
	return r.ch
}

// render renders ch with values client-side, as `helm template` does,
// and returns the manifest.
func render(t *testing.T, ch *chart.Chart, c observability.Chart, namespace string, values map[string]any) string {
	t.Helper()
	cfg := &action.Configuration{Log: func(string, ...any) {}}
	inst := action.NewInstall(cfg)
	inst.DryRun = true
	inst.ClientOnly = true
	inst.ReleaseName = c.Release
	inst.Namespace = namespace
	inst.KubeVersion = &chartutil.KubeVersion{Version: "v1.37.0", Major: "1", Minor: "37"}
	rel, err := inst.RunWithContext(t.Context(), ch, values)
	if err != nil {
		t.Fatalf("render %s %s: %v", c.Name, c.Version, err)
	}
	return rel.Manifest
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from what was generated (run go test -update and review the diff):\n%s", path, got)
	}
}

func toYAML(t *testing.T, v any) []byte {
	t.Helper()
	b, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// lookup follows keys through nested maps.
func lookup(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}
