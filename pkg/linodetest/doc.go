// Package linodetest is an in-process simulator of the Linode API v4, for
// testing code that provisions LKE clusters, Cloud Firewalls, VPCs and
// Object Storage through github.com/linode/linodego.
//
// New starts one for a test and returns a linodego client pointed at it;
// Start runs one for example programs. The server keeps state (mutex
// guarded, safe under concurrent requests), answers with the shapes,
// status codes, headers and error envelopes of the real API, and checks
// every response against the Linode OpenAPI description (see SpecPath).
package linodetest
