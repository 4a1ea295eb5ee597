// Package observability builds what an environment's monitoring stack is
// made from, and validates it before anything is installed: the Helm values
// of kube-prometheus-stack (Prometheus, Alertmanager, Grafana), Loki and the
// OpenTelemetry Collector; the Alertmanager configuration and the alert
// rules; the Grafana dashboards; and the CustomResourceDefinitions that
// kube-prometheus-stack needs, as a list of their own. Installing the
// releases is not this package's job: the Helm release step takes these
// values.
//
// # Charts
//
// PrometheusStack, Loki and Collector name the charts and versions the
// values are written for. PrometheusStackValues, LokiValues and
// CollectorValues each return the values document of one chart for one
// environment. Every document is a plain map that marshals to the same
// bytes on every call: nothing random (Grafana's admin password is read from
// the Secret GrafanaAdminSecret, never generated), no timestamps.
//
// Everything the stack collects is tagged with the environment's name:
// Prometheus' externalLabels carry environment: <name> (so every alert and
// every remote-written series has it), the Collector sets the resource
// attribute deployment.environment on every log line and trace, Loki indexes
// that attribute as the stream label deployment_environment and its ruler
// adds environment: <name> to the alerts it sends.
//
// kube-prometheus-stack is installed with crds.enabled: false; its
// operator's CRDs (about 4.5 MB) are applied on their own, from
// PrometheusOperatorCRDs.
//
// # Alerting
//
// AlertmanagerConfig turns the spec's observability.alertRoutes into an
// Alertmanager configuration: one route and one receiver per alert route,
// matching on the alert's severity label, with a Slack receiver where the
// route names a Slack channel and, in production, PagerDuty on the critical
// routes. The receivers' secrets are never in the configuration: it names
// files (api_url_file, routing_key_file) that Alertmanager reads from the
// Secrets mounted into its pods (alertmanager.alertmanagerSpec.secrets),
// which Sealed Secrets unseals. The configuration is parsed by
// Alertmanager's own config package, and the alert rules (AlertRules) by
// Prometheus' rulefmt, before they are returned.
//
// The settings the spec does not hold — scrape and evaluation intervals,
// grouping, extra routes and the rules — are an Alerting value
// (DefaultAlerting, or WithAlerting). Validate reports problems in them as
// spec.FieldErrors with paths under "observability.alerting", as if the
// section were part of the spec.
//
// # Alert-propagation budget
//
// An alert must reach its receiver within PropagationBudget (5 minutes) of
// the condition starting. The worst case for a rule is
//
//	scrapeInterval + evaluationInterval + for + groupWait (+ groupInterval)
//
// where groupInterval counts when the alert's group may already be firing,
// which is whenever the route groups by anything but "..." (every label):
// an alert joining a firing group waits for the group's next flush. A rule
// over budget is a FieldError at observability.alerting.rules[<alert>].for
// whose message lists every term. Rules whose severity no route matches
// notify no one and have no budget.
//
// # Dashboards and unknown keys
//
// Dashboards returns ConfigMaps labelled grafana_dashboard: "1", which
// Grafana's dashboard sidecar loads; each dashboard carries the environment
// in its title and in a constant "environment" variable.
//
// UnknownValues compares a values document with a loaded chart's own
// default values (its subcharts' included) and reports every key the chart
// does not know, so a misspelt key fails instead of being ignored by Helm.
//
// Validation needs no cluster and sends no request. Nothing in this package
// keeps state between calls; every function is safe for concurrent use.
package observability
