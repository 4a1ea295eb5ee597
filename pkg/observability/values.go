package observability

import (
	"fmt"

	"github.com/prometheus/common/model"

	"github.com/org/platform/pkg/spec"
)

// Chart names a Helm chart, the version this package's values are written
// for, and the release it is installed as.
type Chart struct {
	// Name is the chart's name in its repository.
	Name string
	// Version is the chart version.
	Version string
	// Repository is the chart repository's URL.
	Repository string
	// Release is the Helm release name, in the observability namespace.
	Release string
}

// The charts of the stack.
var (
	// PrometheusStack is kube-prometheus-stack: the Prometheus operator,
	// Prometheus, Alertmanager, Grafana, node-exporter and
	// kube-state-metrics. Its CRDs are installed apart (PrometheusOperatorCRDs).
	PrometheusStack = Chart{Name: "kube-prometheus-stack", Version: "88.5.3",
		Repository: "https://prometheus-community.github.io/helm-charts", Release: "kube-prometheus-stack"}
	// Loki is the grafana-community Loki chart, run as a single binary on
	// its filesystem.
	Loki = Chart{Name: "loki", Version: "18.11.0",
		Repository: "https://grafana-community.github.io/helm-charts", Release: "loki"}
	// Collector is the OpenTelemetry Collector, run as a DaemonSet.
	Collector = Chart{Name: "opentelemetry-collector", Version: "0.170.0",
		Repository: "https://open-telemetry.github.io/opentelemetry-helm-charts", Release: "otel-collector"}
)

// GrafanaAdminSecret is the Secret, in the observability namespace, holding
// Grafana's admin user (key "admin-user") and password (key
// "admin-password"). Sealed Secrets provides it; the chart never generates
// a password, so every render is the same.
const GrafanaAdminSecret = "grafana-admin"

// EnvironmentLabel is the label Prometheus and Loki's ruler put on
// everything they send (externalLabels), with the environment's name.
const EnvironmentLabel = "environment"

// EnvironmentAttribute is the OpenTelemetry resource attribute the
// Collector sets on every log record and span, with the environment's name.
// Loki indexes it as the stream label "deployment_environment".
const EnvironmentAttribute = "deployment.environment"

// lokiURL is Loki's HTTP endpoint inside the cluster: the single binary's
// Service, named after the release.
func lokiURL(env spec.Environment) string {
	return fmt.Sprintf("http://%s.%s.svc.cluster.local:3100", Loki.Release, env.Observability.Namespace)
}

// prepare defaults env and validates it with its alerting settings.
func prepare(env spec.Environment, opts []Option) (spec.Environment, Alerting, error) {
	env = env.WithDefaults()
	if err := Validate(env, opts...); err != nil {
		return env, Alerting{}, err
	}
	if !env.Observability.Enabled {
		return env, Alerting{}, fmt.Errorf("values of environment %q: observability.enabled is false", env.Name)
	}
	return env, alertingOf(env, opts), nil
}

// PrometheusStackValues returns the values of PrometheusStack for env
// (defaulted with spec.Environment.WithDefaults), after Validate:
//
//   - crds.enabled false (the CRDs are PrometheusOperatorCRDs) and the
//     operator's admission webhooks off (their certificates come from Helm
//     hook Jobs; this package validates its own rules and configuration);
//   - prometheus: externalLabels environment: <name>, retention
//     observability.metricsRetention, the Alerting scrape and evaluation
//     intervals, and every PrometheusRule and ServiceMonitor selected
//     whatever its Helm labels;
//   - additionalPrometheusRulesMap.platform: AlertRules;
//   - alertmanager: AlertmanagerConfig, with AlertSecrets mounted;
//   - grafana: admin credentials from GrafanaAdminSecret, dashboards from
//     ConfigMaps labelled grafana_dashboard: "1" in the observability
//     namespace (Dashboards), and Loki as a data source.
//
// An invalid env is spec.FieldErrors; observability.enabled false is an
// error too.
func PrometheusStackValues(env spec.Environment, opts ...Option) (map[string]any, error) {
	env, a, err := prepare(env, opts)
	if err != nil {
		return nil, err
	}
	am, err := alertmanagerConfig(env, a)
	if err != nil {
		return nil, err
	}
	rules, err := alertRules(env, a)
	if err != nil {
		return nil, err
	}
	secrets := []any{}
	for _, s := range alertSecrets(env, a) {
		secrets = append(secrets, s)
	}
	promSpec := map[string]any{
		"externalLabels":     map[string]any{EnvironmentLabel: env.Name},
		"scrapeInterval":     model.Duration(a.ScrapeInterval).String(),
		"evaluationInterval": model.Duration(a.EvaluationInterval).String(),
		// Select the rules and monitors of every release and team, not only
		// those carrying this release's Helm labels.
		"ruleSelectorNilUsesHelmValues":           false,
		"serviceMonitorSelectorNilUsesHelmValues": false,
		"podMonitorSelectorNilUsesHelmValues":     false,
	}
	if r := env.Observability.MetricsRetention; r != "" {
		promSpec["retention"] = r
	}
	return map[string]any{
		"crds": map[string]any{"enabled": false},
		"prometheusOperator": map[string]any{
			"admissionWebhooks": map[string]any{"enabled": false},
		},
		"prometheus":                   map[string]any{"prometheusSpec": promSpec},
		"additionalPrometheusRulesMap": map[string]any{"platform": rules},
		"alertmanager": map[string]any{
			"config":           am,
			"alertmanagerSpec": map[string]any{"secrets": secrets},
		},
		"grafana": map[string]any{
			"admin": map[string]any{
				"existingSecret": GrafanaAdminSecret,
				"userKey":        "admin-user",
				"passwordKey":    "admin-password",
			},
			"sidecar": map[string]any{"dashboards": map[string]any{
				"enabled":         true,
				"label":           DashboardLabel,
				"labelValue":      "1",
				"searchNamespace": env.Observability.Namespace,
			}},
			"additionalDataSources": []any{map[string]any{
				"name":   "Loki",
				"uid":    "loki",
				"type":   "loki",
				"access": "proxy",
				"url":    lokiURL(env),
			}},
		},
	}, nil
}

