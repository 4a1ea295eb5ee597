package spec

import (
	"fmt"
	"net/netip"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Linode limits Validate enforces, as the request schemas of Linode's
// OpenAPI description (4.189) state them; openapi_limits_test.go checks
// each against the description. Kubernetes' own rules come from
// k8s.io/apimachinery.
const (
	maxClusterLabelLen = 32  // LKE cluster label
	minRuleLabelLen    = 3   // Cloud Firewall and firewall rule label
	maxRuleLabelLen    = 32  // Cloud Firewall and firewall rule label
	maxRuleDescLen     = 100 // firewall rule description
	maxVPCLabelLen     = 64  // VPC and subnet label
	maxVPCDescLen      = 255 // VPC description
	minTagLen          = 3   // Linode tag
	maxTagLen          = 50  // Linode tag
	maxNodeCount       = 100 // nodes in one pool, and the autoscaler's bounds
	maxPoolLabelKeyLen = 128 // node pool label key (Kubernetes allows 317)
	maxTaintKeyLen     = 63  // node pool taint key (Kubernetes allows 317)
	maxSubnetPrefix    = 29  // longest VPC subnet prefix
	minBucketLen       = 3   // Object Storage bucket label
	maxBucketLen       = 63  // Object Storage bucket label
)

var (
	// clusterLabelRE is the platform's rule for LKE cluster labels (the API
	// takes any UTF-8 of 1–32 characters): the firewall label characters,
	// without the firewall's two-character minimum.
	clusterLabelRE = regexp.MustCompile(`^[a-zA-Z][-a-zA-Z0-9_.]*$`)
	// linodeTaintKeyRE is the pattern of the LKE node pool taint key. Beyond
	// a Kubernetes qualified name, it wants at least two characters after a
	// prefix's '/'.
	linodeTaintKeyRE = regexp.MustCompile(`^([A-Za-z0-9][-A-Za-z0-9_.]*)?(/)?([A-Za-z0-9][-A-Za-z0-9_.]{1,63})?$`)
	// bucketLabelRE is the pattern of the Object Storage bucket label,
	// ^(?=.{3,63}$)[a-z0-9]+(?:-[a-z0-9]+)*(?:[.][a-z0-9]+(?:-[a-z0-9]+)*)*$,
	// without the look-ahead (Go's regexp has none), which is the 3–63
	// length checked beside it.
	bucketLabelRE      = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*(\.[a-z0-9]+(-[a-z0-9]+)*)*$`)
	regionRE           = regexp.MustCompile(`^[a-z]{2}-[a-z]+(-[0-9]+)?$`)
	k8sVersionRE       = regexp.MustCompile(`^1\.[0-9]{1,3}$`)
	k8sEnterpriseRE    = regexp.MustCompile(`^v1\.[0-9]{1,3}\.[0-9]{1,3}\+lke[0-9]{1,4}$`)
	nodeTypeRE         = regexp.MustCompile(`^g[0-9]+-[a-z0-9]+(-[a-z0-9]+)*$`)
	linodeLabelCharsRE = regexp.MustCompile(`^[a-zA-Z][-a-zA-Z0-9_.]+$`)
	vpcLabelRE         = regexp.MustCompile(`^[a-zA-Z0-9-]+$`)
	durationRE         = regexp.MustCompile(`^([0-9]+(ms|s|m|h|d|w|y))+$`)
	emailRE            = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[a-zA-Z]{2,}$`)
	slackChannelRE     = regexp.MustCompile(`^#?[a-z0-9][-a-z0-9._]{0,79}$`)
	scpLikeGitURLRE    = regexp.MustCompile(`^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[A-Za-z0-9._~/-]+$`)
	gitRevisionRE      = regexp.MustCompile(`^[A-Za-z0-9._/-]+$`)
	gitPathRE          = regexp.MustCompile(`^[A-Za-z0-9._/-]+$`)
)

// Messages used by more than one check.
const (
	msgRequired    = "must be set"
	msgDNS1123     = "must be a DNS-1123 label: at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit"
	msgLinodeLabel = "must start with a letter and hold only letters, digits, '-', '_' and '.', with no '--', '__' or '..'"
	msgVPCLabel    = "must hold only letters, digits and '-', with no '--'"
	msgLabelKey    = "must be a Kubernetes label key: an optional DNS subdomain prefix and '/', then at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
	msgLabelValue  = "must be a Kubernetes label value: at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
	msgRegion      = `must be a Linode region ID such as "us-east"`
)

// reservedNamespaces are the namespaces Kubernetes itself owns.
var reservedNamespaces = []string{"default", "kube-node-lease", "kube-public", "kube-system"}

// rfc1918 are the private IPv4 ranges a VPC subnet must sit in.
var rfc1918 = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
}

// lkeReserved is the range a VPC subnet must not overlap: LKE's node network.
var lkeReserved = netip.MustParsePrefix(LKENodeCIDR)

