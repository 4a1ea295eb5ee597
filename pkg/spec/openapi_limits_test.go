package spec_test

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/dlclark/regexp2/v2"
	"github.com/getkin/kin-openapi/openapi3"

	"github.com/org/platform/internal/shared"
	"github.com/org/platform/pkg/spec"
)

// This file holds the spec to Linode's contract: every field of
// spec.Environment either becomes a request field of the Linode API, and
// Validate then enforces that request field's limits as Linode's OpenAPI
// description states them, or it never reaches Linode and says why.

// The operations whose request bodies spec fields become, as the OpenAPI
// description names them.
const (
	createCluster  = "POST /{apiVersion}/lke/clusters"
	updateCluster  = "PUT /{apiVersion}/lke/clusters/{clusterId}"
	createPool     = "POST /{apiVersion}/lke/clusters/{clusterId}/pools"
	updatePool     = "PUT /{apiVersion}/lke/clusters/{clusterId}/pools/{poolId}"
	updateACL      = "PUT /{apiVersion}/lke/clusters/{clusterId}/control_plane_acl"
	createFirewall = "POST /{apiVersion}/networking/firewalls"
	updateFirewall = "PUT /{apiVersion}/networking/firewalls/{firewallId}"
	updateRules    = "PUT /{apiVersion}/networking/firewalls/{firewallId}/rules"
	createVPC      = "POST /{apiVersion}/vpcs"
	updateVPC      = "PUT /{apiVersion}/vpcs/{vpcId}"
	createSubnet   = "POST /{apiVersion}/vpcs/{vpcId}/subnets"
	createBucket   = "POST /{apiVersion}/object-storage/buckets"
)

// requestField is a field of an operation's JSON request body: ptr is a
// JSON pointer into the request schema, where "-" steps into an array's
// items.
type requestField struct{ op, ptr string }

func (r requestField) String() string { return r.op + " " + r.ptr }

// in lists the same pointers in several operations.
func in(ptr string, ops ...string) []requestField {
	out := make([]requestField, len(ops))
	for i, op := range ops {
		out[i] = requestField{op, ptr}
	}
	return out
}

// mapping says which request fields a spec field becomes, and how to build
// values of it to probe Validate with.
type mapping struct {
	to []requestField
	// fill returns a string of n characters that Validate accepts in the
	// field; needed only where the request field has string limits.
	fill func(n int) string
	// fixup makes spec.Default("production") fit for probing the field, so
	// that only the probed value decides Validate's verdict.
	fixup func(e *spec.Environment)
	// exempt lists limits of the request fields that Validate deliberately
	// does not enforce, by keyword, with the reason.
	exempt map[string]string
	// patternLengths is the range of lengths a pattern states in a
	// look-ahead, such as (?=.{3,63}$), when no minLength or maxLength does.
	patternLengths [2]int
}

