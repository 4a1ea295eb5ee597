package network

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/linode/linodego"
	"go.uber.org/zap"

	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/spec"
)

// FirewallAPI is the part of the Linode API EnsureFirewall and PlanFirewall
// call: exactly the linodego methods they use. The real *linodego.Client
// satisfies it; so does the client pkg/linodetest returns.
type FirewallAPI interface {
	ListFirewalls(ctx context.Context, opts *linodego.ListOptions) ([]linodego.Firewall, error)
	CreateFirewall(ctx context.Context, opts linodego.FirewallCreateOptions) (*linodego.Firewall, error)
	UpdateFirewall(ctx context.Context, firewallID int, opts linodego.FirewallUpdateOptions) (*linodego.Firewall, error)
	DeleteFirewall(ctx context.Context, firewallID int) error
	GetFirewallRules(ctx context.Context, firewallID int) (*linodego.FirewallRuleSet, error)
	UpdateFirewallRules(ctx context.Context, firewallID int, rules linodego.FirewallRuleSet) (*linodego.FirewallRuleSet, error)
}

var _ FirewallAPI = (*linodego.Client)(nil)

// FirewallResult is what EnsureFirewall did or PlanFirewall would do.
type FirewallResult struct {
	change.Result
	// ID is the Cloud Firewall's id: hand it to pkg/cluster
	// (cluster.WithFirewallID) so that every node pool is attached to it.
	// PlanFirewall leaves it 0 when the firewall does not exist yet.
	ID int
	// Label is the firewall's label.
	Label string
}

// PlanFirewall reads the environment's Cloud Firewall and returns the
// changes EnsureFirewall would make, without making any. See EnsureFirewall.
func PlanFirewall(ctx context.Context, api FirewallAPI, env spec.Environment, opts ...Option) (FirewallResult, error) {
	r, err := newFirewallRun(api, env, opts)
	if err != nil {
		return FirewallResult{}, err
	}
	res := FirewallResult{Label: r.d.label}
	obs, err := r.observe(ctx)
	if err != nil {
		return res, err
	}
	if obs.fw != nil {
		res.ID = obs.fw.ID
	}
	_, changes, err := r.plan(obs)
	res.Changes = changes
	return res, err
}

// EnsureFirewall makes the environment's Cloud Firewall match the spec and
// returns its id, which pkg/cluster attaches to the node pools (this
// package never writes pools).
//
// The firewall is found by label (network.firewall.label, default
// "platform-<name>") with an X-Filter and adopted when it exists, created
// otherwise. Its rules are the spec's, in order, each rule with more than
// 255 addresses split by spec.SplitRule into parts labelled "<label>",
// "<label>-2", …; a firewall needing more than 25 rules after splitting is
// rejected before any request. The inbound policy defaults to DROP and the
// outbound one to ACCEPT. Its tags are cluster.tags plus
// EnvTagPrefix+<name>.
//
// Rules are compared normalized: the order of rules matters (the API
// evaluates them in order), the order of addresses within a rule and of
// ports within a ports list does not, and addresses compare as masked CIDRs
// ("10.0.0.1" equals "10.0.0.1/32"). When they differ, the whole rule set
// is replaced with one PUT /rules; tags and a disabled status are fixed with
// one PUT on the firewall.
//
// Idempotency: a second call with the same spec sends no write. Reads, PUTs
// and DELETEs that fail transiently are retried within ctx; the create is
// never resent blindly: after an error the firewall is looked up by label
// again and adopted if the lost request created it. Should two firewalls
// of this environment carry the label anyway, the newer ones, when they
// protect nothing, are deleted; a same-labelled firewall that is not ours,
// or that protects devices, is a conflict (change.ErrConflict).
//
// Bad input fails before the first request with spec.FieldErrors.
func EnsureFirewall(ctx context.Context, api FirewallAPI, env spec.Environment, opts ...Option) (FirewallResult, error) {
	r, err := newFirewallRun(api, env, opts)
	if err != nil {
		return FirewallResult{}, err
	}
	res := FirewallResult{Label: r.d.label}
	changes, err := reconcile(ctx, r.o, r.log, func(ctx context.Context) ([]step, []change.Change, error) {
		obs, err := r.observe(ctx)
		if err != nil {
			return nil, nil, err
		}
		if obs.fw != nil {
			res.ID = obs.fw.ID
		}
		return r.plan(obs)
	})
	res.Changes = changes
	if r.createdID != 0 {
		res.ID = r.createdID
	}
	return res, err
}

// desiredFirewall is the firewall the spec asks for, in API terms.
type desiredFirewall struct {
	env   string
	label string
	rules linodego.FirewallRuleSet
	tags  []string // sorted, unique
}

