package observability_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/org/platform/pkg/observability"
	"github.com/org/platform/pkg/spec"
)

// valuesFunc is one chart's values function.
type valuesFunc func(spec.Environment, ...observability.Option) (map[string]any, error)

var stack = []struct {
	chart  observability.Chart
	values valuesFunc
}{
	{observability.PrometheusStack, observability.PrometheusStackValues},
	{observability.Loki, observability.LokiValues},
	{observability.Collector, observability.CollectorValues},
}

// TestValuesTagEveryEnvironment checks that each environment's values put
// its name where every metric, log line and trace gets it: Prometheus'
// externalLabels, Loki's ruler labels and stream labels (through the
// indexed OTLP attribute), and the Collector's resource attribute on the
// logs (and, with tracing, traces) pipeline.
func TestValuesTagEveryEnvironment(t *testing.T) {
	t.Parallel()
	for _, name := range spec.StandardNames() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := standard(t, name)

			kps, err := observability.PrometheusStackValues(env)
			if err != nil {
				t.Fatal(err)
			}
			if got := lookup(kps, "prometheus", "prometheusSpec", "externalLabels", "environment"); got != name {
				t.Errorf("kube-prometheus-stack externalLabels.environment = %v, want %q", got, name)
			}
			if got := lookup(kps, "crds", "enabled"); got != false {
				t.Errorf("kube-prometheus-stack crds.enabled = %v, want false: the CRDs are their own step", got)
			}
			if got := lookup(kps, "grafana", "admin", "existingSecret"); got != observability.GrafanaAdminSecret {
				t.Errorf("grafana.admin.existingSecret = %v, want %q", got, observability.GrafanaAdminSecret)
			}
			if got := lookup(kps, "prometheus", "prometheusSpec", "retention"); got != env.Observability.MetricsRetention {
				t.Errorf("prometheus retention = %v, want %q", got, env.Observability.MetricsRetention)
			}

			loki, err := observability.LokiValues(env)
			if err != nil {
				t.Fatal(err)
			}
			if got := lookup(loki, "loki", "rulerConfig", "external_labels", "environment"); got != name {
				t.Errorf("loki ruler external_labels.environment = %v, want %q", got, name)
			}
			indexed := toJSON(t, lookup(loki, "loki", "limits_config", "otlp_config"))
			if !strings.Contains(indexed, `"action":"index_label"`) || !strings.Contains(indexed, `"deployment.environment"`) {
				t.Errorf("loki does not index deployment.environment as a stream label: otlp_config = %s", indexed)
			}
			if got := lookup(loki, "loki", "limits_config", "retention_period"); got != env.Observability.LogsRetention {
				t.Errorf("loki retention_period = %v, want %q", got, env.Observability.LogsRetention)
			}

			otel, err := observability.CollectorValues(env)
			if err != nil {
				t.Fatal(err)
			}
			attrs, _ := lookup(otel, "config", "processors", "resource/environment", "attributes").([]any)
			found := false
			for _, a := range attrs {
				if lookup(a, "key") == "deployment.environment" && lookup(a, "value") == name {
					found = true
				}
			}
			if !found {
				t.Errorf("collector sets no resource attribute deployment.environment=%s: %v", name, attrs)
			}
			if got := lookup(otel, "mode"); got != "daemonset" {
				t.Errorf("collector mode = %v, want daemonset", got)
			}
			pipelines := []string{"logs"}
			if env.Observability.Tracing {
				pipelines = append(pipelines, "traces")
			}
			for _, p := range pipelines {
				procs, _ := lookup(otel, "config", "service", "pipelines", p, "processors").([]any)
				if !slices.Contains(procs, any("resource/environment")) {
					t.Errorf("collector %s pipeline processors %v lack resource/environment", p, procs)
				}
			}
			if got := lookup(otel, "config", "service", "pipelines", "logs", "exporters"); !slices.Contains(got.([]any), any("otlphttp/loki")) {
				t.Errorf("collector logs go to %v, want otlphttp/loki", got)
			}
		})
	}
}

// TestValuesGolden keeps each environment's values documents, one per
// chart, readable in review.
func TestValuesGolden(t *testing.T) {
	t.Parallel()
	for _, name := range spec.StandardNames() {
		for _, c := range stack {
			t.Run(name+"/"+c.chart.Name, func(t *testing.T) {
				t.Parallel()
				v, err := c.values(standard(t, name))
				if err != nil {
					t.Fatal(err)
				}
				golden(t, name+"/"+c.chart.Name+".values.yaml", toYAML(t, v))
			})
		}
	}
}