// Go field paths: fields by Go name, "[]" for a list's entries, "{key}" and
// "{value}" for a map's keys and values.
var reachesLinode = map[string]mapping{
	// Ownership tags "platform.org/env=<name>" on the cluster and firewall;
	// Linode's tag schema has no limits (pkg/cluster checks the length).
	"Name": {to: append(in("#/tags/-", createCluster, updateCluster), in("#/tags/-", createFirewall, updateFirewall)...)},

	"Cluster.Label":             {to: in("#/label", createCluster, updateCluster), fill: run('c')},
	"Cluster.Region":            {to: append(in("#/region", createCluster), in("#/region", createVPC)...)},
	"Cluster.KubernetesVersion": {to: in("#/k8s_version", createCluster, updateCluster)},
	"Cluster.HighAvailability":  {to: in("#/control_plane/high_availability", createCluster, updateCluster)},
	"Cluster.ControlPlaneACL.Enabled": {to: append(in("#/control_plane/acl/enabled", createCluster, updateCluster),
		in("#/acl/enabled", updateACL)...)},
	"Cluster.ControlPlaneACL.IPv4": {to: append(in("#/control_plane/acl/addresses/ipv4", createCluster, updateCluster),
		in("#/acl/addresses/ipv4", updateACL)...)},
	"Cluster.ControlPlaneACL.IPv4[]": {to: append(in("#/control_plane/acl/addresses/ipv4/-", createCluster, updateCluster),
		in("#/acl/addresses/ipv4/-", updateACL)...)},
	"Cluster.ControlPlaneACL.IPv6": {to: append(in("#/control_plane/acl/addresses/ipv6", createCluster, updateCluster),
		in("#/acl/addresses/ipv6", updateACL)...)},
	"Cluster.ControlPlaneACL.IPv6[]": {to: append(in("#/control_plane/acl/addresses/ipv6/-", createCluster, updateCluster),
		in("#/acl/addresses/ipv6/-", updateACL)...)},
	"Cluster.Tags":      {to: in("#/tags", createCluster, updateCluster)},
	"Cluster.Tags[]":    {to: in("#/tags/-", createCluster, updateCluster)},
	"Cluster.NodePools": {to: in("#/node_pools", createCluster)},
	// The pool's ownership tag "platform.org/pool=<name>".
	"Cluster.NodePools[].Name": {to: append(in("#/node_pools/-/tags/-", createCluster), in("#/tags/-", createPool)...)},
	"Cluster.NodePools[].Type": {to: append(in("#/node_pools/-/type", createCluster), in("#/type", createPool)...)},
	"Cluster.NodePools[].Count": {to: append(in("#/node_pools/-/count", createCluster), in("#/count", createPool, updatePool)...),
		fixup: func(e *spec.Environment) { e.Cluster.NodePools[0].Autoscaler = nil }},
	"Cluster.NodePools[].Autoscaler.Min": {to: append(in("#/node_pools/-/autoscaler/min", createCluster), in("#/autoscaler/min", createPool, updatePool)...),
		fixup: func(e *spec.Environment) {
			e.Cluster.NodePools[0].Autoscaler = &spec.Autoscaler{Min: 1, Max: 100}
			e.Cluster.NodePools[0].Count = 100
		}},
	"Cluster.NodePools[].Autoscaler.Max": {to: append(in("#/node_pools/-/autoscaler/max", createCluster), in("#/autoscaler/max", createPool, updatePool)...),
		fixup: func(e *spec.Environment) {
			e.Cluster.NodePools[0].Autoscaler = &spec.Autoscaler{Min: 1, Max: 50}
			e.Cluster.NodePools[0].Count = 1
		}},
	// Linode's description models the labels map as an object with fixed
	// "key" and "value" properties; the API takes a free-form map, whose
	// keys and values those two properties describe.
	"Cluster.NodePools[].Labels":        {to: append(in("#/node_pools/-/labels", createCluster), in("#/labels", createPool, updatePool)...)},
	"Cluster.NodePools[].Labels{key}":   {to: append(in("#/node_pools/-/labels/key", createCluster), in("#/labels/key", createPool, updatePool)...), fill: qualifiedName},
	"Cluster.NodePools[].Labels{value}": {to: append(in("#/node_pools/-/labels/value", createCluster), in("#/labels/value", createPool, updatePool)...), fill: run('v'), exempt: unanchoredValuePattern},
	"Cluster.NodePools[].Taints": {to: append(in("#/node_pools/-/taints", createCluster), in("#/taints", createPool, updatePool)...),
		exempt: map[string]string{"minItems": "a pool without taints is valid; a caller sends no taints as it sees fit, not as the spec decides"}},
	"Cluster.NodePools[].Taints[].Key": {to: append(in("#/node_pools/-/taints/-/key", createCluster), in("#/taints/-/key", createPool, updatePool)...),
		fill: run('t'), fixup: withTaint},
	"Cluster.NodePools[].Taints[].Value": {to: append(in("#/node_pools/-/taints/-/value", createCluster), in("#/taints/-/value", createPool, updatePool)...),
		fill: run('v'), fixup: withTaint, exempt: unanchoredValuePattern},
	"Cluster.NodePools[].Taints[].Effect": {to: append(in("#/node_pools/-/taints/-/effect", createCluster), in("#/taints/-/effect", createPool, updatePool)...),
		fixup: withTaint},
	"Cluster.NodePools[].Tags":   {to: append(in("#/node_pools/-/tags", createCluster), in("#/tags", createPool)...)},
	"Cluster.NodePools[].Tags[]": {to: append(in("#/node_pools/-/tags/-", createCluster), in("#/tags/-", createPool)...)},

	"Network.Firewall.Label":          {to: in("#/label", createFirewall, updateFirewall), fill: run('f')},
	"Network.Firewall.InboundPolicy":  {to: append(in("#/rules/inbound_policy", createFirewall), in("#/inbound_policy", updateRules)...)},
	"Network.Firewall.OutboundPolicy": {to: append(in("#/rules/outbound_policy", createFirewall), in("#/outbound_policy", updateRules)...)},

	"Network.VPC.Label":       {to: in("#/label", createVPC, updateVPC), fill: run('v')},
	"Network.VPC.Description": {to: in("#/description", createVPC, updateVPC), fill: run('d')},
	"Network.VPC.Subnets":     {to: in("#/subnets", createVPC)},
	"Network.VPC.Subnets[].Label": {to: append(in("#/subnets/-/label", createVPC), in("#/label", createSubnet)...),
		fill: run('s')},
	"Network.VPC.Subnets[].IPv4": {to: append(in("#/subnets/-/ipv4", createVPC), in("#/ipv4", createSubnet)...),
		exempt: map[string]string{"format": `Validate requires a canonical RFC 1918 CIDR such as "10.30.0.0/20", stricter than the description's "ip"`}},

	// The bucket the sealing keys are backed up to.
	"Secrets.KeyBackup.Bucket": {to: in("#/label", createBucket), fill: run('b'), patternLengths: [2]int{3, 63}},
	"Secrets.KeyBackup.Region": {to: in("#/region", createBucket)},
}