type firewallRun struct {
	api       FirewallAPI
	o         *options
	d         desiredFirewall
	log       *zap.Logger
	createdID int
}

func newFirewallRun(api FirewallAPI, env spec.Environment, opts []Option) (*firewallRun, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	env = withDefaults(env)
	if err := validate(env, firewallSections, checkFirewall); err != nil {
		return nil, fmt.Errorf("firewall of environment %q: %w", env.Name, err)
	}
	d := desiredFirewallFrom(env)
	return &firewallRun{api: api, o: o, d: d, log: o.logger.With(zap.String("firewall", d.label))}, nil
}

func desiredFirewallFrom(env spec.Environment) desiredFirewall {
	fw := env.Network.Firewall
	tags := append(slices.Clone(env.Cluster.Tags), EnvTagPrefix+env.Name)
	slices.Sort(tags)
	return desiredFirewall{
		env:   env.Name,
		label: fw.Label,
		rules: linodego.FirewallRuleSet{
			Inbound:        apiRules(fw.Inbound),
			InboundPolicy:  fw.InboundPolicy,
			Outbound:       apiRules(fw.Outbound),
			OutboundPolicy: fw.OutboundPolicy,
		},
		tags: slices.Compact(tags),
	}
}

// apiRules converts spec rules to API rules, split at 255 addresses.
// Addresses are sent canonical and sorted, so what is read back compares
// equal. The result is never nil: the API wants a list.
func apiRules(rules []spec.FirewallRule) []linodego.FirewallRule {
	out := []linodego.FirewallRule{}
	for _, r := range rules {
		for _, part := range spec.SplitRule(r) {
			ar := linodego.FirewallRule{
				Action:      part.Action,
				Label:       part.Label,
				Description: part.Description,
				Ports:       normalizePorts(part.Ports),
				Protocol:    linodego.NetworkProtocol(part.Protocol),
			}
			if v4 := canonicalAddresses(part.IPv4); v4 != nil {
				ar.Addresses.IPv4 = &v4
			}
			if v6 := canonicalAddresses(part.IPv6); v6 != nil {
				ar.Addresses.IPv6 = &v6
			}
			out = append(out, ar)
		}
	}
	return out
}

// normalizePorts returns a ports list without spaces, its pieces sorted by
// first port: "443, 80" and "80,443" are the same rule.
func normalizePorts(ports string) string {
	if ports == "" {
		return ""
	}
	pieces := strings.Split(strings.ReplaceAll(ports, " ", ""), ",")
	first := func(p string) int {
		lo, _, _ := strings.Cut(p, "-")
		n, _ := strconv.Atoi(lo)
		return n
	}
	sort.SliceStable(pieces, func(i, j int) bool { return first(pieces[i]) < first(pieces[j]) })
	return strings.Join(slices.Compact(pieces), ",")
}

func (d desiredFirewall) object() string { return "firewall/" + d.label }

// observedFirewall is what the API holds for the label.
type observedFirewall struct {
	fw         *linodego.Firewall // the one to keep; nil when there is none
	rules      linodego.FirewallRuleSet
	duplicates []linodego.Firewall // ours, protecting nothing: to delete
}

