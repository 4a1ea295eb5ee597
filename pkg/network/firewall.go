package network

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/linode/linodego"
	"go.uber.org/zap"

	"github.com/org/platform/internal/reconcile"
	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/spec"
)

// FirewallAPI is the part of the Linode API the firewall functions of this
// package call: exactly the linodego methods they use. The real
// *linodego.Client satisfies it; so does the client pkg/linodetest returns.
type FirewallAPI interface {
	ListFirewalls(ctx context.Context, opts *linodego.ListOptions) ([]linodego.Firewall, error)
	CreateFirewall(ctx context.Context, opts linodego.FirewallCreateOptions) (*linodego.Firewall, error)
	UpdateFirewall(ctx context.Context, firewallID int, opts linodego.FirewallUpdateOptions) (*linodego.Firewall, error)
	DeleteFirewall(ctx context.Context, firewallID int) error
	UpdateFirewallRules(ctx context.Context, firewallID int, rules linodego.FirewallRuleSet) (*linodego.FirewallRuleSet, error)
}

var _ FirewallAPI = (*linodego.Client)(nil)

// Step kinds of this package's Linode plans; ApplyFirewallStep carries out
// the firewall ones and ApplyVPCStep the VPC ones.
const (
	// KindFirewallCreate creates the firewall with its rules and tags. Its
	// Action is the linodego.FirewallCreateOptions sent; it records output
	// "id".
	KindFirewallCreate = "firewall.create"
	// KindFirewallUpdate fixes the tags and status of a firewall with one
	// PUT. Action: {"firewall_id", "label", "update":
	// linodego.FirewallUpdateOptions}.
	KindFirewallUpdate = "firewall.update"
	// KindFirewallRules replaces a firewall's whole rule set with one PUT.
	// Action: {"firewall_id", "label", "rules": linodego.FirewallRuleSet}.
	KindFirewallRules = "firewall.rules"
	// KindFirewallDelete deletes a firewall (a duplicate, or on teardown).
	// Action: {"firewall_id", "label"}.
	KindFirewallDelete = "firewall.delete"
	// KindVPCCreate creates the VPC with its subnets. Its Action is the
	// linodego.VPCCreateOptions sent; it records outputs "id" and
	// "subnet/<label>" for each subnet.
	KindVPCCreate = "vpc.create"
	// KindVPCUpdate changes a VPC's description. Action: {"vpc_id",
	// "label", "update": linodego.VPCUpdateOptions}.
	KindVPCUpdate = "vpc.update"
	// KindVPCDelete deletes a VPC (a duplicate, or on teardown). Action:
	// {"vpc_id", "label"}.
	KindVPCDelete = "vpc.delete"
	// KindVPCSubnetCreate adds a subnet to an existing VPC. Action:
	// {"vpc_id", "label", "subnet": linodego.VPCSubnetCreateOptions}; it
	// records outputs "id" and "subnet/<label>".
	KindVPCSubnetCreate = "vpc.subnet.create"
	// KindVPCSubnetDelete deletes an empty subnet. Action: {"vpc_id",
	// "label", "subnet_id", "subnet_label"}.
	KindVPCSubnetDelete = "vpc.subnet.delete"
)

// ErrUnknownKind is returned by ApplyFirewallStep and ApplyVPCStep for a
// step whose Kind they do not carry out.
var ErrUnknownKind = errors.New("step kind not handled here")

// FirewallStepID returns the ID of the step that creates the Cloud Firewall
// of environment env (its name): "<env>/linode/firewall". The firewall's
// other steps take IDs under it ("…/update", "…/rules", "…#<id>" for a
// duplicate). It holds no label, so a caller that knows only the
// environment's name can refer to its output "id" in a change.Fill; the
// firewall's label is in the step's Object.
func FirewallStepID(env string) string { return env + "/" + string(change.LayerLinode) + "/firewall" }

// FirewallPlan is what EnsureFirewall would do, as data: the steps (each
// carrying the request it sends), the base they were decided on, and the
// firewall's id.
type FirewallPlan struct {
	change.Plan
	// ID is the firewall's id: known when it exists, else
	// change.After(FirewallStepID(env), "id"), which shows as
	// "(known after apply)" and resolves once the create step ran.
	ID change.Int `json:"id"`
	// Label is the firewall's label.
	Label string `json:"label"`
}