// notInDescription lists spec fields that reach Linode as request fields
// that Linode's OpenAPI description (4.189) lacks. The test fails once the
// description has them, so they get mapped.
var notInDescription = map[string]struct {
	to  []requestField
	why string
}{
	"Cluster.Tier": {in("#/tier", createCluster), "linodego sends tier (v4beta); the 4.189 description predates it"},
}

// neverReachesLinode lists the spec fields, with everything below them,
// that are never sent to Linode.
var neverReachesLinode = map[string]string{
	"Namespaces":            "Kubernetes Namespaces, labels, ResourceQuotas, LimitRanges and NetworkPolicies (pkg/network)",
	"DataServices":          "egress NetworkPolicies in Kubernetes (pkg/network)",
	"Ingress":               "the ingress controller's and cert-manager's Kubernetes objects",
	"Observability":         "the monitoring stack's Kubernetes objects",
	"Secrets.SealedSecrets": "installs the Sealed Secrets controller in Kubernetes",
	"Secrets.Namespace":     "the Kubernetes namespace of the Sealed Secrets controller",
	"GitOps":                "Argo CD's Kubernetes objects",
}

// Firewall rules reach the same request fields in both directions.
func init() {
	for _, dir := range []string{"Inbound", "Outbound"} {
		ptr := "#/rules/" + strings.ToLower(dir)
		rptr := "#/" + strings.ToLower(dir)
		fixup := func(e *spec.Environment) {
			if dir == "Outbound" {
				e.Network.Firewall.Outbound = []spec.FirewallRule{{
					Label: "egress", Action: "ACCEPT", Protocol: "TCP", Ports: "443", IPv4: []string{"0.0.0.0/0"},
				}}
			}
		}
		field := func(jsonField string) []requestField {
			return append(in(ptr+jsonField, createFirewall), in(rptr+jsonField, updateRules)...)
		}
		base := "Network.Firewall." + dir
		reachesLinode[base] = mapping{to: field(""), fixup: fixup}
		reachesLinode[base+"[].Label"] = mapping{to: field("/-/label"), fill: run('r'), fixup: fixup}
		reachesLinode[base+"[].Action"] = mapping{to: field("/-/action"), fixup: fixup}
		reachesLinode[base+"[].Protocol"] = mapping{to: field("/-/protocol"), fixup: func(e *spec.Environment) {
			fixup(e)
			// Ports are refused for ICMP and IPENCAP.
			rules := &e.Network.Firewall.Inbound
			if dir == "Outbound" {
				rules = &e.Network.Firewall.Outbound
			}
			(*rules)[0].Ports = ""
		}}
		reachesLinode[base+"[].Ports"] = mapping{to: field("/-/ports"), fixup: fixup}
		reachesLinode[base+"[].IPv4"] = mapping{to: field("/-/addresses/ipv4"), fixup: fixup}
		reachesLinode[base+"[].IPv4[]"] = mapping{to: field("/-/addresses/ipv4/-"), fixup: fixup}
		reachesLinode[base+"[].IPv6"] = mapping{to: field("/-/addresses/ipv6"), fixup: fixup}
		reachesLinode[base+"[].IPv6[]"] = mapping{to: field("/-/addresses/ipv6/-"), fixup: fixup}
		reachesLinode[base+"[].Description"] = mapping{to: field("/-/description"), fill: run('d'), fixup: fixup,
			exempt: map[string]string{"minLength": "an empty description is left out of the request (linodego: omitempty)"}}
	}
}