// Validate checks e against Linode's and Kubernetes' limits and the
// platform's rules, and returns nil or FieldErrors listing every problem, in
// field order, followed by any value that looks like a secret. The returned
// error wraps ErrInvalid.
//
// Validate does not apply defaults: the fields ApplyDefaults fills are
// reported as missing when empty. The rules, with their paths:
//
//   - name: set, a DNS-1123 label.
//   - cluster.label: set, at most 32 characters, starting with a letter, then
//     letters, digits, '-', '_', '.', no '--', '__' or '..'.
//
// Kubernetes names, label keys and values, taint keys and values and
// quantities are checked with k8s.io/apimachinery's validation and
// resource.ParseQuantity, so they follow Kubernetes exactly; where Linode
// stores them (node pool labels and taints) its tighter limits apply too.
//   - cluster.region (and secrets.keyBackup.region): a region ID like
//     "us-east". cluster.kubernetesVersion: "1.NN" on the standard tier, a
//     full LKE Enterprise version such as "v1.33.4+lke1" on the enterprise
//     tier. cluster.tier: standard or enterprise.
//   - cluster.controlPlaneACL: ipv4 and ipv6 entries are addresses or CIDRs
//     of that family; enabled needs at least one.
//   - tags (cluster and pools): 3–50 characters, no duplicates.
//   - cluster.nodePools: at least one; names set, unique, DNS-1123 labels;
//     type like "g6-standard-4"; count 1–100; autoscaler min ≥ 1,
//     min ≤ max ≤ 100, and count within [min, max]; labels are Kubernetes
//     label keys (at most 128 characters, Linode's limit) and values; taints
//     have a label key of at most 63 characters (Linode's limit) with at
//     least 2 characters after a prefix's '/', a label value and an effect
//     of NoSchedule, PreferNoSchedule or NoExecute.
//   - network.firewall: label 3–32 characters matching Linode's
//     ^[a-zA-Z]((?!--|__|\.\.)[a-zA-Z0-9-_.])+$; policies ACCEPT or DROP;
//     rule labels set, 3–32 characters, unique per direction; action ACCEPT
//     or DROP; protocol TCP, UDP, ICMP or IPENCAP; ports only for TCP and
//     UDP, each "n" or "a-b" with 1 ≤ n ≤ 65535, no leading zeros, a < b, at
//     most 15 pieces (a range counts two); at least one address; ipv4 and
//     ipv6 entries are CIDRs of that family; description at most 100
//     characters; at most 25 rules after SplitRule (see ExpandedRuleCount),
//     whose derived labels ("<label>-2", …) must not be taken by another
//     rule of the same direction.
//   - network.vpc: label set, at most 64 letters, digits and '-', no '--';
//     description at most 255 characters; at least one subnet; subnet labels likewise and unique; subnet ipv4 a
//     canonical IPv4 CIDR of prefix length /29 or shorter, inside RFC 1918,
//     not overlapping LKE's 192.168.128.0/17 nor another subnet.
//   - namespaces: names set, unique, DNS-1123 labels, not reserved
//     (default, kube-node-lease, kube-public, kube-system) and not the
//     namespace of an enabled ingress, observability or sealed-secrets
//     section; team a label value; labels valid; dataServices name entries
//     of dataServices, once each; quota counts ≥ 0 and quantities in
//     Kubernetes notation, not negative.
//   - dataServices: names set, unique, DNS-1123 labels; kind postgresql or
//     redis; at least one CIDR, each valid; port 1–65535.
//   - ingress: replicas ≥ 0; namespace a DNS-1123 label and className a
//     DNS-1123 subdomain, both set when enabled; acmeEmail an address.
//   - observability: namespace set when enabled, a DNS-1123 label;
//     retentions durations such as "15d" or "168h"; alert route names set,
//     unique, DNS-1123 labels; severity critical, warning or info;
//     slackChannel like "#alerts-prod"; webhookSecretRef "<secret>/<key>",
//     set whenever slackChannel is.
//   - secrets: namespace set when sealedSecrets, a DNS-1123 label;
//     keyBackup.bucket 3–63 characters, Linode's bucket rule: lowercase
//     letters and digits in parts joined by single '-' or '.'.
//   - gitops: repoURL an https:// or ssh Git URL without credentials, set
//     when gitOpsOnly; revision and path plain (path relative, no '..');
//     requiredApprovals ≥ 0.
//   - anywhere: no string may look like a webhook URL, token, key or URL
//     with credentials; secrets are referenced, never inlined. A Linode
//     personal access token is 64 hexadecimal digits (see secretPatterns).
func (e Environment) Validate() error {
	v := &validator{env: e}
	v.name()
	v.cluster()
	v.firewall()
	v.vpc()
	v.namespaces()
	v.dataServices()
	v.ingress()
	v.observability()
	v.secrets()
	v.gitops()
	scanSecrets(&v.collector, e)
	return v.errs.orNil()
}

