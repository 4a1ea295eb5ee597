// Package spec is the environment spec: the typed, documented desired state
// of one of the platform's isolated Kubernetes environments (development,
// staging, production, system), loaded from YAML and validated before any
// API is called.
//
// It is a leaf: it imports nothing of this module, and every other package
// imports it. Its non-test code imports only the standard library,
// sigs.k8s.io/yaml, and k8s.io/apimachinery's validation and resource
// packages, which hold Kubernetes' rules for names, labels and quantities.
//
// # Loading, defaults, validation
//
// Load (and LoadFile) parse YAML strictly: an unknown field, a value of the
// wrong type or a repeated key is an error naming the field. Load then
// applies defaults with ApplyDefaults but does not validate; call Validate,
// or LoadAndValidate for both. Every Ensure* and Plan* of this module
// validates its Environment before its first call to an API.
//
// Default returns the standard spec of each of StandardNames; the files
// testdata/<name>.yaml are the same specs written out, and serve as
// examples. All four run Kubernetes DefaultKubernetesVersion ("1.33") in
// DefaultRegion ("us-east"); Default documents what each holds.
//
// ApplyDefaults fills only empty fields, and running it twice changes
// nothing:
//
//	cluster.label                      platform-<name>
//	cluster.tier                       standard
//	network.firewall.label             platform-<name>
//	network.firewall.inboundPolicy     DROP
//	network.firewall.outboundPolicy    ACCEPT
//	network.vpc.label                  platform-<name> (when a VPC is set)
//	dataServices[].port                5432 (postgresql), 6379 (redis)
//	ingress.namespace                  ingress-nginx
//	ingress.className                  nginx
//	ingress.replicas                   2
//	observability.namespace            monitoring
//	secrets.namespace                  kube-system
//	gitops.revision                    main
//	gitops.path                        environments/<name>
//
// # Limits
//
// Validate enforces Linode's limits as its API documents them (a test,
// openapi_limits_test.go, checks every spec field that reaches Linode
// against the request schemas of Linode's OpenAPI description): LKE cluster
// labels of at most 32 characters; 1–100 nodes per pool; Cloud Firewall
// labels of 3–32 characters matching ^[a-zA-Z]((?!--|__|\.\.)[a-zA-Z0-9-_.])+$;
// rules with protocol TCP, UDP, ICMP or IPENCAP, at most 15 port pieces and
// at most 255 addresses each; at most 25 rules per firewall; VPC and subnet
// labels of at most 64 characters; subnets in RFC 1918 space, /29 or
// shorter, not overlapping 192.168.128.0/17 or each other; tags of 3–50
// characters; VPC descriptions of at most 255 characters; node pool label
// keys of at most 128 and taint keys of at most 63 characters; bucket labels
// of 3–63 characters. A rule with more than 255
// addresses is applied as several (SplitRule), and the 25-rule limit is
// checked after splitting (Firewall.ExpandedRuleCount), with the same
// arithmetic pkg/network applies. Validate's doc comment lists every rule.
//
// Secrets never appear in a spec. Validate rejects any string that looks
// like a webhook URL, an API token (a Linode personal access token is 64
// hexadecimal digits), a private key or a URL with credentials,
// without repeating it; a secret is named by reference, as
// AlertRoute.WebhookSecretRef names "<secret>/<key>".
//
// # Errors
//
// Validate returns every problem at once as FieldErrors, one FieldError per
// problem, printed one per line as "path: message". Paths start at the YAML
// root and use the YAML field names; list entries are named by their name
// (node pools, namespaces, data services, alert routes) or label (firewall
// rules, subnets), else by index, and map entries by key:
//
//	cluster.nodePools[general].autoscaler.max: must be ≥ min (3 < 5)
//	network.firewall.inbound[allow-https].protocol: must be one of TCP, UDP, ICMP, IPENCAP (got "SCTP")
//	namespaces[apps].dataServices[0]: unknown data service "mysql"
//
// Every error of Load and Validate wraps ErrInvalid.
//
// # JSON Schema
//
// environment.schema.json, returned by JSONSchema, describes the same
// documents for editors: generated from these types and their comments by
// a test (go test ./pkg/spec -run TestSchemaUpToDate -update), it fails the
// build when it falls behind the types. It checks shape, required fields
// and enumerations; Validate stays the authority.
package spec