// unanchoredValuePattern exempts the label and taint value pattern,
// ^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?, which has no "$" and so
// matches every string; Validate applies Kubernetes' label value rule.
var unanchoredValuePattern = map[string]string{"pattern": "unanchored, it matches every string; Validate applies Kubernetes' label value rule"}

func withTaint(e *spec.Environment) {
	e.Cluster.NodePools[0].Taints = []spec.Taint{{Key: "dedicated", Value: "general", Effect: "NoSchedule"}}
}

// run returns a fill of first followed by 'x's ('x' is no hex digit, so no
// fill looks like a token).
func run(first byte) func(int) string {
	return func(n int) string {
		if n <= 0 {
			return ""
		}
		return string(first) + strings.Repeat("x", n-1)
	}
}

// qualifiedName returns a Kubernetes qualified name of n characters: a
// bare name up to 63, else a DNS subdomain prefix, '/' and a name.
func qualifiedName(n int) string {
	if n <= 63 {
		return run('k')(n)
	}
	name := run('n')(min(63, n-2))
	return dnsSubdomain(n-1-len(name)) + "/" + name
}

// dnsSubdomain returns a DNS subdomain of n characters in labels of at
// most 63.
func dnsSubdomain(n int) string {
	var parts []string
	for n > 0 {
		l := min(n, 63)
		if n-l == 1 { // a dot must be followed by a label
			l--
		}
		parts = append(parts, run('p')(l))
		n -= l
		if n > 0 {
			n-- // the dot
		}
	}
	return strings.Join(parts, ".")
}

// openAPIDoc loads Linode's OpenAPI description once per test binary.
var openAPIDoc = sync.OnceValues(func() (*openapi3.T, error) {
	path, err := shared.Find("linode-api/openapi.yaml")
	if err != nil {
		return nil, err
	}
	doc, err := openapi3.NewLoader().LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	return doc, nil
})

func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openAPIDoc()
	if err != nil {
		if shared.Required() {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	return doc
}

// specField is one field of the spec types, found by reflection.
type specField struct {
	path string
	typ  reflect.Type
}

// specFields lists every field reachable from t below path: scalars, lists
// and maps, and the entries, keys and values of lists and maps. Structs are
// walked through; their fields are listed.
func specFields(t reflect.Type, path string) []specField {
	switch t.Kind() {
	case reflect.Pointer:
		return specFields(t.Elem(), path)
	case reflect.Struct:
		var out []specField
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() {
				p := f.Name
				if path != "" {
					p = path + "." + f.Name
				}
				out = append(out, specFields(f.Type, p)...)
			}
		}
		return out
	case reflect.Slice:
		return append([]specField{{path, t}}, specFields(t.Elem(), path+"[]")...)
	case reflect.Map:
		return append([]specField{{path, t}, {path + "{key}", t.Key()}}, specFields(t.Elem(), path+"{value}")...)
	}
	return []specField{{path, t}}
}

// allowlisted returns the neverReachesLinode entry covering path.
func allowlisted(path string) (string, bool) {
	for k := range neverReachesLinode {
		if path == k || strings.HasPrefix(path, k+".") || strings.HasPrefix(path, k+"[") || strings.HasPrefix(path, k+"{") {
			return k, true
		}
	}
	return "", false
}

