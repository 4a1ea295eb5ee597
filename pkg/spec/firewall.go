package spec

import "strconv"

// Linode Cloud Firewall limits (Linode API v4 and its Cluster API provider).
const (
	// MaxFirewallRules is how many rules, inbound and outbound together, a
	// Cloud Firewall holds, counted after SplitRule.
	MaxFirewallRules = 25
	// MaxAddressesPerRule is how many addresses and networks, IPv4 and IPv6
	// together, one Cloud Firewall rule holds.
	MaxAddressesPerRule = 255
	// MaxPortPieces is how many port pieces one rule's Ports holds; a single
	// port is one piece and a range is two.
	MaxPortPieces = 15
)

// SplitRule returns the Cloud Firewall rules that carry r: r itself when it
// has at most MaxAddressesPerRule addresses, else one rule per run of
// MaxAddressesPerRule addresses, taken from IPv4 then IPv6 in order, so a
// rule carries ceil((len(IPv4)+len(IPv6))/255) rules, and always at least
// one. Every part keeps Action, Protocol, Ports and Description; the first
// keeps Label, part n (from 2) gets Label truncated so that "-n" fits within
// 32 characters, then "-n". The returned rules share no slices with r.
//
// pkg/network applies exactly these rules, and Validate counts them with
// ExpandedRuleCount, so the limit checked is the limit met.
func SplitRule(r FirewallRule) []FirewallRule {
	addrs := make([]string, 0, len(r.IPv4)+len(r.IPv6))
	addrs = append(addrs, r.IPv4...)
	addrs = append(addrs, r.IPv6...)
	n := splitCount(len(addrs))
	parts := make([]FirewallRule, n)
	for i := range n {
		part := r
		part.IPv4, part.IPv6 = nil, nil
		if i > 0 {
			suffix := "-" + strconv.Itoa(i+1)
			label := r.Label
			if len(label)+len(suffix) > maxRuleLabelLen {
				label = label[:max(0, maxRuleLabelLen-len(suffix))]
			}
			part.Label = label + suffix
		}
		lo, hi := i*MaxAddressesPerRule, min((i+1)*MaxAddressesPerRule, len(addrs))
		for j := lo; j < hi; j++ {
			if j < len(r.IPv4) {
				part.IPv4 = append(part.IPv4, addrs[j])
			} else {
				part.IPv6 = append(part.IPv6, addrs[j])
			}
		}
		parts[i] = part
	}
	return parts
}

// splitCount is len(SplitRule(r)) for a rule with n addresses.
func splitCount(n int) int {
	return max(1, (n+MaxAddressesPerRule-1)/MaxAddressesPerRule)
}

// ExpandedRuleCount returns how many Cloud Firewall rules f needs once every
// inbound and outbound rule is split with SplitRule. Validate rejects a
// firewall whose count exceeds MaxFirewallRules.
func (f Firewall) ExpandedRuleCount() int {
	n := 0
	for _, rules := range [][]FirewallRule{f.Inbound, f.Outbound} {
		for _, r := range rules {
			n += splitCount(len(r.IPv4) + len(r.IPv6))
		}
	}
	return n
}
