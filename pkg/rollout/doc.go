// Package rollout composes the concerns of an environment — its Cloud
// Firewall and VPC (pkg/network), its LKE cluster (pkg/cluster), the
// Kubernetes baseline inside it (pkg/network: namespaces, quotas, RBAC,
// NetworkPolicies), the baseline's Helm releases and objects (pkg/secrets,
// pkg/ingress, pkg/observability) and its part of GitOps (pkg/gitops) —
// into one plan for one or many environments, and applies it. It also
// keeps the records change management needs (locks, snapshots, audit),
// plans rollbacks to a snapshot, reports drift, and tears environments
// down (Destroy, Sweep).
//
// # One plan, as data
//
// Plan observes and returns an Artifact: per environment, its steps in
// dependency order (firewall and VPC, then the cluster with its pools
// attached to that firewall and placed in the VPC's "nodes" subnet, then
// the namespaces, quotas, RBAC and NetworkPolicies, then the baseline
// layers secrets, helm, observability and gitops), each step carrying the
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
// # The baseline releases
//
// Unless Argo CD owns it (below), an environment's baseline is, in apply
// order: the Sealed Secrets controller (layer secrets,
// secrets.ControllerRelease) and the environment's sealed secrets
// (SealedSecrets: the Secrets Alertmanager's receivers and Grafana's admin
// read); cert-manager, the ingress controller and,
// when spec ingress.acmeEmail is set, the ClusterIssuer (layer helm,
// pkg/ingress); the Prometheus operator's CRDs, kube-prometheus-stack,
// Loki, the OpenTelemetry Collector and the Grafana dashboards (layer
// observability, pkg/observability). Each release is one step of
// internal/helmrelease (at most one per release: install, upgrade, or a
// drift correction); each plain object a step of internal/kubeobjects.
// Every release's values are checked against its chart first: a key the
// chart does not know fails the plan. The items of one environment are
// planned concurrently, four at a time, and put back in apply order.
// Warnings the reviewer must read (ingress-nginx retired upstream, for
// one) are in EnvironmentPlan.Warnings.
//
// How the baseline is planned is said in EnvironmentPlan.Baseline:
//
//   - live: the cluster exists and answers; each release is planned
//     against its deployed revision and a server-side dry-run of its
//     objects, each plain object by a dry-run apply;
//   - new: the cluster does not exist yet; every release is planned as an
//     install rendered with Helm's built-in capabilities pinned to the
//     spec's Kubernetes version (helmrelease.PlanNew), so the plan is not
//     stale once the cluster exists, and every object as a create;
//   - rendered only: Deps.KubernetesSkipped is set (no Kubernetes API);
//     no baseline step is planned, but every release is rendered with its
//     values and listed in EnvironmentPlan.Rendered (chart, digests, the
//     number of objects), so the plan still shows what would be installed;
//   - not planned: Deps.BaselineSkipped says why (a test of the other
//     layers). Production leaves it empty.
//
// Deps.ChartRepositories maps an upstream chart repository to where it is
// served instead (a mirror, a test server); plans still name the upstream
// URL, so they are the same wherever the charts come from. Repositories
// lists the upstream repositories of the standard environments' baseline.
// Deps.ReleaseValues merges values over release "<namespace>/<name>" for a
// cluster that cannot run what production runs; production leaves it
// empty, and so do the local control planes today (internal/testvalues is
// empty: they install exactly production's values).
//
// The sealed secrets' values come from Deps.Secrets.Source, by the
// references SecretRef names (environment variables
// PLATFORM_<ENV>_<SECRET>_<KEY> with secrets.Env); without a Source none
// is planned and the plan warns, naming the Secrets left unsealed. On a
// live cluster whose fingerprint key exists they are planned by
// secrets.PlanSync (a value is sealed anew only when its keyed fingerprint
// changes); before it exists — a new cluster, or a controller this same
// plan installs — as sealedsecret.seal steps that read, fingerprint and
// seal when applied, with the certificate Deps.Secrets.Cert fetches
// (default DefaultSealingCert). Plans show references and fingerprints,
// never a value. Rendered-only plans have none.
//
// A release of a rollback plan is rendered with the chart and values its
// snapshot recorded instead (see Rollback below).
//
// # Security-posture drift
//
// When the cluster exists, Plan also reads the security posture that no
// field of the spec shows (network.Posture, six LIST requests) into
// EnvironmentPlan.Posture: NetworkPolicies in our namespaces, not rendered
// by us or changed since, that open flows the baseline denies, and
// bindings that grant everything, escalate, bind or impersonate. The
// bindings our own Helm releases and plain objects declare are exempt:
// their own plans compare them. Apply does not remove findings (the
// objects are not ours). Artifact.Drifted is true when a plan has steps or
// findings; ExitCode maps a drift check to 0 (no drift), 2 (drift) or 1
// (error), as terraform plan -detailed-exitcode does; Notifier posts the
// drift, field by field, and each finding with the flows or grants it
// opens, to a Slack-compatible webhook whose URL is never printed.
//
// # GitOps: the hub and the fleet
//
// The system environment is the GitOps hub (gitops.HubName). Its layer
// gitops holds the argo-cd release, then the AppProject, the sample
// service's Application per environment and — for the environments whose
// spec says gitops.baselineOwner: argocd — the ApplicationSet that renders
// their baseline with exactly the values this package would install, then
// one cluster-Secret step per other fleet environment. A cluster-Secret
// step carries the managed cluster's endpoint and the SHA-256 fingerprint
// of its argocd-manager token, never the token: the token is read from
// the managed cluster when the step is applied and checked against the
// fingerprint. Every other environment's layer gitops holds that
// ServiceAccount, its token Secret and its ClusterRole and binding.
//
// Deps.Fleet are the environments the hub registers and deploys to;
// default: the environments of the Plan, Apply or Ensure call. Planning
// the hub reaches each other fleet environment's cluster too (found on
// Linode as a plan finds it, its kubeconfig read); one that cannot be
// reached yet is planned with what is known after apply.
//
// An environment whose baseline Argo CD owns gets no baseline release or
// object from this package, only a warning saying so: the same release is
// never installed by both.
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
// # Records: locks, snapshots, audit
//
// WithRecords(Records{Store, Owner, …}) makes Apply and Ensure keep
// change-management records in a pkg/store Store (a directory, or an S3
// bucket such as Linode Object Storage, made with pkg/objectstorage). Per
// environment, before its first write, Apply takes the environment's lock
// (in name order across environments; Records.LockWait, default 0: fail at
// once with a store.HeldError naming the holder), writes a snapshot of
// what it observed (the spec, the base with the Linode resources' ids and
// our objects' digests, each baseline Helm release as deployed — chart,
// values without sensitive keys, values digest, revision — and the spec of
// the last successful apply), and at the end appends an audit record
// (who, when, plan digest, changes, result) and releases the lock, also
// when it failed. The lock is a lease (Records.LockTTL, default 2
// minutes, refreshed every third of it) on the wall clock by default
// whatever Deps.Clock is: a simulator's faster model clock would expire a
// live holder's lease; tests of expiry set Records.Clock. No record holds
// a secret value.
//
// # Rollback
//
// PlanRollback(ctx, deps, store, ref) returns the plan back to a
// snapshot: a plan like any other, never writing, shown with Human,
// approved by its Digest and applied with Apply. It plans the spec the
// snapshot's state was made from (the Linode resources and our objects),
// and each Helm release the snapshot recorded back to that chart and
// those values — not to a revision number, which Helm's bounded history
// may have pruned. A snapshot with no applied spec (taken before the first
// recorded apply) is refused. A rollback that would turn the control
// plane's high availability or ACL off, or downgrade Kubernetes, returns an
// *IrreversibleError per field (errors.Is ErrIrreversible), with nothing
// written. Ids of a cluster or pools recreated since cannot come back:
// they are tolerated differences, listed as warnings of the plan. Apply
// checks a rollback plan for staleness as any plan, rendering each release
// with the chart and values of its saved step, and its audit record says
// "rolled back to snapshot <key>".
//
// TakeSnapshot returns the snapshot Apply would write, without writing
// anything; CompareSnapshots tells whether an environment equals a
// snapshot but for tolerated differences (ids of objects recreated since,
// Helm revisions) — a Restoration. The rollback drill (make
// rollback-drill, TestRollbackDrill) exercises the whole path on a local
// control plane.
//
// # Teardown
//
// Destroy tears environments down from their specs, in reverse dependency
// order, releasing LoadBalancers and volumes first. Sweep needs no spec:
// it finds by tags and labels alone what named environments left on
// Linode — NodeBalancers and volumes of their clusters, then clusters,
// firewalls and VPCs, then Object Storage buckets and keys — and deletes
// only those. Both refuse a GitOps-only environment unless its name is
// confirmed (WithConfirmation, WithSweepConfirmation), and both are
// idempotent.
//
// # Many environments
//
// The environments are validated once, up front, every section of every
// spec, before the first request. They are planned and applied
// concurrently and in isolation: one environment's failure stops none of
// the others, and the Result names each environment's outcome. Environments
// that share a Linode client (one account and token) share one observation:
// a no-op plan of the four standard environments' Linode layers costs one
// filtered list each of clusters, firewalls (rules included) and VPCs
// (subnets included), and per cluster its pools and its control-plane
// ACL — 11 requests — plus, when the Kubernetes layers are planned, one
// kubeconfig read per existing cluster and the hub's reads of the fleet's
// clusters. Environments given their own client (Deps.LinodeFor) are
// observed apart.
//
// # Sealed secrets
//
// The baseline's layer secrets holds, after the Sealed Secrets controller's
// release (whose chart brings the SealedSecret CRD), the Secrets the
// baseline itself reads, sealed (SealedSecrets): per Secret of
// observability.AlertSecrets (Alertmanager's Slack webhook URLs; the
// PagerDuty routing key in production) and Grafana's admin Secret
// (observability.GrafanaAdminSecret, keys admin-user and admin-password),
// in the observability namespace. Each value is read from
// Deps.Secrets.Source under the reference SecretRef gives, the environment
// variable PLATFORM_<ENV>_<SECRET>_<KEY>:
//
//	PLATFORM_PRODUCTION_ALERTMANAGER_SLACK_WEBHOOK_URL
//	PLATFORM_PRODUCTION_ALERTMANAGER_PAGERDUTY_ROUTING_KEY
//	PLATFORM_PRODUCTION_GRAFANA_ADMIN_ADMIN_USER
//	PLATFORM_PRODUCTION_GRAFANA_ADMIN_ADMIN_PASSWORD
//
// On a live cluster whose fingerprint key exists they are planned by
// secrets.PlanSync, sealed with Deps.Secrets.Cert's certificate (default
// DefaultSealingCert: FetchCert through the API server's service proxy, as
// kubeseal does): unchanged values plan nothing, a changed value re-seals
// its key alone. Before — a new cluster, or the first plan of a live one,
// whose controller this same plan may install — the plan holds the
// fingerprint key's creation and a sealedsecret.seal step per Secret,
// naming references only; such a step reads, fingerprints and seals when
// applied, with the certificate fetched then. Plans, logs and errors carry
// references, keyed fingerprints and ciphertexts, never a value. Without a
// Source no sealed secret is planned and the plan warns which Secrets are
// left unsealed; a plan without a Kubernetes API shows none.
//
// # Output
//
// Artifact.Human writes the plan in the manner of terraform plan: grouped
// per environment and layer, "+" create, "~" update, "-/+" replace, "-"
// delete, each field from → to, sensitive values as "(sensitive)", and a
// summary that counts objects ("2 to add, 1 to change, 1 to replace, 0 to
// destroy"); then, when they were not planned live, how the Kubernetes
// layer and the baseline were planned (or why not), the releases that
// would be installed, objects kept, posture findings and warnings.
package rollout