// LokiValues returns the values of Loki for env (defaulted), after
// Validate: one single-binary replica on its filesystem (the chart
// README's minimal monolithic values), single-tenant, logs kept for
// observability.logsRetention by the compactor, the OTLP resource attribute
// EnvironmentAttribute indexed as a stream label, and the ruler's alerts
// labelled environment: <name>. The memcached chunk and result caches are
// off: their default ~10 GiB request fits no standard environment's nodes.
func LokiValues(env spec.Environment, opts ...Option) (map[string]any, error) {
	env, _, err := prepare(env, opts)
	if err != nil {
		return nil, err
	}
	limits := map[string]any{
		"otlp_config": map[string]any{"resource_attributes": map[string]any{
			"attributes_config": []any{map[string]any{
				"action":     "index_label",
				"attributes": []any{EnvironmentAttribute},
			}},
		}},
	}
	loki := map[string]any{
		"auth_enabled": false,
		"commonConfig": map[string]any{"replication_factor": 1},
		"storage":      map[string]any{"type": "filesystem"},
		"schemaConfig": map[string]any{"configs": []any{map[string]any{
			"from":         "2024-04-01",
			"store":        "tsdb",
			"object_store": "filesystem",
			"schema":       "v13",
			"index":        map[string]any{"prefix": "index_", "period": "24h"},
		}}},
		"limits_config": limits,
		"rulerConfig": map[string]any{
			"external_labels": map[string]any{EnvironmentLabel: env.Name},
		},
	}
	if r := env.Observability.LogsRetention; r != "" {
		limits["retention_period"] = r
		loki["compactor"] = map[string]any{
			"retention_enabled":    true,
			"delete_request_store": "filesystem",
		}
	}
	return map[string]any{
		"deploymentMode": "SingleBinary",
		"loki":           loki,
		"singleBinary":   map[string]any{"replicas": 1},
		"read":           map[string]any{"replicas": 0},
		"write":          map[string]any{"replicas": 0},
		"backend":        map[string]any{"replicas": 0},
		"chunksCache":    map[string]any{"enabled": false},
		"resultsCache":   map[string]any{"enabled": false},
	}, nil
}

// CollectorValues returns the values of Collector for env (defaulted), after
// Validate: a DaemonSet of the Kubernetes distribution (otelcol-k8s) whose
// filelog receiver (the chart's logsCollection preset) reads every pod's
// logs, with Kubernetes metadata added, tags each record with
// EnvironmentAttribute, and ships it to Loki's OTLP endpoint. With
// observability.tracing, a traces pipeline takes OTLP spans, tags them the
// same way and, since the stack has no trace store yet, hands them to the
// debug exporter; without it, the chart's default traces pipeline is
// removed. The chart's default metrics pipeline (to the debug exporter) is
// removed: Prometheus scrapes the Collector.
func CollectorValues(env spec.Environment, opts ...Option) (map[string]any, error) {
	env, _, err := prepare(env, opts)
	if err != nil {
		return nil, err
	}
	pipelines := map[string]any{
		"logs": map[string]any{
			"receivers":  []any{"otlp"},
			"processors": []any{"memory_limiter", "resource/environment", "batch"},
			"exporters":  []any{"otlphttp/loki"},
		},
		"metrics": nil,
		"traces":  nil,
	}
	if env.Observability.Tracing {
		pipelines["traces"] = map[string]any{
			"receivers":  []any{"otlp"},
			"processors": []any{"memory_limiter", "resource/environment", "batch"},
			"exporters":  []any{"debug"},
		}
	}
	return map[string]any{
		"mode":    "daemonset",
		"image":   map[string]any{"repository": "ghcr.io/open-telemetry/opentelemetry-collector-releases/opentelemetry-collector-k8s"},
		"command": map[string]any{"name": "otelcol-k8s"},
		"presets": map[string]any{
			"logsCollection":       map[string]any{"enabled": true},
			"kubernetesAttributes": map[string]any{"enabled": true},
		},
		"config": map[string]any{
			"processors": map[string]any{
				"resource/environment": map[string]any{"attributes": []any{map[string]any{
					"key":    EnvironmentAttribute,
					"value":  env.Name,
					"action": "upsert",
				}}},
			},
			"exporters": map[string]any{
				"otlphttp/loki": map[string]any{"endpoint": lokiURL(env) + "/otlp"},
			},
			"service": map[string]any{"pipelines": pipelines},
		},
	}, nil
}
