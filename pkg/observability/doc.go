// Package observability will install and keep converged an environment's
// monitoring stack through the Helm v3 SDK: Prometheus and Grafana
// (kube-prometheus-stack), Loki, the OpenTelemetry Collector, alert routes
// and dashboards. It is not implemented yet; it holds only this scope so the
// module's layout and import rules (see internal/depcheck) are fixed now.
package observability