// FirewallResult is what EnsureFirewall or DeleteFirewall did.
type FirewallResult struct {
	change.Result
	// ID is the Cloud Firewall's id: hand it to pkg/cluster
	// (cluster.WithFirewallID) so that every node pool is attached to it.
	// DeleteFirewall sets the id of the firewall it deleted, 0 for none.
	ID int `json:"id"`
	// Label is the firewall's label.
	Label string `json:"label"`
}

// PlanFirewall reads the environment's Cloud Firewall (one request) and
// returns what EnsureFirewall would do, without doing it: ObserveLinode for
// this environment's firewall, then PlanFirewallFrom.
func PlanFirewall(ctx context.Context, api FirewallAPI, env spec.Environment, opts ...Option) (FirewallPlan, error) {
	r, err := newFirewallRun(env, opts)
	if err != nil {
		return FirewallPlan{}, err
	}
	obs, err := observeFirewalls(ctx, api, []string{r.d.label})
	if err != nil {
		return FirewallPlan{Label: r.d.label}, err
	}
	return r.plan(obs)
}

// PlanFirewallFrom returns what EnsureFirewall would do for env given obs,
// without any request: a create step when no firewall carries the label,
// else a delete per removable duplicate, one update for tags and status and
// one rules step when the normalized rules differ (see EnsureFirewall). Its
// Base records the firewall's id (or "absent"), duplicates, tags, status and
// a digest of its normalized rules. An obs that did not look up the
// environment's label is an error.
func PlanFirewallFrom(obs Observation, env spec.Environment, opts ...Option) (FirewallPlan, error) {
	r, err := newFirewallRun(env, opts)
	if err != nil {
		return FirewallPlan{}, err
	}
	return r.plan(obs)
}

// EnsureFirewall makes the environment's Cloud Firewall match the spec and
// returns its id, which pkg/cluster attaches to the node pools (this
// package never writes pools). It is PlanFirewall then ApplyFirewallStep
// for each step, through the shared reconcile loop (internal/reconcile),
// bounded by WithMaxRounds.
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
	r, err := newFirewallRun(env, opts)
	if err != nil {
		return FirewallResult{}, err
	}
	out := &change.Outputs{}
	var last FirewallPlan
	plan := func(ctx context.Context) (change.Plan, error) {
		obs, err := observeFirewalls(ctx, api, []string{r.d.label})
		if err != nil {
			return change.Plan{}, err
		}
		p, err := r.plan(obs)
		if err != nil {
			return change.Plan{}, err
		}
		last = p
		return p.Plan, nil
	}
	step := func(ctx context.Context, s change.Step, out *change.Outputs) error {
		return applyFirewallStep(ctx, api, s, out, r.o)
	}
	res, err := reconcile.Converge(ctx, r.o.converge(r.log), plan, step, out)
	return FirewallResult{Result: res, ID: resolveID(last.ID, out), Label: r.d.label}, err
}

// ApplyFirewallStep carries out one step of a FirewallPlan (or of a plan
// read back from JSON) whose Fills are resolved: the request its Action
// holds, and nothing else. A create records output "id" in out (which may
// be nil) and is sent once; updates and deletes are retried in place when
// they fail transiently, and a delete answered 404 succeeded. A step of
// another kind is an error wrapping ErrUnknownKind.
func ApplyFirewallStep(ctx context.Context, api FirewallAPI, s change.Step, out *change.Outputs, opts ...Option) error {
	o, err := newOptions(opts)
	if err != nil {
		return fmt.Errorf("apply step %s: %w", s.ID, err)
	}
	return applyFirewallStep(ctx, api, s, out, o)
}

// firewallAction is the Action of every firewall step but the create.
type firewallAction struct {
	FirewallID int                             `json:"firewall_id"`
	Label      string                          `json:"label"`
	Update     *linodego.FirewallUpdateOptions `json:"update,omitempty"`
	Rules      *linodego.FirewallRuleSet       `json:"rules,omitempty"`
}

