// Package linodeclient configures a linodego client with the project's one
// retry layer for the Linode API: linodego's own (built on resty), set to a
// bounded number of attempts and extended to the transient failures it
// leaves alone by default.
//
// linodego already repeats, on every method, a request answered 429, 503
// (not during maintenance), 408 or "Linode busy", honouring Retry-After. Configure adds
// 500, 502, 504 and requests that got no HTTP answer at all (a refused,
// reset or dropped connection, a timeout) — but only for GET, PUT and
// DELETE, which are safe to send again. A POST is never repeated on those:
// a POST that creates may have taken effect although its answer was lost,
// and only a fresh read can tell (the reconcile loop in this module finds
// such an object again by its label on its next round). A 4xx answer other
// than 408 and 429 is final.
//
// Configure also bounds the attempts: linodego's default of 1000 retries
// would keep a run waiting for hours on an API that is down. The defaults
// are DefaultRetryCount retries, waiting from DefaultRetryWait, doubling
// (with jitter) up to DefaultRetryMaxWait; a Retry-After the API sends is
// waited instead, up to DefaultRetryMaxWait. With the defaults a request
// gives up after about one and a half to two minutes of failures.
//
// Every package of this module that calls the Linode API (pkg/cluster,
// pkg/network) relies on this layer for its reads and idempotent writes
// and does not retry them itself; configure the client you hand them with
// NewClient or Configure. pkg/linodetest's clients are configured through
// Configure too, with tiny waits.
package linodeclient