// validator checks one Environment.
type validator struct {
	collector
	env Environment
}

func (v *validator) name() {
	v.dnsLabel("name", v.env.Name, true)
}

func (v *validator) cluster() {
	c := v.env.Cluster
	p := fieldPath("cluster")
	switch l := c.Label; {
	case l == "":
		v.add(p.field("label"), msgRequired)
	case len(l) > maxClusterLabelLen:
		v.add(p.field("label"), "must be at most %d characters (got %d)", maxClusterLabelLen, len(l))
	case !clusterLabelRE.MatchString(l) || hasDoubledSeparator(l):
		v.add(p.field("label"), "%s (got %s)", msgLinodeLabel, quote(l))
	}
	v.region(p.field("region"), c.Region)
	switch k := c.KubernetesVersion; {
	case k == "":
		v.add(p.field("kubernetesVersion"), msgRequired)
	case c.Tier == "enterprise" && !k8sEnterpriseRE.MatchString(k):
		v.add(p.field("kubernetesVersion"), "must be an LKE Enterprise version such as %q (got %s)", "v1.33.4+lke1", quote(k))
	case c.Tier != "enterprise" && !k8sVersionRE.MatchString(k):
		v.add(p.field("kubernetesVersion"), "must be an LKE minor version such as %q (got %s)", DefaultKubernetesVersion, quote(k))
	}
	v.oneOf(p.field("tier"), c.Tier, "standard", "enterprise")
	if c.Tier == "enterprise" && !c.HighAvailability {
		v.add(p.field("highAvailability"), "must be true on the enterprise tier, whose control planes are always highly available")
	}

	acl := p.field("controlPlaneACL")
	v.addresses(acl.field("ipv4"), c.ControlPlaneACL.IPv4, false, false)
	v.addresses(acl.field("ipv6"), c.ControlPlaneACL.IPv6, true, false)
	if c.ControlPlaneACL.Enabled && len(c.ControlPlaneACL.IPv4)+len(c.ControlPlaneACL.IPv6) == 0 {
		v.add(acl, "must list at least one address when enabled: an empty list shuts everyone out of the Kubernetes API")
	}
	v.tags(p.field("tags"), c.Tags)

	pools := p.field("nodePools")
	if len(c.NodePools) == 0 {
		v.add(pools, "must list at least one node pool")
	}
	names := make([]string, len(c.NodePools))
	for i, np := range c.NodePools {
		names[i] = np.Name
	}
	keys := EntryKeys(names)
	for i, np := range c.NodePools {
		pp := pools.key(keys[i])
		v.entryName(pp.field("name"), names, i)
		switch {
		case np.Type == "":
			v.add(pp.field("type"), msgRequired)
		case !nodeTypeRE.MatchString(np.Type):
			v.add(pp.field("type"), "must be a Linode type ID such as \"g6-standard-4\" (got %s)", quote(np.Type))
		}
		if np.Count < 1 || np.Count > maxNodeCount {
			v.add(pp.field("count"), "must be between 1 and %d (got %d)", maxNodeCount, np.Count)
		}
		if as := np.Autoscaler; as != nil {
			ap := pp.field("autoscaler")
			switch {
			case as.Min < 1:
				v.add(ap.field("min"), "must be ≥ 1 (got %d)", as.Min)
			case as.Min > maxNodeCount:
				v.add(ap.field("min"), "must be ≤ %d (got %d)", maxNodeCount, as.Min)
			}
			switch {
			case as.Max < 1:
				v.add(ap.field("max"), "must be ≥ 1 (got %d)", as.Max)
			case as.Max < as.Min:
				v.add(ap.field("max"), "must be ≥ min (%d < %d)", as.Max, as.Min)
			case as.Max > maxNodeCount:
				v.add(ap.field("max"), "must be ≤ %d (got %d)", maxNodeCount, as.Max)
			case np.Count >= 1 && (np.Count < as.Min || np.Count > as.Max):
				v.add(pp.field("count"), "must be within the autoscaler's range %d–%d (got %d)", as.Min, as.Max, np.Count)
			}
		}
		v.labels(pp.field("labels"), np.Labels, maxPoolLabelKeyLen)
		for j, t := range np.Taints {
			tp := pp.field("taints").index(j)
			switch {
			case t.Key == "":
				v.add(tp.field("key"), msgRequired)
			case !labelKeyOK(t.Key):
				v.add(tp.field("key"), "%s (got %s)", msgLabelKey, quote(t.Key))
			case len(t.Key) > maxTaintKeyLen:
				v.add(tp.field("key"), "must be at most %d characters, Linode's limit for taint keys (got %d)", maxTaintKeyLen, len(t.Key))
			case !linodeTaintKeyRE.MatchString(t.Key):
				v.add(tp.field("key"), "must have at least 2 characters after the prefix's '/', as Linode's taint key rule requires (got %s)", quote(t.Key))
			}
			if !labelValueOK(t.Value) {
				v.add(tp.field("value"), "%s (got %s)", msgLabelValue, quote(t.Value))
			}
			v.oneOf(tp.field("effect"), t.Effect, "NoSchedule", "PreferNoSchedule", "NoExecute")
		}
		v.tags(pp.field("tags"), np.Tags)
	}
}

