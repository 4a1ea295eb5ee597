package linodetest

import (
	"net/netip"
	"regexp"
	"strings"
)

// firewallLabelRe is the firewall label rule, ^[a-zA-Z]((?!--|__|\.\.)[a-zA-Z0-9-_.])+$,
// with the look-ahead checked separately (Go's regexp has none).
var firewallLabelRe = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9\-_.]+$`)

func validFirewallLabel(l string) bool {
	return len(l) >= 3 && len(l) <= 32 && firewallLabelRe.MatchString(l) &&
		!strings.Contains(l, "--") && !strings.Contains(l, "__") && !strings.Contains(l, "..")
}

// bucketLabelRe is the DNS-style bucket name rule of the API.
var bucketLabelRe = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*(?:\.[a-z0-9]+(?:-[a-z0-9]+)*)*$`)

func validBucketLabel(l string) bool {
	return len(l) >= 3 && len(l) <= 63 && bucketLabelRe.MatchString(l)
}

// validIPOrCIDR reports whether s is an address or prefix of the family.
func validIPOrCIDR(s string, v6 bool) bool {
	var a netip.Addr
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return false
		}
		a = p.Addr()
	} else {
		var err error
		if a, err = netip.ParseAddr(s); err != nil {
			return false
		}
	}
	if v6 {
		return a.Is6() && !a.Is4In6()
	}
	return a.Is4()
}

// aclCIDR is how the API stores a control-plane ACL entry: in CIDR
// notation, a bare address becoming a /32 or /128 ("1234::5678" →
// "1234::5678/128", as recorded). A prefix is kept as given.
func aclCIDR(s string) string {
	if strings.Contains(s, "/") {
		return s
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return s // validated before; keep what cannot be parsed
	}
	return netip.PrefixFrom(a, a.BitLen()).String()
}

func aclCIDRs(in []string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = aclCIDR(s)
	}
	return out
}
