// Package kubeobjects plans and applies plain Kubernetes objects that are
// not part of a Helm release — CustomResourceDefinitions applied ahead of
// the chart that uses them, Grafana dashboard ConfigMaps, cert-manager's
// ClusterIssuer — as steps of a plan (change.Plan), for the concern
// packages and pkg/rollout without their importing each other.
//
// Plan reads each object and sends a forced server-side apply in dry-run
// (field manager FieldManager); it returns one step (kind StepApply) per
// object that is absent or whose dry-run differs from the live object,
// with the differing fields as changes, and records in the plan's base a
// digest of each object's difference ("in sync", "absent", or the digest
// of the fields that differ), so a plan applied after someone changed the
// object is refused as stale by the caller. An object whose kind the API
// server does not serve yet (a CRD that an earlier step installs) is
// planned as a create. PlanNew plans every object as a create without a
// cluster.
//
// ApplyStep server-side applies the step's object, forced, as
// FieldManager; after a CustomResourceDefinition it waits (bounded by the
// context and WithTimeout) until the API server reports it Established,
// then resets the REST mapper so the next step can use the new kind.
package kubeobjects
