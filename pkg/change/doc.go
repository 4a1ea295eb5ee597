// Package change is the shared vocabulary of results: what an Ensure or Plan
// found and did, as a list of Changes a reviewer reads
// ("lke/platform-production: node pool general count 3 → 5"), and the
// sentinel errors every package of this module wraps.
//
// It is a leaf: it imports nothing of this module. A Change marked Sensitive
// never prints its values, in String, in JSON or in a Result's summary.
package change