// TestValuesKnownToChartsAndRender checks every environment's values
// against the charts themselves: no key the chart does not know, and a
// client-side render that succeeds, is the same twice (nothing random) and
// carries the environment's name.
func TestValuesKnownToChartsAndRender(t *testing.T) {
	t.Parallel()
	for _, name := range spec.StandardNames() {
		for _, c := range stack {
			t.Run(name+"/"+c.chart.Name, func(t *testing.T) {
				t.Parallel()
				ch := loadChart(t, c.chart)
				env := standard(t, name)
				values := func() map[string]any {
					v, err := c.values(env)
					if err != nil {
						t.Fatal(err)
					}
					return v
				}
				unknown, err := observability.UnknownValues(ch, values())
				if err != nil {
					t.Fatal(err)
				}
				if len(unknown) > 0 {
					t.Errorf("values have keys %s %s does not know: %v", c.chart.Name, c.chart.Version, unknown)
				}
				first := render(t, ch, c.chart, env.Observability.Namespace, values())
				second := render(t, ch, c.chart, env.Observability.Namespace, values())
				if first != second {
					t.Errorf("two renders of %s differ: something in the values or chart is random", c.chart.Name)
				}
				// What each chart must carry through to its objects.
				markers := map[string][]string{
					observability.PrometheusStack.Name: {"environment: " + name, "- alertmanager-slack"}, // the Alertmanager config itself is base64 in a Secret
					observability.Loki.Name:            {"environment: " + name, "index_label"},
					observability.Collector.Name:       {"value: " + name, "- file_log", "otlphttp/loki", "kind: DaemonSet"}, // the chart renames filelog to file_log
				}[c.chart.Name]
				for _, m := range markers {
					if !strings.Contains(first, m) {
						t.Errorf("rendered %s lacks %q", c.chart.Name, m)
					}
				}
				if strings.Contains(first, "kind: CustomResourceDefinition") {
					t.Errorf("rendered %s holds CRDs; they are installed apart", c.chart.Name)
				}
				if c.chart == observability.PrometheusStack {
					if !strings.Contains(first, "name: "+observability.GrafanaAdminSecret) {
						t.Errorf("rendered Grafana does not read its admin credentials from Secret %s", observability.GrafanaAdminSecret)
					}
					if strings.Contains(first, "admin-password: ") {
						t.Errorf("the render holds a Grafana admin password; it must come from Secret %s", observability.GrafanaAdminSecret)
					}
				}
			})
		}
	}
}

// TestUnknownValuesFindsMisspelling checks that the unknown-key check
// would catch a misspelt key at any depth, and only that.
func TestUnknownValuesFindsMisspelling(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		chart  observability.Chart
		values valuesFunc
		edit   func(map[string]any)
		want   []string
	}{
		{
			name: "top level", chart: observability.Loki, values: observability.LokiValues,
			edit: func(v map[string]any) { v["singelBinary"] = v["singleBinary"] },
			want: []string{"singelBinary"},
		},
		{
			name: "nested in a subchart", chart: observability.PrometheusStack, values: observability.PrometheusStackValues,
			edit: func(v map[string]any) {
				lookup(v, "grafana", "admin").(map[string]any)["existingSecrett"] = "grafana-admin"
			},
			want: []string{"grafana.admin.existingSecrett"},
		},
		{
			name: "nested in the parent", chart: observability.PrometheusStack, values: observability.PrometheusStackValues,
			edit: func(v map[string]any) {
				lookup(v, "prometheus", "prometheusSpec").(map[string]any)["externalLabel"] = map[string]any{"environment": "x"}
			},
			want: []string{"prometheus.prometheusSpec.externalLabel"},
		},
		{
			name: "free-form collector component is accepted", chart: observability.Collector, values: observability.CollectorValues,
			edit: func(v map[string]any) {
				lookup(v, "config", "exporters").(map[string]any)["otlp/tempo"] = map[string]any{"endpoint": "tempo:4317"}
			},
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ch := loadChart(t, tt.chart)
			v, err := tt.values(standard(t, spec.Staging))
			if err != nil {
				t.Fatal(err)
			}
			tt.edit(v)
			got, err := observability.UnknownValues(ch, v)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("UnknownValues = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestPrometheusOperatorCRDs checks that the CRDs left out of the release
// are all there to apply on their own.
func TestPrometheusOperatorCRDs(t *testing.T) {
	t.Parallel()
	crds, err := observability.PrometheusOperatorCRDs(loadChart(t, observability.PrometheusStack))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range crds {
		names = append(names, c.GetName())
	}
	for _, want := range []string{
		"alertmanagerconfigs.monitoring.coreos.com", "alertmanagers.monitoring.coreos.com",
		"podmonitors.monitoring.coreos.com", "prometheuses.monitoring.coreos.com",
		"prometheusrules.monitoring.coreos.com", "servicemonitors.monitoring.coreos.com",
	} {
		if !slices.Contains(names, want) {
			t.Errorf("CRD %s missing from %v", want, names)
		}
	}
	if !slices.IsSorted(names) {
		t.Errorf("CRDs not sorted by name: %v", names)
	}
}

func TestValuesRefuseDisabledObservability(t *testing.T) {
	t.Parallel()
	env := standard(t, spec.Development)
	env.Observability.Enabled = false
	for _, c := range stack {
		if _, err := c.values(env); err == nil || !strings.Contains(err.Error(), "observability.enabled") {
			t.Errorf("%s values with observability disabled: err = %v, want one naming observability.enabled", c.chart.Name, err)
		}
	}
}

func toJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
