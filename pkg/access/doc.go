// Package access serves environment access metadata over HTTP: for each
// environment, where its Kubernetes API answers, which namespaces the
// platform made in it, its ingress, its Grafana dashboards and its alert
// routes — what a developer or a tool needs to find its way in, and never a
// credential.
//
// # The API
//
// Handler is a net/http handler with two read-only routes, described by the
// OpenAPI 3 document OpenAPI returns (openapi.yaml, embedded):
//
//	GET /environments         {"environments": [Environment, ...]}, by name
//	GET /environments/{name}  Environment
//
// Responses are application/json; every error is the envelope
// {"error": {"code": ..., "message": ...}}: 404 not_found for an unknown
// environment or path, 405 method_not_allowed (with Allow: GET, HEAD) for any
// other method, 503 unavailable when the Source fails (its error is logged,
// not sent: it may name internals). A 200 carries a strong ETag, the SHA-256
// of the body; a request whose If-None-Match holds it gets 304 with no body.
// HEAD answers as GET without the body. The handler keeps no state between
// requests and is safe for concurrent use.
//
// # What is never served
//
// No kubeconfig, token, key or webhook URL: the Environment type has no
// field that could hold one. Alert routes are served by name, severity and
// Slack channel only — not the Secret reference that holds their webhook
// URL. Namespaces are served by name, team and whether the ingress
// controller reaches them — not their labels or quotas. Cluster tags, the
// control-plane ACL, the firewall and GitOps repository are not served. A
// test sets a canary in the spec fields that are not served (labels, tags,
// the alert routes' Secret reference, the repository, the key-backup
// bucket, firewall descriptions) and takes the token, CA and whole text of
// the cluster's kubeconfig, and checks that none reaches any response or
// log line.
//
// # Sources
//
// The handler reads through Source, an interface this package owns.
// NewSource builds one from specs and the Linode API (LKEAPI, the two
// linodego methods it calls): per request, one list of the clusters by their
// labels (spec cluster.label, default "platform-<name>"; one filtered
// request for all, checked again client-side, as pkg/cluster finds them),
// then GET /lke/clusters/{id}/api-endpoints for each cluster found. An
// environment whose cluster does not exist yet is served with status
// "absent" and no endpoints; two clusters with one label is an error
// (change.ErrConflict). Nothing is cached: each request reads Linode again.
//
// Static is a Source of fixed values, for tests and for callers that build
// the metadata themselves.
//
// # Dashboards and ingress hosts
//
// This package is a concern of its own and does not import the others, so
// NewSource does not ask pkg/observability for the dashboards: by default
// an environment with observability enabled lists PlatformDashboards (the
// dashboards pkg/observability ships, uid and title; a test holds the two
// lists equal), each at Grafana's path /d/<uid>, and WithDashboards
// replaces that list. The spec names no ingress host — the address LKE's
// NodeBalancer gives the controller is known only once it exists — so the
// host is served only when WithIngressHosts supplies it.
package access
