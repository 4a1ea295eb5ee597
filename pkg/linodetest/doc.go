// Package linodetest is an in-process simulator of the Linode API v4, for
// testing code that provisions LKE clusters, Cloud Firewalls, VPCs and
// Object Storage through github.com/linode/linodego.
//
// # Starting one
//
// In a test, New starts a server, closes it when the test ends, and returns
// it with a linodego client pointed at it:
//
//	srv, client := linodetest.New(t, linodetest.WithClock(clk))
//
// The client uses API version v4beta (the server answers /v4/ and /v4beta/
// alike) and is configured by pkg/linodeclient as a client of the real API
// is (the same retry conditions), but retries at most ClientRetryCount
// times, ClientRetryWait to ClientRetryMaxWait apart. Outside tests (example programs), Start runs a server on
// 127.0.0.1 until Close or the end of its context; Server.NewClient returns
// a client configured the same way.
//
// # What it does
//
//   - Endpoints: LKE clusters, node pools, nodes, kubeconfig, API endpoints,
//     control-plane ACL, dashboard, recycle, regenerate, service token,
//     versions (also per tier) and types; Cloud Firewalls with rules and
//     devices, the account's default firewalls and the firewall templates;
//     VPCs and subnets (and an empty /vpcs/ips); Object Storage buckets,
//     bucket access, keys, endpoints and per-endpoint quotas with usage;
//     NodeBalancers and Block Storage volumes as far as a teardown needs
//     them (list with X-Filter, get, delete; detach a volume), made out
//     of band by AttachLoadBalancer and AttachVolume as LKE's cloud
//     controller manager and CSI driver would (see routes_lke_leftovers.go
//     for how they are tied to their cluster); regions and their availability, Linode types, account events and the
//     profile. Routes lists them all.
//   - State is kept per server, guarded by one mutex: concurrent requests
//     are safe. Responses have the API's shapes and field names (as linodego
//     decodes them), zone-less UTC timestamps, Content-Type exactly
//     application/json, and the error envelope
//     {"errors":[{"reason":…,"field":…}]}: 400 with per-field errors for
//     invalid input (labels, required fields, unknown region/type/version,
//     firewall protocols, ports and addresses, overlapping subnets…), 404
//     {"errors":[{"reason":"Not found"}]} for unknown IDs.
//   - Lists are paged as the API pages them (page, page_size 25–500,
//     default 100) and filtered by X-Filter (+and, +or, +gt, +gte, +lt,
//     +lte, +contains, +neq, +order_by, +order) on the fields the API
//     marks filterable; any other field is a 400.
//   - Life cycle on model time, as the API shows it: a new cluster's status
//     is "ready" from the create response on (the API does not report
//     provisioning in it); its kubeconfig becomes available — before that
//     GET …/kubeconfig answers 503 — 130–250 s after creation, and each node
//     turns ready 140–270 s after it was created, its instance_id null until
//     its Linode exists (5–30 s). Each duration is a deterministic draw from
//     the seed (WithSeed) and the cluster label or node ordinal. Recycling a
//     cluster, pool or node replaces nodes one at a time: the next node is
//     replaced when the previous replacement is ready; replacements get new
//     IDs and the cluster's current Kubernetes version. Status is computed
//     from timestamps when read: no goroutines. The clock is shared with
//     the code under test (WithClock, NewScaledClock, NewManualClock); the
//     default runs DefaultTimeScale times faster than real time.
//   - Shapes clients notice: a pool reads the same in the list as on its own
//     (firewall_id included; k8s_version and update_strategy only on LKE
//     Enterprise), its label "" when none was given; a cluster's stack_type,
//     vpc_id and subnet_id only for enterprise or VPC clusters, locks [];
//     apl_enabled forces an HA control plane; a pool's disk_encryption
//     follows the region's default; control-plane ACL addresses are stored
//     as CIDRs ("192.0.2.1" → "192.0.2.1/32") and a deleted ACL has no
//     revision-id; the generated kubeconfig holds a real self-signed cluster
//     CA, the same on every read, so client-go loads it.
//   - S3: every Object Storage endpoint is an in-process S3 server
//     (gofakes3, in memory) that holds the buckets made through the API
//     and accepts only the keys the simulator issued: each request's AWS
//     Signature V4 is verified against the key's secret (403
//     SignatureDoesNotMatch, InvalidAccessKeyId for a deleted key), and a
//     limited key may use only the buckets of its bucket_access, read_only
//     ones for GET and HEAD (403 AccessDenied otherwise). A key's secret
//     is shown only in the create response, as the API does. A deviation
//     from the real API, so that clients reach the server: the endpoint is
//     "127.0.0.1:<port>" (HTTPS with httptest's certificate: use
//     S3Transport), reported as the s3_endpoint of buckets, keys,
//     endpoints and quotas and as a bucket's hostname; a client addresses
//     buckets path-style. A bucket's objects and size are what S3 holds,
//     and a bucket holding objects cannot be deleted (400). S3Endpoint
//     returns a region's endpoint.
//   - Rate limits in model time with X-RateLimit-Limit, -Remaining and
//     -Reset on every response and 429 with Retry-After past the budget,
//     separately for collection GETs and for everything else (RateLimits).
//   - Faults, reproducible from a seed, before or after the state change
//     (FaultConfig, FaultKind), a per-request hook to delay or fail one
//     chosen request (WithRequestHook) and a fixed latency (WithLatency).
//   - Inspection that does not count as API traffic: Requests (the request
//     log), Counts (mutating vs reading, per endpoint), FaultCounts, Dump (a
//     JSON-able deep copy of the State), and out-of-band changes: Mutate,
//     SetPoolCount (as the cluster autoscaler would) and MarkClusterReady.
//   - Contract validation: with validation on (the default in New), every
//     response is checked against the Linode OpenAPI description and a
//     violation fails the test. The description is found by SpecPath
//     ($LINODETEST_OPENAPI, or WithSpecPath); without it New carries on
//     unvalidated after a one-line notice, or fails the test when
//     $LINODETEST_REQUIRE_CONTRACT is set — never depending on the caller's
//     module path.
//
// # The catalogue
//
// Regions, their availability, Linode types, LKE control-plane types and
// LKE versions come from a Catalogue. The default, DefaultCatalogue, is the
// real one: responses of the API recorded in the package's catalogue
// directory and served exactly as recorded, regions in the API's own order
// (not sorted), with catalogue/assumptions.json layered over them. The
// recordings lag the API, so that file assumes what they lack, each entry
// with its reason: the current LKE versions (standard 1.34, 1.33, 1.32;
// enterprise v1.33.4+lke1, v1.32.8+lke2), capabilities regions gained
// since (Kubernetes Enterprise in us-east and us-ord; VPCs, LA Disk
// Encryption and Block Storage Encryption where the project's tests need
// them) and the LKE Enterprise type lke-e.
//
// Versions are current or known (see Catalogue): lists show the current
// ones, and only those can be created, upgraded to or given to an
// enterprise pool (400 on k8s_version otherwise); a version that is known
// but no longer current, such as the recorded 1.28, stays readable by id.
// GET /regions/availability answers the recorded entries (the API reports
// select premium and GPU plans); a region or plan they do not cover is
// available. VPC availability (GET /regions/vpc-availability and
// /regions/{id}/vpc-availability) follows a region's "VPCs" capability,
// with no IPv6 prefix lengths.
//
// To simulate an account's own catalogue, save its API answers as files and
// pass them through CatalogueFromResponses to WithCatalogue:
//
//	cat, err := linodetest.CatalogueFromResponses(os.DirFS("testdata/catalogue"))
//	if err != nil {
//		t.Fatal(err)
//	}
//	srv, client := linodetest.New(t, linodetest.WithCatalogue(cat))
//
// Each file is checked against the schema of its response, embedded in the
// package (the OpenAPI file is not needed); an error names the file and
// the field, as "regions.json: data[3].capabilities: value must be an
// array".
//
// # What it does not model
//
//   - Authentication, OAuth scopes and account permissions: any token is
//     accepted, and the server acts for one unrestricted user.
//   - Linode instances, databases, images, creating or changing
//     NodeBalancers and volumes through the API (their configs, nodes,
//     attach, resize) and every endpoint not listed above (they answer
//     404). An attached volume cannot be deleted (400; an assumption). Firewall devices accept
//     only LKE node instances and NodeBalancer IDs (not checked). The nodes
//     of a pool with a firewall_id are attached to that firewall (and
//     detached from any other) as LKE does; deleted nodes leave their
//     firewalls.
//   - Kubernetes itself: the kubeconfig names a fake endpoint nobody
//     listens on. Use WithKubeconfigSource to hand out one of a real
//     (test) API server.
//   - VPC IP addresses (the lists are empty) and interfaces beyond their id
//     and state: a subnet lists the Linodes of the LKE clusters placed in it
//     (vpc_id/subnet_id at creation), nothing else. IPv6 ranges are
//     modelled at creation only: a VPC asking for one gets a /52 from the
//     documentation prefix 2001:db8::/32 and its subnets /64s within it;
//     other prefix lengths, ranges outside that pool, allocation_class, and
//     ipv6 in a VPC or subnet update answer 400 naming the field.
//   - Request members the simulator cannot honour are refused with 400
//     naming them, never ignored: firewall rules referencing a Rule Set
//     (ruleset), firewall devices.linode_interfaces, a bucket's s3_endpoint
//     other than its region's one endpoint.
//   - S3 beyond what gofakes3 serves (see below), presigned URLs,
//     virtual-host-style requests, bucket ACLs and CORS over S3, and
//     transfer; quotas are fixed limits (usage counts the buckets, objects
//     and bytes). Buckets are created and deleted through the API only: S3
//     requests that would do it answer 501.
//   - Billing, prices beyond the catalogue's values, maintenance windows,
//     placement groups, APL and audit logs beyond storing the flags.
//   - Event progress: events are recorded finished; they are never marked
//     seen or read.
//   - The exact wording of the API's error reasons, and its per-endpoint
//     special rate limits.
//
// Note how clients see faults: linodego retries 429 and 503 and honours
// Retry-After up to its maximum wait, but does not resend a POST, PUT or
// DELETE whose connection dropped (it returns an error, although after an
// after-commit fault the change was made), while Go's HTTP transport may
// itself resend a GET whose reused connection dropped.
package linodetest
