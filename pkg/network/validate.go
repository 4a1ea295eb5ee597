package network

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/org/platform/pkg/spec"
)

// Sections of the spec each entry point reads: Validate's errors outside
// them do not stop it (EnsureFirewall does not refuse to run because an
// alert route is misspelt), while errors inside them stop it before the
// first request.
var (
	firewallSections   = []string{"name", "network.firewall"}
	vpcSections        = []string{"name", "network.vpc", "cluster.region"}
	kubernetesSections = []string{"name", "namespaces", "dataServices", "ingress", "observability"}
	isolationSections  = []string{"name", "network", "cluster.controlPlaneACL"}
)

// validate returns spec.FieldErrors (wrapping spec.ErrInvalid) for env: the
// errors of env.Validate under sections, then this package's own checks,
// or nil. env must have its defaults applied.
func validate(env spec.Environment, sections []string, own func(env spec.Environment) spec.FieldErrors) error {
	var out spec.FieldErrors
	if err := env.Validate(); err != nil {
		fes, ok := err.(spec.FieldErrors)
		if !ok {
			return fmt.Errorf("validate environment %q: %w", env.Name, err)
		}
		for _, fe := range fes {
			if inSections(fe.Path, sections) {
				out = append(out, fe)
			}
		}
	}
	if own != nil {
		out = append(out, own(env)...)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// inSections reports whether path lies under one of sections. A problem
// with the whole document (empty path) concerns every section.
func inSections(path string, sections []string) bool {
	if path == "" {
		return true
	}
	for _, s := range sections {
		if rest, ok := strings.CutPrefix(path, s); ok && (rest == "" || rest[0] == '.' || rest[0] == '[') {
			return true
		}
	}
	return false
}

// fieldErr builds one FieldError.
func fieldErr(path, format string, args ...any) *spec.FieldError {
	return &spec.FieldError{Path: path, Message: fmt.Sprintf(format, args...)}
}

// checkFirewall adds what Cloud Firewalls need beyond spec.Validate:
// addresses in canonical form (so that what is sent is what is read back
// and compared), and rule labels that stay unique once long rules are split
// ("web" split into "web" and "web-2" must not meet a rule labelled "web-2").
func checkFirewall(env spec.Environment) spec.FieldErrors {
	var errs spec.FieldErrors
	fw := env.Network.Firewall
	for _, dir := range []struct {
		name  string
		rules []spec.FirewallRule
	}{{"inbound", fw.Inbound}, {"outbound", fw.Outbound}} {
		keys := spec.EntryKeysOf(dir.rules, func(r spec.FirewallRule) string { return r.Label })
		seen := map[string]string{}
		for i, r := range dir.rules {
			rp := "network.firewall." + dir.name + "[" + keys[i] + "]"
			for _, fam := range []struct {
				name  string
				addrs []string
			}{{"ipv4", r.IPv4}, {"ipv6", r.IPv6}} {
				for j, a := range fam.addrs {
					if p, err := netip.ParsePrefix(a); err == nil && p.Masked() != p {
						errs = append(errs, fieldErr(fmt.Sprintf("%s.%s[%d]", rp, fam.name, j),
							"must be in canonical form (%s, not %s)", p.Masked(), p))
					}
				}
			}
			if r.Label == "" {
				continue
			}
			for _, part := range spec.SplitRule(r) {
				if other, dup := seen[part.Label]; dup && other != keys[i] {
					errs = append(errs, fieldErr(rp+".label",
						"rule label %q, once the rule is split into parts of %d addresses, clashes with %s[%s]",
						part.Label, spec.MaxAddressesPerRule, dir.name, other))
					break
				}
				seen[part.Label] = keys[i]
			}
		}
	}
	return errs
}