func applyFirewallStep(ctx context.Context, api FirewallAPI, s change.Step, out *change.Outputs, o *options) error {
	log := o.logger.With(zap.String("step", s.ID))
	if s.Kind == KindFirewallCreate {
		var body linodego.FirewallCreateOptions
		if err := s.Decode(&body); err != nil {
			return err
		}
		// Sent once: the reconcile loop reads by label before any retry.
		log.Info("creating Cloud Firewall", zap.String("firewall", body.Label),
			zap.Int("inbound", len(body.Rules.Inbound)), zap.Int("outbound", len(body.Rules.Outbound)))
		fw, err := api.CreateFirewall(ctx, body)
		if err != nil {
			return fmt.Errorf("create Cloud Firewall %q: %w", body.Label, err)
		}
		log.Info("created Cloud Firewall", zap.Int("firewallID", fw.ID))
		return setOutput(out, s.ID, "id", fw.ID)
	}
	var a firewallAction
	switch s.Kind {
	case KindFirewallUpdate, KindFirewallRules, KindFirewallDelete:
		if err := s.Decode(&a); err != nil {
			return err
		}
		if a.FirewallID == 0 {
			return fmt.Errorf("plan step %s (%s): no firewall id in its action", s.ID, s.Kind)
		}
	default:
		return fmt.Errorf("plan step %s: kind %q: %w", s.ID, s.Kind, ErrUnknownKind)
	}
	log = log.With(zap.Int("firewallID", a.FirewallID))
	switch s.Kind {
	case KindFirewallUpdate:
		if a.Update == nil {
			return fmt.Errorf("plan step %s (%s): no update in its action", s.ID, s.Kind)
		}
		log.Info("updating Cloud Firewall")
		if _, err := api.UpdateFirewall(ctx, a.FirewallID, *a.Update); err != nil {
			return fmt.Errorf("update Cloud Firewall %q (%d): %w", a.Label, a.FirewallID, err)
		}
	case KindFirewallRules:
		if a.Rules == nil {
			return fmt.Errorf("plan step %s (%s): no rules in its action", s.ID, s.Kind)
		}
		log.Info("replacing Cloud Firewall rules", zap.Int("inbound", len(a.Rules.Inbound)), zap.Int("outbound", len(a.Rules.Outbound)))
		if _, err := api.UpdateFirewallRules(ctx, a.FirewallID, *a.Rules); err != nil {
			return fmt.Errorf("update rules of Cloud Firewall %q (%d): %w", a.Label, a.FirewallID, err)
		}
	case KindFirewallDelete:
		log.Info("deleting Cloud Firewall")
		if err := gone(api.DeleteFirewall(ctx, a.FirewallID)); err != nil {
			return fmt.Errorf("delete Cloud Firewall %q (%d): %w", a.Label, a.FirewallID, err)
		}
	}
	return nil
}

// DeleteFirewall tears down the environment's Cloud Firewall: every
// firewall with its label that carries EnvTagPrefix+<name> (ours) is
// deleted, one DELETE each. A same-labelled firewall without that tag is
// not ours: it is left alone and listed in Result.Retained. A firewall of
// ours that still protects devices is a conflict (change.ErrConflict),
// reported before any write: delete what it protects (the cluster) first.
//
// It is idempotent: a second call finds nothing and sends no write; a
// DELETE answered 404 means the firewall is already gone. The result's ID
// is the id of the firewall deleted (the oldest, if there were several).
func DeleteFirewall(ctx context.Context, api FirewallAPI, env spec.Environment, opts ...Option) (FirewallResult, error) {
	r, err := newFirewallRun(env, opts)
	if err != nil {
		return FirewallResult{}, err
	}
	res, deleted, err := convergeDelete(ctx, r.o, r.log,
		func(ctx context.Context) (Observation, error) { return observeFirewalls(ctx, api, []string{r.d.label}) },
		r.planDelete,
		func(ctx context.Context, s change.Step, out *change.Outputs) error {
			return applyFirewallStep(ctx, api, s, out, r.o)
		})
	return FirewallResult{Result: res, ID: deleted, Label: r.d.label}, err
}

// planDelete returns the steps that delete our firewalls with the label,
// and the id of the oldest.
func (r *firewallRun) planDelete(obs Observation) (change.Plan, int, error) {
	var p change.Plan
	found := r.found(obs)
	obj := r.d.object()
	envTag := EnvTagPrefix + r.d.env
	first := 0
	ids := make([]string, 0, len(found))
	for _, fw := range found {
		ids = append(ids, strconv.Itoa(fw.ID))
	}
	p.Observe(obj+" ids", joinList(ids))
	for _, fw := range found {
		fobj := fmt.Sprintf("%s#%d", obj, fw.ID)
		if !slices.Contains(fw.Tags, envTag) {
			p.Retained = append(p.Retained, change.Retained{Object: fobj,
				Reason: fmt.Sprintf("not tagged %s: not this environment's", envTag)})
			continue
		}
		if n := len(fw.Entities); n > 0 {
			return change.Plan{}, 0, fmt.Errorf("delete Cloud Firewall %q (%d): it still protects %d devices; delete them first: %w",
				r.d.label, fw.ID, n, change.ErrConflict)
		}
		s, err := r.step(fmt.Sprintf("%s#%d", FirewallStepID(r.d.env), fw.ID), KindFirewallDelete, change.Delete, fobj,
			firewallAction{FirewallID: fw.ID, Label: fw.Label},
			change.Change{Layer: change.LayerLinode, Object: fobj, Op: change.Delete, From: joinList(fw.Tags)})
		if err != nil {
			return change.Plan{}, 0, err
		}
		p.Add(s)
		if first == 0 {
			first = fw.ID
		}
	}
	return p, first, nil
}