// observe finds the firewall by label and reads its rules: two requests
// for an existing firewall, one for a missing one.
func (r *firewallRun) observe(ctx context.Context) (*observedFirewall, error) {
	lo, err := labelFilter(r.d.label)
	if err != nil {
		return nil, fmt.Errorf("list Cloud Firewalls labelled %q: %w", r.d.label, err)
	}
	var all []linodego.Firewall
	err = retry(ctx, r.o, r.log, "list Cloud Firewalls", func(ctx context.Context) error {
		var err error
		all, err = r.api.ListFirewalls(ctx, lo)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list Cloud Firewalls labelled %q: %w", r.d.label, err)
	}
	// The filter is a request, not a promise: check the label here too.
	var found []linodego.Firewall
	for _, fw := range all {
		if fw.Label == r.d.label && fw.Status != linodego.FirewallDeleted {
			found = append(found, fw)
		}
	}
	if len(found) == 0 {
		return &observedFirewall{}, nil
	}
	envTag := EnvTagPrefix + r.d.env
	ours := func(fw linodego.Firewall) bool { return slices.Contains(fw.Tags, envTag) }
	// Keep the oldest of ours, else the oldest: ids grow with time.
	slices.SortFunc(found, func(a, b linodego.Firewall) int {
		if oa, ob := ours(a), ours(b); oa != ob {
			if oa {
				return -1
			}
			return 1
		}
		return a.ID - b.ID
	})
	obs := &observedFirewall{fw: &found[0]}
	for _, dup := range found[1:] {
		if !ours(dup) || len(dup.Entities) > 0 {
			return nil, fmt.Errorf("find Cloud Firewall %q: firewall %d has the label too and is not a removable duplicate (tags %v, %d devices): %w",
				r.d.label, dup.ID, dup.Tags, len(dup.Entities), change.ErrConflict)
		}
		obs.duplicates = append(obs.duplicates, dup)
	}
	var rules *linodego.FirewallRuleSet
	err = retry(ctx, r.o, r.log, "get Cloud Firewall rules", func(ctx context.Context) error {
		var err error
		rules, err = r.api.GetFirewallRules(ctx, obs.fw.ID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("get rules of Cloud Firewall %q (%d): %w", r.d.label, obs.fw.ID, err)
	}
	obs.rules = *rules
	return obs, nil
}

// plan compares what the API holds with the spec and returns the steps
// that make them equal, and the changes they make (or an Unchanged marker).
// It only reads obs.
func (r *firewallRun) plan(obs *observedFirewall) ([]step, []change.Change, error) {
	d := r.d
	obj := d.object()
	if obs.fw == nil {
		c := change.Change{Layer: change.LayerLinode, Object: obj, Op: change.Create,
			To: fmt.Sprintf("%d inbound rules (otherwise %s), %d outbound rules (otherwise %s), tags %s",
				len(d.rules.Inbound), d.rules.InboundPolicy, len(d.rules.Outbound), d.rules.OutboundPolicy, joinList(d.tags))}
		return []step{{create: true, apply: r.create}}, []change.Change{c}, nil
	}
	fw := obs.fw
	var steps []step
	var all []change.Change
	for _, dup := range obs.duplicates {
		id := dup.ID
		c := change.Change{Layer: change.LayerLinode, Object: fmt.Sprintf("%s#%d", obj, id), Op: change.Delete,
			From: fmt.Sprintf("duplicate of firewall %d", fw.ID)}
		steps = append(steps, step{apply: func(ctx context.Context) error {
			r.log.Info("deleting duplicate Cloud Firewall", zap.Int("firewallID", id))
			if err := retryDelete(ctx, r.o, r.log, "delete Cloud Firewall", func(ctx context.Context) error {
				return r.api.DeleteFirewall(ctx, id)
			}); err != nil {
				return fmt.Errorf("delete duplicate Cloud Firewall %q (%d): %w", d.label, id, err)
			}
			return nil
		}})
		all = append(all, c)
	}

	// Tags and status: one PUT on the firewall.
	var fch []change.Change
	upd := linodego.FirewallUpdateOptions{}
	have := slices.Clone(fw.Tags)
	slices.Sort(have)
	have = slices.Compact(have)
	if !slices.Equal(have, d.tags) {
		tags := slices.Clone(d.tags)
		upd.Tags = &tags
		fch = append(fch, update(obj, "tags", joinList(have), joinList(d.tags)))
	}
	if fw.Status == linodego.FirewallDisabled {
		upd.Status = linodego.FirewallEnabled
		fch = append(fch, update(obj, "status", string(fw.Status), string(linodego.FirewallEnabled)))
	}
	if len(fch) > 0 {
		id := fw.ID
		steps = append(steps, step{apply: func(ctx context.Context) error {
			r.log.Info("updating Cloud Firewall", zap.Int("firewallID", id))
			if err := retry(ctx, r.o, r.log, "update Cloud Firewall", func(ctx context.Context) error {
				_, err := r.api.UpdateFirewall(ctx, id, upd)
				return err
			}); err != nil {
				return fmt.Errorf("update Cloud Firewall %q (%d): %w", d.label, id, err)
			}
			return nil
		}})
		all = append(all, fch...)
	}

	// Rules: one PUT /rules with the whole set.
	if rch := diffRuleSets(obj, obs.rules, d.rules); len(rch) > 0 {
		id := fw.ID
		rules := d.rules
		steps = append(steps, step{apply: func(ctx context.Context) error {
			r.log.Info("replacing Cloud Firewall rules", zap.Int("firewallID", id),
				zap.Int("inbound", len(rules.Inbound)), zap.Int("outbound", len(rules.Outbound)))
			if err := retry(ctx, r.o, r.log, "update Cloud Firewall rules", func(ctx context.Context) error {
				_, err := r.api.UpdateFirewallRules(ctx, id, rules)
				return err
			}); err != nil {
				return fmt.Errorf("update rules of Cloud Firewall %q (%d): %w", d.label, id, err)
			}
			return nil
		}})
		all = append(all, rch...)
	}
	if len(all) == 0 {
		all = []change.Change{{Layer: change.LayerLinode, Object: obj, Op: change.Unchanged}}
	}
	return steps, all, nil
}

// create sends the one POST that creates the firewall with its rules and
// tags. It is not retried here: the reconcile loop re-reads by label first.
func (r *firewallRun) create(ctx context.Context) error {
	d := r.d
	r.log.Info("creating Cloud Firewall", zap.Int("inbound", len(d.rules.Inbound)), zap.Int("outbound", len(d.rules.Outbound)))
	fw, err := r.api.CreateFirewall(ctx, linodego.FirewallCreateOptions{
		Label: d.label,
		Rules: d.rules,
		Tags:  slices.Clone(d.tags),
	})
	if err != nil {
		return fmt.Errorf("create Cloud Firewall %q: %w", d.label, err)
	}
	r.createdID = fw.ID
	r.log.Info("created Cloud Firewall", zap.Int("firewallID", fw.ID))
	return nil
}

func update(object, field, from, to string) change.Change {
	return change.Change{Layer: change.LayerLinode, Object: object, Field: field, From: from, To: to, Op: change.Update}
}

// normRule is a rule in the form compared: addresses canonical and sorted,
// ports normalized.
type normRule struct {
	label, action, protocol, ports, description string
	ipv4, ipv6                                  []string
}

func normalizeRule(r linodego.FirewallRule) normRule {
	n := normRule{
		label:       r.Label,
		action:      strings.ToUpper(r.Action),
		protocol:    strings.ToUpper(string(r.Protocol)),
		ports:       normalizePorts(r.Ports),
		description: r.Description,
	}
	if r.Addresses.IPv4 != nil {
		n.ipv4 = canonicalAddresses(*r.Addresses.IPv4)
	}
	if r.Addresses.IPv6 != nil {
		n.ipv6 = canonicalAddresses(*r.Addresses.IPv6)
	}
	return n
}

// diffRuleSets lists what differs between the live rule set and the
// desired one, field by field; nil when they are equal.
func diffRuleSets(obj string, live, want linodego.FirewallRuleSet) []change.Change {
	var out []change.Change
	if p := strings.ToUpper(live.InboundPolicy); p != want.InboundPolicy {
		out = append(out, update(obj, "rules.inboundPolicy", p, want.InboundPolicy))
	}
	if p := strings.ToUpper(live.OutboundPolicy); p != want.OutboundPolicy {
		out = append(out, update(obj, "rules.outboundPolicy", p, want.OutboundPolicy))
	}
	out = append(out, diffRules(obj, "rules.inbound", live.Inbound, want.Inbound)...)
	out = append(out, diffRules(obj, "rules.outbound", live.Outbound, want.Outbound)...)
	return out
}

func diffRules(obj, field string, live, want []linodego.FirewallRule) []change.Change {
	var out []change.Change
	lr := make([]normRule, len(live))
	for i, r := range live {
		lr[i] = normalizeRule(r)
	}
	wr := make([]normRule, len(want))
	for i, r := range want {
		wr[i] = normalizeRule(r)
	}
	labels := func(rs []normRule) []string {
		out := make([]string, len(rs))
		for i, r := range rs {
			out[i] = r.label
		}
		return out
	}
	if ll, wl := labels(lr), labels(wr); !slices.Equal(ll, wl) {
		out = append(out, update(obj, field, joinList(ll), joinList(wl)))
	}
	// Field by field for the rules both hold at the same position; a rule
	// that moved is reported by the label order above.
	for i := range min(len(lr), len(wr)) {
		l, w := lr[i], wr[i]
		if l.label != w.label {
			continue
		}
		f := field + "[" + w.label + "]"
		for _, c := range []struct{ name, from, to string }{
			{"action", l.action, w.action},
			{"protocol", l.protocol, w.protocol},
			{"ports", l.ports, w.ports},
			{"description", l.description, w.description},
		} {
			if c.from != c.to {
				out = append(out, update(obj, f+"."+c.name, c.from, c.to))
			}
		}
		for _, c := range []struct {
			name     string
			from, to []string
		}{{"ipv4", l.ipv4, w.ipv4}, {"ipv6", l.ipv6, w.ipv6}} {
			if !slices.Equal(c.from, c.to) {
				from, to := addressDiff(c.from, c.to)
				out = append(out, update(obj, f+"."+c.name, from, to))
			}
		}
	}
	return out
}

// addressDiff renders two address lists for a change line: whole when
// short, else counted with what was added and removed.
func addressDiff(from, to []string) (string, string) {
	const show = 8
	if len(from) <= show && len(to) <= show {
		return joinList(from), joinList(to)
	}
	var added, removed int
	for _, a := range to {
		if _, ok := slices.BinarySearch(from, a); !ok {
			added++
		}
	}
	for _, a := range from {
		if _, ok := slices.BinarySearch(to, a); !ok {
			removed++
		}
	}
	return fmt.Sprintf("%d addresses", len(from)), fmt.Sprintf("%d addresses (+%d −%d)", len(to), added, removed)
}