// TestEveryFieldReachingLinodeIsMapped fails for a spec field that is
// neither mapped to the Linode request field it becomes nor listed as never
// reaching Linode, and for table entries that name no field.
func TestEveryFieldReachingLinodeIsMapped(t *testing.T) {
	t.Parallel()
	fields := specFields(reflect.TypeFor[spec.Environment](), "")
	if len(fields) < 50 {
		t.Fatalf("found only %d spec fields; the walk is broken", len(fields))
	}
	known := map[string]bool{}
	coveredBy := map[string]bool{}
	for _, f := range fields {
		known[f.path] = true
		_, mapped := reachesLinode[f.path]
		_, missing := notInDescription[f.path]
		allow, listed := allowlisted(f.path)
		if listed {
			coveredBy[allow] = true
		}
		switch n := btoi(mapped) + btoi(missing) + btoi(listed); {
		case n == 0:
			t.Errorf("spec field %s (%s) is neither mapped to the Linode request field it becomes (reachesLinode) nor listed in neverReachesLinode with a reason", f.path, f.typ)
		case n > 1:
			t.Errorf("spec field %s is classified more than once (mapped %v, missing from the description %v, never reaching Linode %v)", f.path, mapped, missing, listed)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(reachesLinode)) {
		if !known[k] {
			t.Errorf("reachesLinode maps %s, which is no spec field", k)
		}
	}
	for k := range notInDescription {
		if !known[k] {
			t.Errorf("notInDescription lists %s, which is no spec field", k)
		}
	}
	for k, why := range neverReachesLinode {
		if !coveredBy[k] {
			t.Errorf("neverReachesLinode lists %s, which is no spec field", k)
		}
		if why == "" {
			t.Errorf("neverReachesLinode lists %s without a reason", k)
		}
	}
}

// TestFieldsMissingFromTheDescription fails once Linode's description has a
// request field that notInDescription says it lacks: then map it.
func TestFieldsMissingFromTheDescription(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	for path, m := range notInDescription {
		for _, rf := range m.to {
			if _, err := resolve(doc, rf); err == nil {
				t.Errorf("%s: the description now has %s; move it from notInDescription to reachesLinode", path, rf)
			} else if !errors.Is(err, errNoSuchField) {
				t.Errorf("%s: %v", path, err)
			}
		}
	}
}

var errNoSuchField = errors.New("no such request field")

// resolve returns the schemas that describe rf, the schema at the pointer
// and the members of its allOf, $refs resolved.
func resolve(doc *openapi3.T, rf requestField) ([]*openapi3.Schema, error) {
	method, path, _ := strings.Cut(rf.op, " ")
	item := doc.Paths.Value(path)
	if item == nil {
		return nil, fmt.Errorf("resolve %s: no path %s in the description", rf, path)
	}
	op := item.GetOperation(method)
	if op == nil || op.RequestBody == nil || op.RequestBody.Value == nil {
		return nil, fmt.Errorf("resolve %s: no %s request body", rf, method)
	}
	media := op.RequestBody.Value.Content.Get("application/json")
	if media == nil {
		return nil, fmt.Errorf("resolve %s: no application/json request body", rf)
	}
	cur := expand(media.Schema)
	ptr, ok := strings.CutPrefix(rf.ptr, "#")
	if !ok {
		return nil, fmt.Errorf("resolve %s: pointer must start with '#'", rf)
	}
	if ptr == "" {
		return cur, nil
	}
	for _, seg := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		var next []*openapi3.Schema
		for _, s := range cur {
			if seg == "-" {
				next = append(next, expand(s.Items)...)
			} else {
				next = append(next, expand(s.Properties[seg])...)
			}
		}
		if len(next) == 0 {
			return nil, fmt.Errorf("resolve %s: %w (at %q)", rf, errNoSuchField, seg)
		}
		cur = next
	}
	return cur, nil
}

// expand returns r's schema and, recursively, the members of its allOf.
func expand(r *openapi3.SchemaRef) []*openapi3.Schema {
	if r == nil || r.Value == nil {
		return nil
	}
	out := []*openapi3.Schema{r.Value}
	for _, a := range r.Value.AllOf {
		out = append(out, expand(a)...)
	}
	return out
}

// limit is one constraint of a request schema.
type limit struct {
	keyword string
	n       float64  // maxLength, minLength, minimum, maximum, maxItems, minItems
	pattern string   // pattern
	enum    []string // enum
	source  requestField
}

func (l limit) String() string {
	switch l.keyword {
	case "pattern":
		return fmt.Sprintf("pattern %s", l.pattern)
	case "enum":
		return fmt.Sprintf("enum %v", l.enum)
	}
	return fmt.Sprintf("%s %v", l.keyword, l.n)
}

