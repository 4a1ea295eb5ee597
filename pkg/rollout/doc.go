// Package rollout will hold how changes reach an environment: plans,
// approvals, snapshots, rollback, drift detection and the Argo CD objects of
// GitOps-only environments. It is not implemented yet; it holds only this
// scope so the module's layout and import rules are fixed now.
package rollout