func (v *validator) firewall() {
	f := v.env.Network.Firewall
	p := fieldPath("network.firewall")
	v.linodeLabel(p.field("label"), f.Label)
	v.oneOf(p.field("inboundPolicy"), f.InboundPolicy, "ACCEPT", "DROP")
	v.oneOf(p.field("outboundPolicy"), f.OutboundPolicy, "ACCEPT", "DROP")
	v.rules(p.field("inbound"), f.Inbound)
	v.rules(p.field("outbound"), f.Outbound)
	if n := f.ExpandedRuleCount(); n > MaxFirewallRules {
		v.add(p, "needs %d rules once rules with more than %d addresses are split (%d as written); a Cloud Firewall holds at most %d",
			n, MaxAddressesPerRule, len(f.Inbound)+len(f.Outbound), MaxFirewallRules)
	}
}

func (v *validator) rules(p fieldPath, rules []FirewallRule) {
	names := make([]string, len(rules))
	for i, r := range rules {
		names[i] = r.Label
	}
	keys := EntryKeys(names)
	for i, r := range rules {
		rp := p.key(keys[i])
		if dup := slices.Index(names[:i], r.Label); r.Label != "" && dup >= 0 {
			v.add(rp.field("label"), "duplicate label %s (also entry %d)", quote(r.Label), dup)
		} else if r.Label == "" {
			v.add(rp.field("label"), msgRequired)
		} else if len(r.Label) < minRuleLabelLen || len(r.Label) > maxRuleLabelLen {
			v.add(rp.field("label"), "must be %d–%d characters (got %d)", minRuleLabelLen, maxRuleLabelLen, len(r.Label))
		}
		v.oneOf(rp.field("action"), r.Action, "ACCEPT", "DROP")
		v.oneOf(rp.field("protocol"), r.Protocol, "TCP", "UDP", "ICMP", "IPENCAP")
		switch r.Protocol {
		case "ICMP", "IPENCAP":
			if r.Ports != "" {
				v.add(rp.field("ports"), "must be empty for %s: ports apply to TCP and UDP only", r.Protocol)
			}
		default:
			v.ports(rp.field("ports"), r.Ports)
		}
		if len(r.IPv4)+len(r.IPv6) == 0 {
			v.add(rp, "must list at least one address in ipv4 or ipv6")
		}
		v.addresses(rp.field("ipv4"), r.IPv4, false, true)
		v.addresses(rp.field("ipv6"), r.IPv6, true, true)
		if n := utf8.RuneCountInString(r.Description); n > maxRuleDescLen {
			v.add(rp.field("description"), "must be at most %d characters (got %d)", maxRuleDescLen, n)
		}
	}
	// The parts SplitRule adds get derived labels; they must not take a
	// label another rule already has, or the applied rules are ambiguous.
	taken := make(map[string]bool, len(rules))
	for _, r := range rules {
		taken[r.Label] = true
	}
	for i, r := range rules {
		for _, part := range SplitRule(r)[1:] {
			if taken[part.Label] {
				v.add(p.key(keys[i]), "is split into %d rules, and the label %s of one is already taken; rename a rule",
					len(SplitRule(r)), quote(part.Label))
			}
			taken[part.Label] = true
		}
	}
}

// ports checks a Cloud Firewall ports string: comma-separated ports and
// ranges, a space allowed after each comma.
func (v *validator) ports(p fieldPath, ports string) {
	if ports == "" {
		return
	}
	pieces := 0
	for part := range strings.SplitSeq(ports, ",") {
		part = strings.TrimPrefix(part, " ")
		lo, hi, isRange := strings.Cut(part, "-")
		a, okA := v.port(p, lo, part)
		if !isRange {
			pieces++
			continue
		}
		pieces += 2
		b, okB := v.port(p, hi, part)
		if okA && okB && a >= b {
			v.add(p, "range %q must end above its start", part)
		}
	}
	if pieces > MaxPortPieces {
		v.add(p, "has %d pieces; at most %d (a range counts as two)", pieces, MaxPortPieces)
	}
}

