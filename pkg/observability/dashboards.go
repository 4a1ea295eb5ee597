package observability

import (
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/org/platform/pkg/spec"
)

// DashboardLabel is the label Grafana's dashboard sidecar watches for; its
// value is "1".
const DashboardLabel = "grafana_dashboard"

// dashboard is one dashboard this package ships.
type dashboard struct {
	name   string // ConfigMap name suffix and file name
	title  string
	panels []panel
}

type panel struct {
	title, datasource, expr string
}

// dashboards are the platform's dashboards. Their queries read the
// environment from the constant "environment" variable, so one definition
// serves every environment.
var dashboards = []dashboard{
	{
		name:  "platform-overview",
		title: "Platform overview",
		panels: []panel{
			{"Targets down", "prometheus", `sum(up == 0) or vector(0)`},
			{"Firing alerts by severity", "prometheus", `sum by (severity) (ALERTS{alertstate="firing"})`},
			{"Nodes not Ready", "prometheus", `sum(kube_node_status_condition{condition="Ready",status="true"} == 0) or vector(0)`},
			{"Container restarts (1h)", "prometheus", `sum by (namespace) (increase(kube_pod_container_status_restarts_total[1h]))`},
		},
	},
	{
		name:  "platform-logs",
		title: "Platform logs",
		panels: []panel{
			{"Log lines by namespace", "loki", `sum by (k8s_namespace_name) (count_over_time({deployment_environment="$environment"}[5m]))`},
			{"Error lines", "loki", `{deployment_environment="$environment"} |~ "(?i)error"`},
		},
	},
}

// Dashboards returns the platform's Grafana dashboards for env (defaulted),
// one ConfigMap each in the observability namespace, labelled
// DashboardLabel: "1" so Grafana's sidecar loads them. Each dashboard's
// title ends with " (<environment>)" and it has a constant variable
// "environment" holding the name, which its log queries select on. The
// dashboards' JSON is stable: the same env gives the same bytes.
func Dashboards(env spec.Environment) ([]corev1.ConfigMap, error) {
	env = env.WithDefaults()
	cms := make([]corev1.ConfigMap, 0, len(dashboards))
	for _, d := range dashboards {
		b, err := json.MarshalIndent(d.model(env.Name), "", "  ")
		if err != nil {
			return nil, fmt.Errorf("marshal dashboard %q of %q: %w", d.name, env.Name, err)
		}
		cms = append(cms, corev1.ConfigMap{
			TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
			ObjectMeta: metav1.ObjectMeta{
				Name:      "dashboard-" + d.name,
				Namespace: env.Observability.Namespace,
				Labels: map[string]string{
					DashboardLabel:                 "1",
					"app.kubernetes.io/managed-by": "platform",
					"app.kubernetes.io/part-of":    "observability",
				},
			},
			Data: map[string]string{d.name + ".json": string(b)},
		})
	}
	return cms, nil
}

// model returns the Grafana dashboard JSON model of d for environment name.
func (d dashboard) model(name string) map[string]any {
	panels := make([]any, len(d.panels))
	for i, p := range d.panels {
		kind, target := "timeseries", map[string]any{"refId": "A", "expr": p.expr}
		if p.datasource == "loki" && i == len(d.panels)-1 {
			kind = "logs"
		}
		panels[i] = map[string]any{
			"id":         i + 1,
			"type":       kind,
			"title":      p.title,
			"datasource": map[string]any{"type": p.datasource, "uid": p.datasource},
			"gridPos":    map[string]any{"h": 8, "w": 12, "x": (i % 2) * 12, "y": (i / 2) * 8},
			"targets":    []any{target},
		}
	}
	return map[string]any{
		"uid":           d.name, // one Grafana per environment
		"title":         fmt.Sprintf("%s (%s)", d.title, name),
		"tags":          []any{"platform", name},
		"schemaVersion": 39,
		"editable":      false,
		"time":          map[string]any{"from": "now-6h", "to": "now"},
		"templating": map[string]any{"list": []any{map[string]any{
			"name":    "environment",
			"label":   "Environment",
			"type":    "constant",
			"query":   name,
			"hide":    2,
			"current": map[string]any{"text": name, "value": name},
		}}},
		"panels": panels,
	}
}
