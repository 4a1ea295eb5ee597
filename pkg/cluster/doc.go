// Package cluster provisions the LKE cluster of an environment and keeps it
// as its spec says: EnsureCluster creates or adopts the cluster, fixes what
// drifted and waits until it is ready; WaitReady, Kubeconfig,
// WriteKubeconfig and DeleteCluster cover the rest of a cluster's life. It
// talks to the Linode API only, through LKEAPI (a *linodego.Client, or the
// simulator of pkg/linodetest in tests); it never imports Kubernetes or
// Helm.
//
// # Plans are data
//
// PlanCluster (or Observe, then PlanFrom, to plan many clusters from one
// read) returns a Plan: ordered steps, each with its op (create, update,
// replace, delete), the object, its field changes from → to, and the
// linodego request it sends, plus the base the decisions compared. It
// survives JSON. ApplyCluster (or ApplyStep, one step at a time) executes
// exactly its steps; EnsureCluster is Plan and Apply in the reconcile loop
// every concern shares. Where the cluster goes — the firewall its pools are
// attached to, the VPC subnet its nodes are placed in — is a typed
// Placement; for a new environment those ids are references to the steps
// that create them, shown as "(known after apply)".
//
// # Guarantees
//
//   - Idempotent: a second EnsureCluster with the same spec sends no write
//     and reports no change; for a ready cluster it costs three reads
//     (cluster by label with X-Filter, its pools, its control-plane ACL).
//   - Validated first: an invalid spec returns every field error before
//     the first request.
//   - Pools are keyed by name, carried in an ownership tag (see
//     PoolTagPrefix), never by list position: reordering pools writes
//     nothing; a type change creates the new pool and deletes the old one
//     only once every new node is ready; pools without our tag are never
//     touched.
//   - The cluster autoscaler owns the count of an autoscaled pool: the
//     spec's count is its initial size only.
//   - Irreversible changes (HA or ACL off, downgrades) and impossible ones
//     (region, tier) are refused before any write, naming the field.
//   - Upgrades wait until every node present when the upgrade began has
//     been replaced and every node is ready — never a fixed sleep — and an
//     interrupted upgrade is finished by the next run (see UpgradeTag).
//   - Creating POSTs are never retried blindly: after an error the state is
//     re-read and re-planned, so a cluster or pool whose creation response
//     was lost is found, not made twice. Reads, PUTs and DELETEs are sent
//     once by this package and repeated by the linodego client (see
//     "Retries" below); a write whose transient failure outlasts the
//     client's retries is settled by the reconcile loop's next round.
//   - The kubeconfig is never logged nor put in an error, and
//     WriteKubeconfig writes it with mode 0600.
//
// # Defaults and limits
//
// Polls start every 5 s and back off ×1.5 to 30 s (WithPollInterval,
// WithMaxPollInterval) on the wall clock (WithClock); waiting is bounded by
// the caller's context only. Readiness is read from the pool list: one
// request per poll, whatever the number of nodes. A listed pool whose
// firewall_id the list leaves out (older API versions) is read on its own
// when the placement names a firewall — never taken as detached. ACL
// addresses are compared as CIDRs, as the API stores them. LKE raises
// versions one minor at a time: a spec more than
// one minor ahead fails with the API's error. A recycle whose response was
// lost is taken as sent when a new node appears; otherwise the next round
// of the reconcile loop resumes the upgrade and sends it again.
//
// # Retries
//
// This package has no retry layer of its own for Linode requests: it
// relies on the linodego client's. Configure the client you pass with
// pkg/linodeclient — linodeclient.NewClient for the real API, or
// linodeclient.Configure on a client you built — which repeats reads,
// PUTs and DELETEs on 429, 500, 502, 503, 504 and dropped connections
// (POSTs on 429 and 503 only) a bounded number of times, honouring
// Retry-After; pkg/linodetest's clients are configured so. Waiting is not
// retrying: polls for readiness and for the kubeconfig carry on through
// transient errors until ctx ends.
//
// A client that is not configured so keeps linodego's defaults: up to 1000
// retries of 429 and 503 on any request (hours, on an API that is down)
// and none of 500, 502, 504 or dropped connections, so a single such
// failure of a read makes EnsureCluster, PlanCluster, Observe or
// DeleteCluster fail, and one of a write costs a reconcile round
// (WithMaxRounds bounds them).
package cluster