// port parses one port of piece and reports it when it is not a port.
func (v *validator) port(p fieldPath, s, piece string) (int, bool) {
	n, err := strconv.Atoi(s)
	switch {
	case err != nil || s[0] == '+':
		v.add(p, "%q is not a port or a range a-b", piece)
		return 0, false
	case n < 1 || n > 65535:
		v.add(p, "%q is outside 1–65535", piece)
		return 0, false
	case s[0] == '0':
		v.add(p, "%q has a leading zero", piece)
		return 0, false
	}
	return n, true
}

func (v *validator) vpc() {
	vpc := v.env.Network.VPC
	if vpc == nil {
		return
	}
	p := fieldPath("network.vpc")
	v.vpcLabel(p.field("label"), vpc.Label)
	if n := utf8.RuneCountInString(vpc.Description); n > maxVPCDescLen {
		v.add(p.field("description"), "must be at most %d characters (got %d)", maxVPCDescLen, n)
	}
	sp := p.field("subnets")
	if len(vpc.Subnets) == 0 {
		v.add(sp, "must list at least one subnet")
	}
	names := make([]string, len(vpc.Subnets))
	for i, s := range vpc.Subnets {
		names[i] = s.Label
	}
	keys := EntryKeys(names)
	prefixes := make([]netip.Prefix, len(vpc.Subnets))
	for i, s := range vpc.Subnets {
		ep := sp.key(keys[i])
		if dup := slices.Index(names[:i], s.Label); s.Label != "" && dup >= 0 {
			v.add(ep.field("label"), "duplicate label %s (also entry %d)", quote(s.Label), dup)
		} else {
			v.vpcLabel(ep.field("label"), s.Label)
		}
		ip := ep.field("ipv4")
		if s.IPv4 == "" {
			v.add(ip, msgRequired)
			continue
		}
		pfx, err := netip.ParsePrefix(s.IPv4)
		switch {
		case err != nil || !pfx.Addr().Is4():
			v.add(ip, "must be an IPv4 CIDR such as \"10.30.0.0/20\" (got %s)", quote(s.IPv4))
			continue
		case pfx.Masked() != pfx:
			v.add(ip, "must be in canonical form (%s, not %s)", pfx.Masked(), pfx)
		case pfx.Bits() > maxSubnetPrefix:
			v.add(ip, "must have a prefix length of /%d or shorter (got /%d)", maxSubnetPrefix, pfx.Bits())
		case !slices.ContainsFunc(rfc1918, func(r netip.Prefix) bool { return r.Bits() <= pfx.Bits() && r.Contains(pfx.Addr()) }):
			v.add(ip, "must be inside an RFC 1918 private range: 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16 (got %s)", pfx)
		case pfx.Overlaps(lkeReserved):
			v.add(ip, "must not overlap %s, which LKE reserves (got %s)", lkeReserved, pfx)
		}
		prefixes[i] = pfx.Masked()
		for j := range i {
			if prefixes[j].IsValid() && prefixes[j].Overlaps(prefixes[i]) {
				v.add(ip, "overlaps %s (%s and %s)", sp.key(keys[j]), vpc.Subnets[j].IPv4, s.IPv4)
			}
		}
	}
}

func (v *validator) namespaces() {
	e := v.env
	p := fieldPath("namespaces")
	owned := map[string]string{}
	if e.Ingress.Enabled {
		owned[e.Ingress.Namespace] = "ingress.namespace"
	}
	if e.Observability.Enabled {
		owned[e.Observability.Namespace] = "observability.namespace"
	}
	if e.Secrets.SealedSecrets {
		owned[e.Secrets.Namespace] = "secrets.namespace"
	}
	services := make(map[string]bool, len(e.DataServices))
	for _, ds := range e.DataServices {
		services[ds.Name] = true
	}
	names := make([]string, len(e.Namespaces))
	for i, ns := range e.Namespaces {
		names[i] = ns.Name
	}
	keys := EntryKeys(names)
	for i, ns := range e.Namespaces {
		np := p.key(keys[i])
		if v.entryName(np.field("name"), names, i) {
			if slices.Contains(reservedNamespaces, ns.Name) {
				v.add(np.field("name"), "%q is reserved by Kubernetes", ns.Name)
			} else if section, ok := owned[ns.Name]; ok {
				v.add(np.field("name"), "%q is %s, which the platform manages; remove this entry", ns.Name, section)
			}
		}
		if !labelValueOK(ns.Team) {
			v.add(np.field("team"), "%s (got %s)", msgLabelValue, quote(ns.Team))
		}
		v.labels(np.field("labels"), ns.Labels, 0)
		for j, ref := range ns.DataServices {
			rp := np.field("dataServices").index(j)
			switch {
			case !services[ref]:
				v.add(rp, "unknown data service %s", quote(ref))
			case slices.Index(ns.DataServices[:j], ref) >= 0:
				v.add(rp, "data service %q is listed twice", ref)
			}
		}
		if q := ns.Quota; q != nil {
			qp := np.field("quota")
			for _, c := range []struct {
				field string
				n     int
			}{{"pods", q.Pods}, {"services", q.Services}, {"persistentVolumeClaims", q.PersistentVolumeClaims}} {
				if c.n < 0 {
					v.add(qp.field(c.field), "must be ≥ 0 (got %d)", c.n)
				}
			}
			for _, c := range []struct{ field, value string }{
				{"requestsCPU", q.RequestsCPU}, {"requestsMemory", q.RequestsMemory},
				{"limitsCPU", q.LimitsCPU}, {"limitsMemory", q.LimitsMemory},
				{"storage", q.Storage},
				{"defaultRequestCPU", q.DefaultRequestCPU}, {"defaultRequestMemory", q.DefaultRequestMemory},
				{"defaultLimitCPU", q.DefaultLimitCPU}, {"defaultLimitMemory", q.DefaultLimitMemory},
			} {
				v.quantity(qp.field(c.field), c.value)
			}
		}
	}
}

