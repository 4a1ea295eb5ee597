package network

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"

	"github.com/org/platform/pkg/spec"
)

// Target is what an Exposure reaches in the receiving environment.
type Target string

// The targets of an Exposure.
const (
	// TargetNodes are the environment's worker nodes, behind its Cloud
	// Firewall.
	TargetNodes Target = "nodes"
	// TargetControlPlane is the environment's Kubernetes API, behind its
	// control-plane ACL.
	TargetControlPlane Target = "control-plane"
)

// Exposure is one way traffic from the nodes of one environment is
// admitted into another: by a rule or the inbound policy of the receiving
// firewall, or by its control-plane ACL.
type Exposure struct {
	// From is the sending environment and Source the range of its nodes
	// (one of its VPC subnets) that is admitted.
	From   string
	Source netip.Prefix
	// To is the receiving environment and Target what of it is reached.
	To     string
	Target Target
	// Protocol is TCP, UDP, ICMP, IPENCAP or ALL; Ports is empty for all.
	Protocol string
	Ports    string
	// Via is the field of the receiving environment's spec that admits the
	// traffic, from the YAML root: "network.firewall.inbound[icmp]",
	// "network.firewall.inboundPolicy", "cluster.controlPlaneACL.enabled",
	// "cluster.controlPlaneACL.ipv4[0]".
	Via string
}

// String renders the exposure for a reviewer:
//
//	staging 10.20.0.0/20 → production nodes: TCP 443 via network.firewall.inbound[https]
func (e Exposure) String() string {
	what := e.Protocol
	if e.Ports != "" {
		what += " " + e.Ports
	}
	return fmt.Sprintf("%s %s → %s %s: %s via %s", e.From, e.Source, e.To, e.Target, what, e.Via)
}

// NodeRanges returns the IPv4 ranges env's nodes take their addresses from:
// its VPC subnets, canonical. It is empty for an environment without a VPC.
func NodeRanges(env spec.Environment) []netip.Prefix {
	if env.Network.VPC == nil {
		return nil
	}
	var out []netip.Prefix
	for _, s := range env.Network.VPC.Subnets {
		if p, err := netip.ParsePrefix(s.IPv4); err == nil {
			out = append(out, p.Masked())
		}
	}
	return out
}

// CrossEnvironmentExposures computes, for every ordered pair of distinct
// environments, the effective inbound admission of the receiving one — its
// Cloud Firewall's inbound rules (split as applied) and policy, and its
// control-plane ACL — for the node ranges (NodeRanges) of the sending one,
// and returns every admission it finds, sorted. Environments are isolated
// at the Linode layer when it returns none.
//
// The evaluation errs towards finding exposures, never towards missing
// them: an ACCEPT rule whose addresses overlap a sending range exposes it
// unless an earlier DROP rule of the same protocol, for all ports or the
// same ports, holds the whole range in one of its CIDRs; an inbound policy
// of ACCEPT exposes everything; a disabled control-plane ACL admits every
// address. Each environment needs a VPC (its node addresses are otherwise
// unknown) and a valid network section; names must be unique.
func CrossEnvironmentExposures(envs []spec.Environment) ([]Exposure, error) {
	var errs []error
	seen := map[string]bool{}
	envs = slices.Clone(envs)
	for i := range envs {
		envs[i] = withDefaults(envs[i])
		e := envs[i]
		if seen[e.Name] {
			errs = append(errs, fmt.Errorf("environment %q is listed twice", e.Name))
		}
		seen[e.Name] = true
		if err := validate(e, isolationSections, checkFirewall); err != nil {
			errs = append(errs, fmt.Errorf("environment %q: %w", e.Name, err))
			continue
		}
		if len(NodeRanges(e)) == 0 {
			errs = append(errs, fmt.Errorf("environment %q: network.vpc: must be set: without VPC subnets its node addresses are unknown", e.Name))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var out []Exposure
	for _, from := range envs {
		for _, to := range envs {
			if from.Name == to.Name {
				continue
			}
			for _, src := range NodeRanges(from) {
				for _, x := range admitted(to, src) {
					x.From, x.Source, x.To = from.Name, src, to.Name
					out = append(out, x)
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b Exposure) int {
		return cmp.Or(cmp.Compare(a.To, b.To), cmp.Compare(a.Target, b.Target), cmp.Compare(a.From, b.From),
			a.Source.Addr().Compare(b.Source.Addr()), cmp.Compare(a.Via, b.Via))
	})
	return out, nil
}

// admitted returns how env admits traffic from src, with From, Source and
// To left for the caller.
func admitted(env spec.Environment, src netip.Prefix) []Exposure {
	var out []Exposure
	fw := env.Network.Firewall
	type applied struct {
		key  string // the spec rule's entry key
		rule spec.FirewallRule
	}
	var rules []applied
	keys := spec.EntryKeysOf(fw.Inbound, func(r spec.FirewallRule) string { return r.Label })
	for i, r := range fw.Inbound {
		for _, part := range spec.SplitRule(r) {
			rules = append(rules, applied{key: keys[i], rule: part})
		}
	}
	for i, a := range rules {
		r := a.rule
		if r.Action != "ACCEPT" || !anyOverlaps(r.IPv4, src) {
			continue
		}
		shadowed := slices.ContainsFunc(rules[:i], func(d applied) bool {
			return d.rule.Action == "DROP" && d.rule.Protocol == r.Protocol &&
				(d.rule.Ports == "" || normalizePorts(d.rule.Ports) == normalizePorts(r.Ports)) &&
				anyContains(d.rule.IPv4, src)
		})
		if shadowed {
			continue
		}
		out = append(out, Exposure{Target: TargetNodes, Protocol: r.Protocol, Ports: normalizePorts(r.Ports),
			Via: "network.firewall.inbound[" + a.key + "]"})
	}
	if fw.InboundPolicy == "ACCEPT" {
		out = append(out, Exposure{Target: TargetNodes, Protocol: "ALL", Via: "network.firewall.inboundPolicy"})
	}
	acl := env.Cluster.ControlPlaneACL
	if !acl.Enabled {
		out = append(out, Exposure{Target: TargetControlPlane, Protocol: "TCP", Ports: "443", Via: "cluster.controlPlaneACL.enabled"})
	} else {
		for i, a := range acl.IPv4 {
			if anyOverlaps([]string{a}, src) {
				out = append(out, Exposure{Target: TargetControlPlane, Protocol: "TCP", Ports: "443",
					Via: "cluster.controlPlaneACL.ipv4[" + strconv.Itoa(i) + "]"})
			}
		}
	}
	return out
}

// anyOverlaps reports whether an address or CIDR of addrs overlaps src.
func anyOverlaps(addrs []string, src netip.Prefix) bool {
	return slices.ContainsFunc(addrs, func(a string) bool {
		p, err := netip.ParsePrefix(canonicalAddress(a))
		return err == nil && p.Overlaps(src)
	})
}

// anyContains reports whether one address or CIDR of addrs holds all of src.
func anyContains(addrs []string, src netip.Prefix) bool {
	return slices.ContainsFunc(addrs, func(a string) bool {
		p, err := netip.ParsePrefix(canonicalAddress(a))
		return err == nil && p.Bits() <= src.Bits() && p.Contains(src.Addr())
	})
}
