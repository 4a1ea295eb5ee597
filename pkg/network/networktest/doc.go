// Package networktest helps test programs that call pkg/network's
// Kubernetes side without a cluster.
//
// client-go's fake clientset carries out server-side applies (with field
// ownership, as the API server tracks it) but ignores dry-run: a dry-run
// apply writes. network.PlanKubernetes plans with dry-run applies, so on a
// plain fake a plan would change the objects it reads. NewClientset
// returns a fake that answers a dry-run apply with what the apply would
// store, and stores nothing.
//
// Limits, beyond those of the fake clientset itself (no defaulting, no
// validation, no admission, no namespace lifecycle): only applies honour
// dry-run, the operation PlanKubernetes sends; a dry-run create, update,
// patch or delete still writes.
package networktest