func (v *validator) dataServices() {
	p := fieldPath("dataServices")
	names := make([]string, len(v.env.DataServices))
	for i, ds := range v.env.DataServices {
		names[i] = ds.Name
	}
	keys := EntryKeys(names)
	for i, ds := range v.env.DataServices {
		dp := p.key(keys[i])
		v.entryName(dp.field("name"), names, i)
		kindOK := v.oneOf(dp.field("kind"), ds.Kind, "postgresql", "redis")
		if len(ds.CIDRs) == 0 {
			v.add(dp.field("cidrs"), "must list at least one CIDR")
		}
		for j, c := range ds.CIDRs {
			if _, err := netip.ParsePrefix(c); err != nil {
				v.add(dp.field("cidrs").index(j), "must be a CIDR such as \"10.30.100.0/24\" (got %s)", quote(c))
			}
		}
		// A zero port with an unknown kind only echoes the kind's error.
		if (ds.Port != 0 || kindOK) && (ds.Port < 1 || ds.Port > 65535) {
			v.add(dp.field("port"), "must be between 1 and 65535 (got %d)", ds.Port)
		}
	}
}

func (v *validator) ingress() {
	in := v.env.Ingress
	p := fieldPath("ingress")
	v.dnsLabel(p.field("namespace"), in.Namespace, in.Enabled)
	switch {
	case in.ClassName == "" && in.Enabled:
		v.add(p.field("className"), msgRequired)
	case in.ClassName != "" && len(validation.IsDNS1123Subdomain(in.ClassName)) > 0:
		v.add(p.field("className"), "must be a DNS-1123 subdomain (got %s)", quote(in.ClassName))
	}
	if in.Replicas < 0 {
		v.add(p.field("replicas"), "must be ≥ 0 (got %d)", in.Replicas)
	}
	if in.ACMEEmail != "" && !emailRE.MatchString(in.ACMEEmail) {
		v.add(p.field("acmeEmail"), "must be an email address such as \"platform-team@example.com\" (got %s)", quote(in.ACMEEmail))
	}
}

func (v *validator) observability() {
	o := v.env.Observability
	p := fieldPath("observability")
	v.dnsLabel(p.field("namespace"), o.Namespace, o.Enabled)
	for _, r := range []struct{ field, value string }{{"metricsRetention", o.MetricsRetention}, {"logsRetention", o.LogsRetention}} {
		if r.value != "" && !durationRE.MatchString(r.value) {
			v.add(p.field(r.field), "must be a duration such as \"15d\" or \"168h\" (got %s)", quote(r.value))
		}
	}
	rp := p.field("alertRoutes")
	names := make([]string, len(o.AlertRoutes))
	for i, r := range o.AlertRoutes {
		names[i] = r.Name
	}
	keys := EntryKeys(names)
	for i, r := range o.AlertRoutes {
		ap := rp.key(keys[i])
		v.entryName(ap.field("name"), names, i)
		v.oneOf(ap.field("severity"), r.Severity, "critical", "warning", "info")
		if r.SlackChannel != "" && !slackChannelRE.MatchString(r.SlackChannel) {
			v.add(ap.field("slackChannel"), "must be a Slack channel such as \"#alerts-production\" (got %s)", quote(r.SlackChannel))
		}
		switch {
		case r.WebhookSecretRef == "" && r.SlackChannel != "":
			v.add(ap.field("webhookSecretRef"), "must be set when slackChannel is: name the Secret key, \"<secret>/<key>\", that holds the webhook URL")
		case r.WebhookSecretRef != "" && !secretRefOK(r.WebhookSecretRef):
			v.add(ap.field("webhookSecretRef"), "must be \"<secret>/<key>\", naming a Secret in observability.namespace and its key (got %s)", quote(r.WebhookSecretRef))
		}
	}
}

