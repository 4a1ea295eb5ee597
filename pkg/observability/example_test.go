package observability_test

import (
	"fmt"
	"log"

	"sigs.k8s.io/yaml"

	"github.com/org/platform/pkg/observability"
	"github.com/org/platform/pkg/spec"
)

// Production's alert routes become Alertmanager receivers: Slack for each
// route, PagerDuty on the critical one. The receivers' secrets are files
// mounted from the Secrets AlertSecrets names, never inline.
func ExampleAlertmanagerConfig() {
	env, err := spec.Default(spec.Production)
	if err != nil {
		log.Fatal(err)
	}
	b, err := observability.AlertmanagerConfig(env)
	if err != nil {
		log.Fatal(err)
	}
	var cfg struct {
		Receivers []struct {
			Name  string `json:"name"`
			Slack []struct {
				Channel    string `json:"channel"`
				APIURLFile string `json:"api_url_file"`
			} `json:"slack_configs"`
			PagerDuty []struct {
				RoutingKeyFile string `json:"routing_key_file"`
			} `json:"pagerduty_configs"`
		} `json:"receivers"`
	}
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		log.Fatal(err)
	}
	for _, r := range cfg.Receivers {
		for _, s := range r.Slack {
			fmt.Printf("%s: slack %s (%s)\n", r.Name, s.Channel, s.APIURLFile)
		}
		for _, p := range r.PagerDuty {
			fmt.Printf("%s: pagerduty (%s)\n", r.Name, p.RoutingKeyFile)
		}
	}
	fmt.Println(observability.AlertSecrets(env))
	// Output:
	// critical: slack #alerts-production (/etc/alertmanager/secrets/alertmanager-slack/webhook-url)
	// critical: pagerduty (/etc/alertmanager/secrets/alertmanager-pagerduty/routing-key)
	// warning: slack #alerts-production-warnings (/etc/alertmanager/secrets/alertmanager-slack/webhook-url)
	// [alertmanager-pagerduty alertmanager-slack]
}

// Every environment gets the same dashboards, as ConfigMaps Grafana's
// sidecar loads (label grafana_dashboard: "1"), and every series
// Prometheus sends carries the environment's name.
func ExampleDashboards() {
	env, err := spec.Default(spec.Staging)
	if err != nil {
		log.Fatal(err)
	}
	cms, err := observability.Dashboards(env)
	if err != nil {
		log.Fatal(err)
	}
	for _, cm := range cms {
		fmt.Println(cm.Namespace, cm.Name, cm.Labels["grafana_dashboard"])
	}
	values, err := observability.PrometheusStackValues(env)
	if err != nil {
		log.Fatal(err)
	}
	prom := values["prometheus"].(map[string]any)["prometheusSpec"].(map[string]any)
	fmt.Println(prom["externalLabels"])
	// Output:
	// monitoring dashboard-platform-overview 1
	// monitoring dashboard-platform-logs 1
	// map[environment:staging]
}