// desiredFirewall is the firewall the spec asks for, in API terms.
type desiredFirewall struct {
	env   string
	label string
	rules linodego.FirewallRuleSet
	tags  []string // sorted, unique
}

type firewallRun struct {
	o   *options
	d   desiredFirewall
	log *zap.Logger
}

func newFirewallRun(env spec.Environment, opts []Option) (*firewallRun, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	env = withDefaults(env)
	if err := validate(env, firewallSections, checkFirewall); err != nil {
		return nil, fmt.Errorf("firewall of environment %q: %w", env.Name, err)
	}
	d := desiredFirewallFrom(env)
	return &firewallRun{o: o, d: d, log: o.logger.With(zap.String("firewall", d.label))}, nil
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

// step builds a step of this firewall's plan.
func (r *firewallRun) step(id, kind string, op change.Op, object string, action any, changes ...change.Change) (change.Step, error) {
	s, err := change.NewStep(id, change.LayerLinode, kind, op, object, action, changes...)
	s.Env = r.d.env
	return s, err
}

// found returns the firewalls of obs with the label, oldest of ours first,
// then the oldest of the others: ids grow with time.
func (r *firewallRun) found(obs Observation) []linodego.Firewall {
	var found []linodego.Firewall
	for _, fw := range obs.Firewalls {
		if fw.Label == r.d.label && fw.Status != linodego.FirewallDeleted {
			found = append(found, fw)
		}
	}
	envTag := EnvTagPrefix + r.d.env
	ours := func(fw linodego.Firewall) bool { return slices.Contains(fw.Tags, envTag) }
	slices.SortFunc(found, func(a, b linodego.Firewall) int {
		if oa, ob := ours(a), ours(b); oa != ob {
			if oa {
				return -1
			}
			return 1
		}
		return a.ID - b.ID
	})
	return found
}

// plan compares what obs holds with the spec and returns the steps that
// make them equal. It sends nothing.
func (r *firewallRun) plan(obs Observation) (FirewallPlan, error) {
	d := r.d
	p := FirewallPlan{Label: d.label}
	if _, ok := slices.BinarySearch(obs.FirewallLabels, d.label); !ok {
		return p, fmt.Errorf("plan Cloud Firewall %q: the observation did not look up this label", d.label)
	}
	obj := d.object()
	sid := FirewallStepID(d.env)
	found := r.found(obs)
	if len(found) == 0 {
		p.Observe(obj+" id", "absent")
		c := change.Change{Layer: change.LayerLinode, Object: obj, Op: change.Create,
			To: fmt.Sprintf("%d inbound rules (otherwise %s), %d outbound rules (otherwise %s), tags %s",
				len(d.rules.Inbound), d.rules.InboundPolicy, len(d.rules.Outbound), d.rules.OutboundPolicy, joinList(d.tags))}
		s, err := r.step(sid, KindFirewallCreate, change.Create, obj,
			linodego.FirewallCreateOptions{Label: d.label, Rules: d.rules, Tags: slices.Clone(d.tags)}, c)
		if err != nil {
			return p, err
		}
		s.Creates = true
		p.Add(s)
		p.ID = change.After(sid, "id")
		return p, nil
	}
	fw := found[0]
	p.ID = change.Known(fw.ID)
	var dups []string
	for _, dup := range found[1:] {
		if !slices.Contains(dup.Tags, EnvTagPrefix+d.env) || len(dup.Entities) > 0 {
			return p, fmt.Errorf("find Cloud Firewall %q: firewall %d has the label too and is not a removable duplicate (tags %v, %d devices): %w",
				d.label, dup.ID, dup.Tags, len(dup.Entities), change.ErrConflict)
		}
		dups = append(dups, strconv.Itoa(dup.ID))
	}
	have := slices.Clone(fw.Tags)
	slices.Sort(have)
	have = slices.Compact(have)
	digest, err := rulesDigest(fw.Rules)
	if err != nil {
		return p, fmt.Errorf("plan Cloud Firewall %q: %w", d.label, err)
	}
	p.Observe(obj+" id", strconv.Itoa(fw.ID))
	p.Observe(obj+" duplicates", joinList(dups))
	p.Observe(obj+" tags", joinList(have))
	p.Observe(obj+" status", string(fw.Status))
	p.Observe(obj+" rules", digest)

	for _, dup := range found[1:] {
		dobj := fmt.Sprintf("%s#%d", obj, dup.ID)
		s, err := r.step(fmt.Sprintf("%s#%d", sid, dup.ID), KindFirewallDelete, change.Delete, dobj,
			firewallAction{FirewallID: dup.ID, Label: d.label},
			change.Change{Layer: change.LayerLinode, Object: dobj, Op: change.Delete, From: fmt.Sprintf("duplicate of firewall %d", fw.ID)})
		if err != nil {
			return p, err
		}
		p.Add(s)
	}

	// Tags and status: one PUT on the firewall.
	var fch []change.Change
	upd := linodego.FirewallUpdateOptions{}
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
		s, err := r.step(sid+"/update", KindFirewallUpdate, change.Update, obj,
			firewallAction{FirewallID: fw.ID, Label: d.label, Update: &upd}, fch...)
		if err != nil {
			return p, err
		}
		p.Add(s)
	}

	// Rules: one PUT /rules with the whole set.
	if rch := diffRuleSets(obj, fw.Rules, d.rules); len(rch) > 0 {
		rules := d.rules
		s, err := r.step(sid+"/rules", KindFirewallRules, change.Update, obj,
			firewallAction{FirewallID: fw.ID, Label: d.label, Rules: &rules}, rch...)
		if err != nil {
			return p, err
		}
		p.Add(s)
	}
	return p, nil
}

