// Package poll is the project's one waiting helper: Until polls a
// condition with backoff on an injectable clock, and UntilAvailable polls a
// read the Linode API answers "not yet" (503, honouring Retry-After) until
// it succeeds. Transient is the one classification of Linode API errors
// worth another try, which the shared reconcile loop uses to decide
// whether a failed step earns another round.
//
// Nothing here repeats a single failed request: that is the linodego
// client's own retry layer, configured by pkg/linodeclient. Both waits are
// bounded by the caller's context and never sleep on the wall clock
// directly, so tests on a scaled clock run in milliseconds.
package poll
