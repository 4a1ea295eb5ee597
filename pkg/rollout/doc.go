// Package rollout composes the concerns of an environment — its Cloud
// Firewall and VPC (pkg/network), its LKE cluster (pkg/cluster) and the
// Kubernetes baseline inside it (pkg/network) — into one plan for one or
// many environments, and applies it.
//
// # One plan, as data
//
// Plan observes and returns an Artifact: per environment, its steps in
// dependency order (firewall and VPC, then the cluster with its pools
// attached to that firewall and placed in the VPC's "nodes" subnet, then
// the namespaces, quotas, RBAC and NetworkPolicies), each step carrying the
// request it sends. Values not known until an earlier step runs (the id of
// a firewall still to be created) are references, shown as
// "(known after apply)" and resolved when the plan is applied. A plan is
// read-only on every layer: Linode is only read, and the Kubernetes layer is
// planned by server-side apply in dry-run against the live API server (or,
// for a cluster that does not exist yet, as creating everything the spec
// asks for — never shown empty).
//
// The Artifact is JSON (WriteJSON, ReadPlan) with a schemaVersion, the
// digest of the specs, the plan Digest (SHA-256 over the canonical JSON of
// every environment's steps) and, per environment, the base its decisions
// were made on: only the observed values they compared — never autoscaled
// pool counts, node or cluster status, instance ids, resourceVersions or
// quota usage, which move on their own.
//
// # Applying exactly what was reviewed
//
// Apply executes exactly a plan's steps and nothing else. It refuses, before
// the first write and with nothing written:
//
//   - a plan file that does not parse, has another schema version, or was
//     altered after it was written (ErrInvalidPlan);
//   - a GitOps-only environment (spec gitops.gitOpsOnly, production by
//     default) without an approval equal to the plan Digest
//     (change.ErrApprovalRequired). The SDK checks the digest; the
//     authority that grants it is the workflow's protected environment with
//     its required reviewers — spec gitops.requiredApprovals documents that
//     setting, and the SDK does not pretend to count reviewers;
//   - a stale plan: the world moved under one of the values its base
//     recorded (ErrStale; StaleError names each value, from → to).
//
// Ensure is Plan then Apply, planning again from fresh reads until a plan is
// empty, in the reconcile loop every concern shares (internal/reconcile).
// GitOps-only environments are not changed by Ensure: their changes go
// through a saved, approved plan. The example programs approve the digest
// of the plan they just printed only under their -approve-simulation flag,
// which is on by default on the simulator and refused against the real
// API; WithSimulationSelfApproval does the same for Ensure.
//
// # Many environments
//
// The environments are validated once, up front, every section of every
// spec, before the first request. They are planned and applied
// concurrently and in isolation: one environment's failure stops none of
// the others, and the Result names each environment's outcome. Environments
// that share a Linode client (one account and token) share one observation:
// a no-op plan of the four standard environments costs one filtered list
// each of clusters, firewalls (rules included) and VPCs (subnets included),
// and per cluster its pools and its control-plane ACL — 11 requests — plus
// one kubeconfig read per existing cluster when the Kubernetes layers are
// planned. Environments given their own client (Deps.LinodeFor) are
// observed apart.
//
// # Output
//
// Artifact.Human writes the plan in the manner of terraform plan: grouped
// per environment and layer, "+" create, "~" update, "-/+" replace, "-"
// delete, each field from → to, sensitive values as "(sensitive)", and a
// summary that counts objects ("2 to add, 1 to change, 1 to replace, 0 to
// destroy").
package rollout