func (v *validator) secrets() {
	s := v.env.Secrets
	p := fieldPath("secrets")
	v.dnsLabel(p.field("namespace"), s.Namespace, s.SealedSecrets)
	if kb := s.KeyBackup; kb != nil {
		bp := p.field("keyBackup")
		switch b := kb.Bucket; {
		case b == "":
			v.add(bp.field("bucket"), msgRequired)
		case len(b) < minBucketLen || len(b) > maxBucketLen:
			v.add(bp.field("bucket"), "must be %d–%d characters (got %d)", minBucketLen, maxBucketLen, len(b))
		case !bucketLabelRE.MatchString(b):
			v.add(bp.field("bucket"), "must be DNS-style: lowercase letters and digits in parts joined by single '-' or '.' (got %s)", quote(b))
		}
		v.region(bp.field("region"), kb.Region)
	}
}

func (v *validator) gitops() {
	g := v.env.GitOps
	p := fieldPath("gitops")
	switch {
	case g.RepoURL == "" && g.GitOpsOnly:
		v.add(p.field("repoURL"), "must be set when gitOpsOnly is true")
	case g.RepoURL != "" && !gitURLOK(g.RepoURL):
		v.add(p.field("repoURL"), "must be an https:// or ssh Git URL without credentials, such as %q or \"git@github.com:org/repo.git\" (got %s)",
			DefaultGitOpsRepoURL, quote(g.RepoURL))
	}
	if g.Revision != "" && (!gitRevisionRE.MatchString(g.Revision) || strings.Contains(g.Revision, "..")) {
		v.add(p.field("revision"), "must be a branch, tag or commit (got %s)", quote(g.Revision))
	}
	if g.Path != "" && (!gitPathRE.MatchString(g.Path) || path.IsAbs(g.Path) || path.Clean(g.Path) != g.Path ||
		slices.Contains(strings.Split(g.Path, "/"), "..")) {
		v.add(p.field("path"), "must be a clean relative directory such as \"environments/production\" (got %s)", quote(g.Path))
	}
	if g.RequiredApprovals < 0 {
		v.add(p.field("requiredApprovals"), "must be ≥ 0 (got %d)", g.RequiredApprovals)
	}
	if g.BaselineOwner != "" && g.BaselineOwner != OwnerSDK && g.BaselineOwner != OwnerArgoCD {
		v.add(p.field("baselineOwner"), "must be %q or %q (got %s)", OwnerSDK, OwnerArgoCD, quote(g.BaselineOwner))
	}
}

// entryName checks the name of list entry i among names: set, a DNS-1123
// label and not used by an earlier entry. It reports whether the name passed.
func (v *validator) entryName(p fieldPath, names []string, i int) bool {
	name := names[i]
	if dup := slices.Index(names[:i], name); name != "" && dup >= 0 {
		v.add(p, "duplicate name %s (also entry %d)", quote(name), dup)
		return false
	}
	return v.dnsLabel(p, name, true)
}

// dnsLabel checks that s is a DNS-1123 label, and set when required. It
// reports whether s passed.
func (v *validator) dnsLabel(p fieldPath, s string, required bool) bool {
	switch {
	case s == "" && required:
		v.add(p, msgRequired)
		return false
	case s != "" && len(validation.IsDNS1123Label(s)) > 0:
		v.add(p, "%s (got %s)", msgDNS1123, quote(s))
		return false
	}
	return true
}

// oneOf checks that s is one of allowed and reports whether it is.
func (v *validator) oneOf(p fieldPath, s string, allowed ...string) bool {
	if slices.Contains(allowed, s) {
		return true
	}
	v.add(p, "must be one of %s (got %s)", strings.Join(allowed, ", "), quote(s))
	return false
}

func (v *validator) region(p fieldPath, s string) {
	switch {
	case s == "":
		v.add(p, msgRequired)
	case !regionRE.MatchString(s):
		v.add(p, "%s (got %s)", msgRegion, quote(s))
	}
}

// quantity checks a Kubernetes quantity, when set. A ResourceQuota or
// LimitRange refuses negative quantities, which ParseQuantity accepts.
func (v *validator) quantity(p fieldPath, s string) {
	if s == "" {
		return
	}
	q, err := resource.ParseQuantity(s)
	switch {
	case err != nil:
		v.add(p, "must be a Kubernetes quantity such as \"500m\", \"2\" or \"8Gi\" (got %s)", quote(s))
	case q.Sign() < 0:
		v.add(p, "must not be negative (got %s)", quote(s))
	}
}

// linodeLabel checks a Cloud Firewall label.
func (v *validator) linodeLabel(p fieldPath, s string) {
	switch {
	case s == "":
		v.add(p, msgRequired)
	case len(s) < minRuleLabelLen || len(s) > maxRuleLabelLen:
		v.add(p, "must be %d–%d characters (got %d)", minRuleLabelLen, maxRuleLabelLen, len(s))
	case !linodeLabelOK(s):
		v.add(p, "%s (got %s)", msgLinodeLabel, quote(s))
	}
}

