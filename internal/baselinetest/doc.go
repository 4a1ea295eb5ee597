// Package baselinetest installs the baseline's real upstream charts — the
// ingress controller and cert-manager, Sealed Secrets, the observability
// stack and Argo CD — on a local control plane (internal/controlplane)
// whose fake nodes are shaped like a standard environment's node pools,
// with the stand-ins for what LKE provides (LoadBalancer addresses, a
// default StorageClass whose claims are bound). It has tests only.
//
// # What the tests install
//
// Each chart comes from the shared chart repository (internal/shared),
// served over httptest, through internal/helmrelease.Ensure — atomic, so
// Helm waits for every Deployment, StatefulSet, DaemonSet, claim and
// LoadBalancer Service to be ready. Each release — name, namespace,
// pinned chart and values — is the one the SDK installs: pkg/ingress's
// (ingress-nginx, cert-manager), pkg/secrets' (sealed-secrets),
// pkg/gitops' (argo-cd, which only the hub environment installs; it is
// installed here on every environment's shapes all the same) and
// pkg/observability's (kube-prometheus-stack, its CRDs applied first from
// PrometheusOperatorCRDs; Loki; the OpenTelemetry Collector). Only the
// repository differs: the shared one over httptest. The values tested
// differ from them only by internal/testvalues/testvalues.yaml (the file the examples and pkg/rollout use too), and a test shows the
// difference is exactly what that file lists. That file is empty: kwok
// completes Job pods on paper, so every chart's hooks (cert-manager's
// startupapicheck, argo-cd's redis secret Job, ingress-nginx's webhook
// certificate Jobs) finish and none needs turning off.
//
// # What the tests check
//
// After every install: every object of the release's manifest exists
// live, every CRD is Established, every LoadBalancer Service has an
// address, every claim is Bound, every pod is scheduled onto a node of one
// of the spec's pools — a pod that fits none is reported with the
// scheduler's reason — and a second Ensure makes no new revision. Wall
// times, and per node what the pods request against what it allocates,
// are logged as "MEASURE" lines. It runs for development (one pool of
// g6-standard-2) and production (g6-dedicated-4 and a tainted ingress
// pool of g6-dedicated-2), each on a control plane of its own.
//
// The charts' admission webhooks are answered by the control plane's
// webhook stand-in (see internal/controlplane): a test creates an Ingress,
// which ingress-nginx's webhook validates, and checks the stand-in saw the
// call.
//
// # Limits
//
// kwok runs no container: Running pods are Running on paper, so a chart's
// own operators (the Prometheus operator, cert-manager's cainjector) never
// act. The Prometheus and Alertmanager pods the operator would create are
// therefore not scheduled and not counted in the fit. Most baseline pods
// request no CPU or memory with these values, so the fit says little
// about capacity until the values set requests.
package baselinetest