// rulesDigest renders a rule set for a plan's base: its size and policies,
// and a digest of its normalized rules, so that only a change the
// comparison would see moves it.
func rulesDigest(rs linodego.FirewallRuleSet) (string, error) {
	norm := func(rules []linodego.FirewallRule) []normRule {
		out := make([]normRule, len(rules))
		for i, r := range rules {
			out[i] = normalizeRule(r)
		}
		return out
	}
	in, inP := norm(rs.Inbound), strings.ToUpper(rs.InboundPolicy)
	outR, outP := norm(rs.Outbound), strings.ToUpper(rs.OutboundPolicy)
	sum, err := change.Digest([]any{inP, in, outP, outR})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d inbound (otherwise %s), %d outbound (otherwise %s), sha256:%s", len(in), inP, len(outR), outP, sum), nil
}

func update(object, field, from, to string) change.Change {
	return change.Change{Layer: change.LayerLinode, Object: object, Field: field, From: from, To: to, Op: change.Update}
}

// normRule is a rule in the form compared: addresses canonical and sorted,
// ports normalized.
type normRule struct {
	Label       string   `json:"label"`
	Action      string   `json:"action"`
	Protocol    string   `json:"protocol"`
	Ports       string   `json:"ports"`
	Description string   `json:"description"`
	IPv4        []string `json:"ipv4"`
	IPv6        []string `json:"ipv6"`
}

func normalizeRule(r linodego.FirewallRule) normRule {
	n := normRule{
		Label:       r.Label,
		Action:      strings.ToUpper(r.Action),
		Protocol:    strings.ToUpper(string(r.Protocol)),
		Ports:       normalizePorts(r.Ports),
		Description: r.Description,
	}
	if r.Addresses.IPv4 != nil {
		n.IPv4 = canonicalAddresses(*r.Addresses.IPv4)
	}
	if r.Addresses.IPv6 != nil {
		n.IPv6 = canonicalAddresses(*r.Addresses.IPv6)
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
			out[i] = r.Label
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
		if l.Label != w.Label {
			continue
		}
		f := field + "[" + w.Label + "]"
		for _, c := range []struct{ name, from, to string }{
			{"action", l.Action, w.Action},
			{"protocol", l.Protocol, w.Protocol},
			{"ports", l.Ports, w.Ports},
			{"description", l.Description, w.Description},
		} {
			if c.from != c.to {
				out = append(out, update(obj, f+"."+c.name, c.from, c.to))
			}
		}
		for _, c := range []struct {
			name     string
			from, to []string
		}{{"ipv4", l.IPv4, w.IPv4}, {"ipv6", l.IPv6, w.IPv6}} {
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