// limitsOf returns the constraints of s, with those this test cannot probe
// under their keyword and no value.
func limitsOf(s *openapi3.Schema, rf requestField) []limit {
	var ls []limit
	add := func(kw string, n float64) { ls = append(ls, limit{keyword: kw, n: n, source: rf}) }
	if s.MaxLength != nil {
		add("maxLength", float64(*s.MaxLength))
	}
	if s.MinLength > 0 {
		add("minLength", float64(s.MinLength))
	}
	if s.Pattern != "" {
		ls = append(ls, limit{keyword: "pattern", pattern: s.Pattern, source: rf})
	}
	if len(s.Enum) > 0 {
		l := limit{keyword: "enum", source: rf}
		for _, v := range s.Enum {
			l.enum = append(l.enum, fmt.Sprint(v))
		}
		ls = append(ls, l)
	}
	if s.Min != nil {
		add("minimum", *s.Min)
	}
	if s.Max != nil {
		add("maximum", *s.Max)
	}
	if s.MaxItems != nil {
		add("maxItems", float64(*s.MaxItems))
	}
	if s.MinItems > 0 {
		add("minItems", float64(s.MinItems))
	}
	// Constraints the probes below do not cover: each needs a check or an
	// exemption before the test passes.
	for kw, set := range map[string]bool{
		"format":           s.Format != "",
		"exclusiveMinimum": s.ExclusiveMin.IsSet(),
		"exclusiveMaximum": s.ExclusiveMax.IsSet(),
		"multipleOf":       s.MultipleOf != nil,
		"uniqueItems":      s.UniqueItems,
		"maxProperties":    s.MaxProps != nil,
		"minProperties":    s.MinProps > 0,
		"oneOf":            len(s.OneOf) > 0,
		"anyOf":            len(s.AnyOf) > 0,
		"not":              s.Not != nil,
		"const":            s.Const != nil,
	} {
		if set {
			add(kw, 0)
		}
	}
	return ls
}

// TestOpenAPILimitsEnforced checks, for every spec field mapped to Linode
// request fields, each limit those fields have in Linode's OpenAPI
// description: Validate refuses a value just past it, with a FieldError at
// the field's path, and accepts a value at it.
func TestOpenAPILimitsEnforced(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	checked := 0
	var mu sync.Mutex
	t.Run("fields", func(t *testing.T) {
		for _, path := range slices.Sorted(maps.Keys(reachesLinode)) {
			m := reachesLinode[path]
			t.Run(path, func(t *testing.T) {
				t.Parallel()
				if len(m.to) == 0 {
					t.Fatal("mapped to no request field")
				}
				var ls []limit
				seen := map[string]bool{}
				for _, rf := range m.to {
					schemas, err := resolve(doc, rf)
					if err != nil {
						t.Error(err)
						continue
					}
					for _, s := range schemas {
						for _, l := range limitsOf(s, rf) {
							if key := l.String(); !seen[key] {
								seen[key] = true
								ls = append(ls, l)
							}
						}
					}
				}
				for kw := range m.exempt {
					if !slices.ContainsFunc(ls, func(l limit) bool { return l.keyword == kw }) {
						t.Errorf("exempts %s, which none of its request fields has; drop the exemption", kw)
					}
				}
				p := prober{t: t, path: path, m: m, limits: ls}
				for _, l := range ls {
					if _, ok := m.exempt[l.keyword]; ok {
						continue
					}
					p.check(l)
					mu.Lock()
					checked++
					mu.Unlock()
				}
			})
		}
	})
	// The description has limits on these fields today; a test that checks
	// none has lost its way.
	if checked < 30 {
		t.Errorf("checked only %d limits", checked)
	}
}

// prober sets one spec field to values and asks Validate about them.
type prober struct {
	t      *testing.T
	path   string // Go field path
	m      mapping
	limits []limit
}

// env returns the production spec, fixed up for the field, with the field
// set to v (a string, or an int for integer fields), and the field's path
// in FieldErrors.
func (p prober) env(v any) (spec.Environment, string) {
	p.t.Helper()
	env, err := spec.Default(spec.Production)
	if err != nil {
		p.t.Fatal(err)
	}
	if p.m.fixup != nil {
		p.m.fixup(&env)
	}
	root := reflect.ValueOf(&env).Elem()
	fieldPath, err := setField(root, p.path, v)
	if err != nil {
		p.t.Fatal(err)
	}
	return env, fieldPath
}

// accepts asserts Validate accepts the spec with the field at v.
func (p prober) accepts(v any, why string) {
	p.t.Helper()
	env, _ := p.env(v)
	if err := env.Validate(); err != nil {
		p.t.Errorf("%s = %s (%s) is refused, but Linode accepts it:\n%v", p.path, show(v), why, err)
	}
}

// refuses asserts Validate refuses the spec with the field at v, with a
// FieldError at the field's path.
func (p prober) refuses(v any, why string) {
	p.t.Helper()
	env, at := p.env(v)
	err := env.Validate()
	var fes spec.FieldErrors
	if err != nil && !errors.As(err, &fes) {
		p.t.Fatalf("Validate() = %v, not FieldErrors", err)
	}
	if !slices.ContainsFunc(fes, func(fe *spec.FieldError) bool { return fe.Path == at }) {
		p.t.Errorf("%s = %s (%s): Validate reports nothing at %s, but Linode refuses it; errors: %v", p.path, show(v), why, at, err)
	}
}

