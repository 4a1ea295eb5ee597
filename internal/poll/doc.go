// Package poll is the project's one waiting and retrying helper: Until polls
// a condition with backoff on an injectable clock, and Retry repeats an
// operation while the Linode API answers with a transient error, honouring
// Retry-After. Both are bounded by the caller's context and never sleep on
// the wall clock directly, so tests on a scaled clock run in milliseconds.
package poll
