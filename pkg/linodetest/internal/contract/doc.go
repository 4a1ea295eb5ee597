// Package contract checks responses of the Linode API simulator against
// Linode's official OpenAPI description of API v4 (openapi.yaml, 4.189,
// published by Linode in linode/linode-api-docs), so that the simulator
// cannot drift from the real API's shapes.
//
// # Use
//
//	v, err := contract.Load(specPath) // memoized per path; ~0.3 s of CPU the first time
//	err = v.ValidateResponse("GET", "/v4beta/lke/clusters/12", 200, header, body)
//
// Routing is by path alone: any host, /v4/… and /v4beta/…, query strings
// ignored. The spec's servers are not consulted (its per-operation server
// https://api.linode.com/v4 would double the version segment of its
// /{apiVersion}/… paths).
//
// # What is checked
//
//   - The body against the operation's schema for the status, strictly:
//     additionalProperties: false rejects any member the spec (with the
//     overlay) does not know; types, enums, formats, lengths and patterns
//     are enforced. Patterns the Go engine cannot compile (the negative
//     lookaheads of label rules) are run by regexp2 in ECMAScript mode
//     rather than skipped.
//   - A success status (< 400) must be one the operation documents.
//   - An error status (≥ 400) must carry Content-Type exactly
//     "application/json" (linodego decodes a typed error only then) and the
//     error envelope {"errors":[{"reason":…,"field":…}]} with at least one
//     item, each with a reason. Where the operation lists no response for
//     the status (429 and 503 on most operations), the shared envelope
//     applies: every operation without a "default" response gets one.
//   - Lists must carry the envelope data, page, pages and results.
//
// # Departures from the bare spec
//
// The spec is stale relative to the API and to linodego v1.69.1. It is
// corrected by an overlay, never loosened:
//
//   - overlay.json, embedded in the binary, is an RFC 6902 JSON Patch applied
//     to the parsed spec before anything else. Each entry adds or corrects
//     one member of one operation's response (the spec inlines every schema,
//     so a field missing from four operations takes four entries), or adds
//     an operation linodego calls that the spec lacks. Each entry's "note"
//     cites the linodego field it matches, e.g. linodego.LKECluster.Tier
//     `json:"tier"`, and says when the field was seen in recorded API
//     traffic. Added members are optional, like every member in the spec,
//     and carry their own schema (type, enum, nullable), so an unexpected
//     member or a wrong value is still caught.
//   - "add" refuses to overwrite an existing member: when upstream catches
//     up, Load fails and the entry must be reviewed and deleted.
//   - Operation-wide rules in code, which only tighten or repair: the error
//     envelope and list envelope requirements above, and merging the list
//     envelopes the spec writes as allOf[{page,pages,results},{data}] —
//     where the first part's additionalProperties: false rejects "data",
//     so no response could match — into one strict object.
//   - date-time accepts zone-less timestamps such as 2018-01-02T03:04:05,
//     which is what the real API sends, as well as RFC 3339. It is a
//     per-validation format validator; the process-wide one is untouched.
//   - Load checks that the patched document is valid OpenAPI, so a broken
//     overlay entry fails loudly, but does not validate the spec's own
//     examples (many fail its schemas) nor compile its patterns there (Go
//     cannot compile some; validation compiles them as described above).
//
// To add an overlay entry: find the response schema in openapi.yaml, add
// one entry per operation with a "note" naming the linodego field and an
// "example" in the added schema, and the tests check that a response using
// the example passes with the overlay and fails without it.
//
// # Limits
//
// Requests are not validated, only responses; response headers other than
// Content-Type are checked only where the spec declares them. Path
// parameters are matched, not type-checked. Optional members may be absent:
// the spec marks almost nothing as required, and the package requires only
// the envelopes' members.
package contract