func (p prober) fill(n int) string {
	p.t.Helper()
	if p.m.fill == nil {
		p.t.Fatalf("%s has string limits but no fill to build values with", p.path)
	}
	s := p.m.fill(n)
	if utf8.RuneCountInString(s) != n {
		p.t.Fatalf("fill(%d) = %q has %d characters", n, s, utf8.RuneCountInString(s))
	}
	// A fill must itself honour every limit a value of its length can.
	for _, l := range p.limits {
		if l.keyword == "pattern" && !matchPattern(p.t, l.pattern, s) {
			p.t.Fatalf("fill(%d) = %q breaks %s of %s", n, s, l, l.source)
		}
	}
	return s
}

// lengthRange returns the character counts the field's string limits allow.
func (p prober) lengthRange() (lo, hi int) {
	lo, hi = 1, 64
	if r := p.m.patternLengths; r != [2]int{} {
		lo, hi = r[0], r[1]
	}
	for _, l := range p.limits {
		switch l.keyword {
		case "minLength":
			lo = max(lo, int(l.n))
		case "maxLength":
			hi = int(l.n)
		}
	}
	return lo, hi
}

func (p prober) check(l limit) {
	p.t.Helper()
	n := int(l.n)
	why := fmt.Sprintf("%s of %s", l, l.source)
	switch l.keyword {
	case "maxLength":
		p.accepts(p.fill(n), "at "+why)
		p.refuses(p.fill(n+1), "past "+why)
	case "minLength":
		p.accepts(p.fill(n), "at "+why)
		p.refuses(p.fill(n-1), "below "+why)
	case "minimum":
		p.accepts(n, "at "+why)
		p.refuses(n-1, "below "+why)
	case "maximum":
		p.accepts(n, "at "+why)
		p.refuses(n+1, "past "+why)
	case "enum":
		for _, v := range l.enum {
			p.accepts(v, "in "+why)
		}
		outside := []string{"NOT-IN-ENUM"}
		if lower := strings.ToLower(l.enum[0]); !slices.Contains(l.enum, lower) {
			outside = append(outside, lower)
		}
		for _, v := range outside {
			p.refuses(v, "outside "+why)
		}
	case "pattern":
		lo, hi := p.lengthRange()
		for _, n := range []int{lo, hi, (lo + hi) / 2} {
			p.fill(n) // fails if a fill breaks the pattern
		}
		refused := 0
		for _, v := range patternProbes(p.fill(min(max(lo, 8), hi))) {
			if c := utf8.RuneCountInString(v); c < lo || c > hi || matchPattern(p.t, l.pattern, v) {
				continue
			}
			refused++
			p.refuses(v, "breaks "+why)
		}
		// Lengths just outside the range, for patterns that bound the
		// length themselves.
		for _, n := range []int{lo - 1, hi + 1} {
			if v := p.m.fill(n); n > 0 && !matchPattern(p.t, l.pattern, v) {
				refused++
				p.refuses(v, "breaks "+why)
			}
		}
		if refused == 0 {
			p.t.Errorf("no probe breaks %s; add probes that do, or exempt the pattern with a reason", why)
		}
	default:
		// maxItems, minItems and the keywords limitsOf cannot probe.
		p.t.Errorf("%s: this test cannot yet probe %s; teach it (or exempt the limit with a reason)", why, l.keyword)
	}
}

// patternProbes returns variants of the valid value b that a label-like
// pattern may refuse.
func patternProbes(b string) []string {
	mid := func(ins string) string { return b[:2] + ins + b[2+len(ins):] }
	return []string{
		"-" + b[1:], "_" + b[1:], "." + b[1:], "0" + b[1:], "/" + b[1:],
		b[:len(b)-1] + "-", b[:len(b)-1] + ".",
		mid("--"), mid("__"), mid(".."), mid(" "), mid("!"), mid("/"), b[:2] + "é" + b[3:],
		strings.ToUpper(b), b[:len(b)-2] + "/x",
	}
}

var (
	patternsMu sync.Mutex
	patterns   = map[string]func(string) (bool, error){}
)

