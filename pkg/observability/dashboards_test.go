package observability_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/org/platform/pkg/observability"
	"github.com/org/platform/pkg/spec"
)

// TestDashboardsPerEnvironment checks that every dashboard is a ConfigMap
// Grafana's sidecar loads, in the namespace the sidecar searches, and names
// its environment in its title and its "environment" variable.
func TestDashboardsPerEnvironment(t *testing.T) {
	t.Parallel()
	for _, name := range spec.StandardNames() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := standard(t, name)
			cms, err := observability.Dashboards(env)
			if err != nil {
				t.Fatal(err)
			}
			if len(cms) == 0 {
				t.Fatal("no dashboards")
			}
			kps, err := observability.PrometheusStackValues(env)
			if err != nil {
				t.Fatal(err)
			}
			sidecar := lookup(kps, "grafana", "sidecar", "dashboards")
			for _, cm := range cms {
				if got := cm.Labels[observability.DashboardLabel]; got != "1" || lookup(sidecar, "label") != observability.DashboardLabel || lookup(sidecar, "labelValue") != "1" {
					t.Errorf("%s: label %s=%q; sidecar watches %v=%v", cm.Name, observability.DashboardLabel, got, lookup(sidecar, "label"), lookup(sidecar, "labelValue"))
				}
				if cm.Namespace != env.Observability.Namespace || lookup(sidecar, "searchNamespace") != cm.Namespace {
					t.Errorf("%s in namespace %q; sidecar searches %v", cm.Name, cm.Namespace, lookup(sidecar, "searchNamespace"))
				}
				if len(cm.Data) != 1 {
					t.Fatalf("%s holds %d files, want one dashboard", cm.Name, len(cm.Data))
				}
				for file, doc := range cm.Data {
					var d struct {
						Title      string `json:"title"`
						Templating struct {
							List []struct {
								Name  string `json:"name"`
								Query string `json:"query"`
							} `json:"list"`
						} `json:"templating"`
					}
					if err := json.Unmarshal([]byte(doc), &d); err != nil {
						t.Fatalf("%s/%s: %v", cm.Name, file, err)
					}
					if !strings.HasSuffix(d.Title, "("+name+")") {
						t.Errorf("%s: title %q does not name %s", cm.Name, d.Title, name)
					}
					found := false
					for _, v := range d.Templating.List {
						found = found || (v.Name == "environment" && v.Query == name)
					}
					if !found {
						t.Errorf("%s: no variable environment=%s in %+v", cm.Name, name, d.Templating.List)
					}
				}
			}
		})
	}
}