// vpcLabel checks a VPC or subnet label.
func (v *validator) vpcLabel(p fieldPath, s string) {
	switch {
	case s == "":
		v.add(p, msgRequired)
	case len(s) > maxVPCLabelLen:
		v.add(p, "must be at most %d characters (got %d)", maxVPCLabelLen, len(s))
	case !vpcLabelRE.MatchString(s) || strings.Contains(s, "--"):
		v.add(p, "%s (got %s)", msgVPCLabel, quote(s))
	}
}

// tags checks Linode tags.
func (v *validator) tags(p fieldPath, tags []string) {
	for i, t := range tags {
		switch {
		case len(t) < minTagLen || len(t) > maxTagLen:
			v.add(p.index(i), "must be %d–%d characters (got %d)", minTagLen, maxTagLen, len(t))
		case slices.Index(tags[:i], t) >= 0:
			v.add(p.index(i), "duplicate tag %s", quote(t))
		}
	}
}

// labels checks Kubernetes labels; a maxKeyLen above 0 is Linode's limit on
// the keys of the labels it stores.
func (v *validator) labels(p fieldPath, labels map[string]string, maxKeyLen int) {
	for _, k := range sortedKeys(labels) {
		switch {
		case !labelKeyOK(k):
			v.add(p.key(k), "key %s", msgLabelKey)
		case maxKeyLen > 0 && len(k) > maxKeyLen:
			v.add(p.key(k), "key must be at most %d characters, Linode's limit for node pool label keys (got %d)", maxKeyLen, len(k))
		}
		if val := labels[k]; !labelValueOK(val) {
			v.add(p.key(k), "value %s (got %s)", msgLabelValue, quote(val))
		}
	}
}

// addresses checks a list of IPv4 (ipv6 false) or IPv6 addresses; with
// cidrOnly each must carry a prefix length.
func (v *validator) addresses(p fieldPath, addrs []string, ipv6, cidrOnly bool) {
	family, example := "IPv4", "192.0.2.0/24"
	if ipv6 {
		family, example = "IPv6", "2001:db8::/32"
	}
	want := family + " address or CIDR"
	if cidrOnly {
		want = family + " CIDR"
	}
	for i, a := range addrs {
		var addr netip.Addr
		if pfx, err := netip.ParsePrefix(a); err == nil {
			addr = pfx.Addr()
		} else if ip, err := netip.ParseAddr(a); err == nil && !cidrOnly {
			addr = ip
		}
		if !addr.IsValid() || addr.Is6() != ipv6 || addr.Is4In6() || addr.Zone() != "" {
			v.add(p.index(i), "must be an %s such as %q (got %s)", want, example, quote(a))
		}
	}
}

// linodeLabelOK matches Linode's ^[a-zA-Z]((?!--|__|\.\.)[a-zA-Z0-9-_.])+$,
// whose lookahead Go's regexp lacks.
func linodeLabelOK(s string) bool {
	return linodeLabelCharsRE.MatchString(s) && !hasDoubledSeparator(s)
}

// hasDoubledSeparator reports whether s holds "--", "__" or "..", which
// Linode's label rules forbid.
func hasDoubledSeparator(s string) bool {
	return strings.Contains(s, "--") || strings.Contains(s, "__") || strings.Contains(s, "..")
}

// labelKeyOK reports whether s is a Kubernetes label key (a qualified name).
func labelKeyOK(s string) bool { return len(validation.IsQualifiedName(s)) == 0 }

// labelValueOK reports whether s is a Kubernetes label value.
func labelValueOK(s string) bool { return len(validation.IsValidLabelValue(s)) == 0 }

// secretRefOK reports whether s is "<secret>/<key>": a Secret name and a
// key a Secret may hold.
func secretRefOK(s string) bool {
	name, key, ok := strings.Cut(s, "/")
	return ok && len(validation.IsDNS1123Subdomain(name)) == 0 && len(validation.IsConfigMapKey(key)) == 0
}

// gitURLOK reports whether s is an https or ssh Git URL without a password.
func gitURLOK(s string) bool {
	if scpLikeGitURLRE.MatchString(s) && !strings.Contains(s, "://") {
		return true
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || strings.Trim(u.Path, "/") == "" || u.RawQuery != "" || u.Fragment != "" {
		return false
	}
	switch u.Scheme {
	case "https":
		return u.User == nil
	case "ssh":
		_, hasPassword := u.User.Password()
		return !hasPassword
	}
	return false
}

// quote renders s for a message, unless it looks like a secret.
func quote(s string) string {
	if kind := secretKind(s); kind != "" {
		return "a value that looks like a " + kind
	}
	if len(s) > 80 {
		return fmt.Sprintf("%q…", s[:80])
	}
	return fmt.Sprintf("%q", s)
}