// matchPattern reports whether s matches an OpenAPI pattern: an ECMA-262
// regular expression, unanchored. Go's regexp takes most of Linode's; the
// look-aheads fall back to regexp2 in ECMAScript mode.
func matchPattern(t *testing.T, pattern, s string) bool {
	t.Helper()
	patternsMu.Lock()
	match, ok := patterns[pattern]
	if !ok {
		if re, err := regexp.Compile(pattern); err == nil {
			match = func(s string) (bool, error) { return re.MatchString(s), nil }
		} else {
			re2, err := regexp2.Compile(pattern, regexp2.ECMAScript)
			if err != nil {
				patternsMu.Unlock()
				t.Fatalf("compile pattern %q: %v", pattern, err)
			}
			re2.MatchTimeout = time.Second
			match = re2.MatchString
		}
		patterns[pattern] = match
	}
	patternsMu.Unlock()
	ok, err := match(s)
	if err != nil {
		t.Fatalf("match %q against %q: %v", s, pattern, err)
	}
	return ok
}

// setField sets the field at Go path goPath below root to v and returns its
// path in FieldErrors. List entries are the first entry; a map is replaced
// by one entry holding v as its key (with value "x") or its value (with key
// "probe").
func setField(root reflect.Value, goPath string, v any) (string, error) {
	cur, at := root, ""
	segs := strings.Split(goPath, ".")
	for i, seg := range segs {
		name, suffix := seg, ""
		if j := strings.IndexAny(seg, "[{"); j >= 0 {
			name, suffix = seg[:j], seg[j:]
		}
		for cur.Kind() == reflect.Pointer {
			if cur.IsNil() {
				return "", fmt.Errorf("%s: %s is nil; the fixup must set it", goPath, at)
			}
			cur = cur.Elem()
		}
		sf, ok := cur.Type().FieldByName(name)
		if !ok {
			return "", fmt.Errorf("%s: no field %s in %s", goPath, name, cur.Type())
		}
		cur = cur.FieldByIndex(sf.Index)
		at = joinPath(at, jsonName(sf))
		last := i == len(segs)-1
		switch suffix {
		case "":
			if last {
				return at, assign(cur, v)
			}
		case "[]":
			if cur.Len() == 0 {
				return "", fmt.Errorf("%s: %s is empty; the fixup must give it an entry", goPath, at)
			}
			elem := cur.Index(0)
			if last {
				if err := assign(elem, v); err != nil {
					return "", err
				}
				return at + "[0]", nil
			}
			// Set below first: the entry's name may be what changes.
			rest := strings.Join(segs[i+1:], ".")
			sub, err := setField(elem, rest, v)
			if err != nil {
				return "", err
			}
			return at + "[" + entryKey(elem) + "]." + sub, nil
		case "{key}", "{value}":
			if !last {
				return "", fmt.Errorf("%s: a map entry must end the path", goPath)
			}
			key, val := reflect.ValueOf(v), reflect.ValueOf("x")
			if suffix == "{value}" {
				key, val = reflect.ValueOf("probe"), reflect.ValueOf(v)
			}
			m := reflect.MakeMap(cur.Type())
			m.SetMapIndex(key.Convert(cur.Type().Key()), val.Convert(cur.Type().Elem()))
			cur.Set(m)
			return at + "[" + key.String() + "]", nil
		default:
			return "", fmt.Errorf("%s: cannot read %q", goPath, seg)
		}
	}
	return "", fmt.Errorf("%s: empty path", goPath)
}

func assign(dst reflect.Value, v any) error {
	src := reflect.ValueOf(v)
	if !src.Type().ConvertibleTo(dst.Type()) || src.Kind() != dst.Kind() {
		return fmt.Errorf("cannot set a %s to %s", dst.Type(), show(v))
	}
	dst.Set(src.Convert(dst.Type()))
	return nil
}

// entryKey names a list entry in FieldError paths, as spec.FieldError
// documents: by its "name" or "label" field, else by its index (0: setField
// only sets first entries).
func entryKey(elem reflect.Value) string {
	if elem.Kind() == reflect.Struct {
		for i := range elem.NumField() {
			if n := jsonName(elem.Type().Field(i)); (n == "name" || n == "label") && elem.Field(i).Kind() == reflect.String {
				if s := elem.Field(i).String(); s != "" {
					return spec.EntryKeys([]string{s})[0]
				}
			}
		}
	}
	return "0"
}

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "" {
		return f.Name
	}
	return name
}

func joinPath(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}

func show(v any) string {
	if s, ok := v.(string); ok {
		if len(s) > 40 {
			return fmt.Sprintf("%q… (%d characters)", s[:40], utf8.RuneCountInString(s))
		}
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprint(v)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
