package network

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/linode/linodego"
	"go.uber.org/zap"

	"github.com/org/platform/internal/reconcile"
	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/spec"
)

// VPCAPI is the part of the Linode API the VPC functions of this package
// call: exactly the linodego methods they use. The real *linodego.Client
// satisfies it; so does the client pkg/linodetest returns.
type VPCAPI interface {
	ListVPCs(ctx context.Context, opts *linodego.ListOptions) ([]linodego.VPC, error)
	CreateVPC(ctx context.Context, opts linodego.VPCCreateOptions) (*linodego.VPC, error)
	UpdateVPC(ctx context.Context, vpcID int, opts linodego.VPCUpdateOptions) (*linodego.VPC, error)
	DeleteVPC(ctx context.Context, vpcID int) error
	CreateVPCSubnet(ctx context.Context, opts linodego.VPCSubnetCreateOptions, vpcID int) (*linodego.VPCSubnet, error)
	DeleteVPCSubnet(ctx context.Context, vpcID int, subnetID int) error
}

var _ VPCAPI = (*linodego.Client)(nil)

// VPCStepID returns the ID of the step that creates the VPC of environment
// env (its name): "<env>/linode/vpc". The VPC's other steps take IDs under
// it ("…/update", "…/subnet/<label>" for a subnet added to an existing VPC,
// "…/subnet/<label>#<id>" for one deleted, "…#<id>" for a duplicate). Like
// FirewallStepID it holds no label.
func VPCStepID(env string) string { return env + "/" + string(change.LayerLinode) + "/vpc" }

// vpcSubnetStepID is the ID of the step that adds subnet label to an
// existing VPC.
func vpcSubnetStepID(env, label string) string { return VPCStepID(env) + "/subnet/" + label }

// VPCPlan is what EnsureVPC would do, as data: the steps (each carrying the
// request it sends), the base they were decided on, the VPC's id and its
// subnets' ids.
type VPCPlan struct {
	change.Plan
	// ID is the VPC's id: known when it exists, else
	// change.After(VPCStepID(env), "id").
	ID change.Int `json:"id"`
	// Subnets maps the label of every subnet of the spec to its id: known
	// when it exists with the spec's range; change.After(VPCStepID(env),
	// "subnet/<label>") when the VPC itself is still to be created; and
	// change.After(<the subnet step's ID>, "id") for a subnet a separate
	// step adds to an existing VPC.
	Subnets map[string]change.Int `json:"subnets,omitempty"`
	// Label is the VPC's label.
	Label string `json:"label"`
}

// VPCResult is what EnsureVPC or DeleteVPC did. Subnets the spec no longer
// has that were kept because something is attached to them (LKE nodes,
// NodeBalancers, databases) are in Result.Retained; a later EnsureVPC
// deletes them once empty.
type VPCResult struct {
	change.Result
	// ID is the VPC's id (DeleteVPC: the one deleted, 0 for none).
	ID int `json:"id"`
	// Subnets maps the label of every subnet of the spec to its id.
	Subnets map[string]int `json:"subnets,omitempty"`
	// Label is the VPC's label.
	Label string `json:"label"`
}

// PlanVPC reads the environment's VPC with its subnets (one request) and
// returns what EnsureVPC would do, without doing it: ObserveLinode for this
// environment's VPC, then PlanVPCFrom. An environment without network.vpc
// has nothing to plan.
func PlanVPC(ctx context.Context, api VPCAPI, env spec.Environment, opts ...Option) (VPCPlan, error) {
	r, err := newVPCRun(env, opts)
	if err != nil || r == nil {
		return VPCPlan{}, err
	}
	obs, err := observeVPCs(ctx, api, []string{r.d.label})
	if err != nil {
		return VPCPlan{Label: r.d.label}, err
	}
	return r.plan(obs)
}

// PlanVPCFrom returns what EnsureVPC would do for env given obs, without any
// request (see EnsureVPC for the decisions). Its Base records the VPC's id
// (or "absent"), region, description and duplicates, every live subnet's
// range, and whether each subnet the spec does not keep as it is was in use.
// Subnets kept because something is attached are in the plan's Retained. An
// obs that did not look up the environment's label is an error; an
// environment without network.vpc has nothing to plan.
func PlanVPCFrom(obs Observation, env spec.Environment, opts ...Option) (VPCPlan, error) {
	r, err := newVPCRun(env, opts)
	if err != nil || r == nil {
		return VPCPlan{}, err
	}
	return r.plan(obs)
}

// EnsureVPC makes the environment's VPC match network.vpc: found by label
// (default "platform-<name>") with an X-Filter and adopted, or created with
// its subnets in cluster.region. It is PlanVPC then ApplyVPCStep for each
// step, through the shared reconcile loop (internal/reconcile), bounded by
// WithMaxRounds.
//
// Subnets are matched by label: missing ones are added; those the spec no
// longer has are deleted when nothing is attached to them, and otherwise
// kept and reported in Result.Retained (LKE nodes attached: report, don't
// delete). A subnet whose range changed is replaced when empty and is an
// error (change.ErrIrreversible) otherwise. A changed description is
// updated; an empty description in the spec leaves the VPC's alone. Every
// subnet of the VPC is taken to be the spec's: the VPC belongs to one
// environment.
//
// Overlapping subnets are rejected before any request (spec.FieldErrors),
// and so is a plan whose new subnets would overlap a kept one
// (change.ErrConflict), or a VPC in another region (change.ErrConflict).
//
// Idempotency and faults as for EnsureFirewall: a second call sends no
// write; reads and DELETEs are retried in place; a POST is never resent
// blindly, the loop reads by label again and adopts what a lost response
// created; a duplicate VPC of ours with nothing attached is deleted.
//
// An environment without network.vpc has nothing to ensure.
func EnsureVPC(ctx context.Context, api VPCAPI, env spec.Environment, opts ...Option) (VPCResult, error) {
	r, err := newVPCRun(env, opts)
	if err != nil || r == nil {
		return VPCResult{}, err
	}
	out := &change.Outputs{}
	var last VPCPlan
	plan := func(ctx context.Context) (change.Plan, error) {
		obs, err := observeVPCs(ctx, api, []string{r.d.label})
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
		return applyVPCStep(ctx, api, s, out, r.o)
	}
	// The loop ends with a plan read after the last write, so last holds
	// the ids that exist.
	res, err := reconcile.Converge(ctx, r.o.converge(r.log), plan, step, out)
	vr := VPCResult{Result: res, ID: resolveID(last.ID, out), Label: r.d.label}
	if len(last.Subnets) > 0 {
		vr.Subnets = map[string]int{}
		for label, id := range last.Subnets {
			if v := resolveID(id, out); v != 0 {
				vr.Subnets[label] = v
			}
		}
	}
	return vr, err
}

// ApplyVPCStep carries out one step of a VPCPlan (or of a plan read back
// from JSON) whose Fills are resolved: the request its Action holds, and
// nothing else. A create records its outputs in out (which may be nil):
// "id" and "subnet/<label>" per subnet for a VPC, "id" and "subnet/<label>"
// for a subnet; it is sent once. Updates and deletes are retried in place
// when they fail transiently, and a delete answered 404 succeeded. A step
// of another kind is an error wrapping ErrUnknownKind.
func ApplyVPCStep(ctx context.Context, api VPCAPI, s change.Step, out *change.Outputs, opts ...Option) error {
	o, err := newOptions(opts)
	if err != nil {
		return fmt.Errorf("apply step %s: %w", s.ID, err)
	}
	return applyVPCStep(ctx, api, s, out, o)
}

// vpcAction is the Action of every VPC step but the create.
type vpcAction struct {
	VPCID       int                              `json:"vpc_id"`
	Label       string                           `json:"label"`
	Update      *linodego.VPCUpdateOptions       `json:"update,omitempty"`
	Subnet      *linodego.VPCSubnetCreateOptions `json:"subnet,omitempty"`
	SubnetID    int                              `json:"subnet_id,omitempty"`
	SubnetLabel string                           `json:"subnet_label,omitempty"`
}

func applyVPCStep(ctx context.Context, api VPCAPI, s change.Step, out *change.Outputs, o *options) error {
	log := o.logger.With(zap.String("step", s.ID))
	if s.Kind == KindVPCCreate {
		var body linodego.VPCCreateOptions
		if err := s.Decode(&body); err != nil {
			return err
		}
		// Sent once: the reconcile loop reads by label before any retry.
		log.Info("creating VPC", zap.String("vpc", body.Label), zap.String("region", body.Region), zap.Int("subnets", len(body.Subnets)))
		v, err := api.CreateVPC(ctx, body)
		if err != nil {
			return fmt.Errorf("create VPC %q: %w", body.Label, err)
		}
		log.Info("created VPC", zap.Int("vpcID", v.ID))
		if err := setOutput(out, s.ID, "id", v.ID); err != nil {
			return err
		}
		for _, sn := range v.Subnets {
			if err := setOutput(out, s.ID, "subnet/"+sn.Label, sn.ID); err != nil {
				return err
			}
		}
		return nil
	}
	var a vpcAction
	switch s.Kind {
	case KindVPCUpdate, KindVPCDelete, KindVPCSubnetCreate, KindVPCSubnetDelete:
		if err := s.Decode(&a); err != nil {
			return err
		}
		if a.VPCID == 0 {
			return fmt.Errorf("plan step %s (%s): no VPC id in its action", s.ID, s.Kind)
		}
	default:
		return fmt.Errorf("plan step %s: kind %q: %w", s.ID, s.Kind, ErrUnknownKind)
	}
	log = log.With(zap.Int("vpcID", a.VPCID))
	switch s.Kind {
	case KindVPCUpdate:
		if a.Update == nil {
			return fmt.Errorf("plan step %s (%s): no update in its action", s.ID, s.Kind)
		}
		log.Info("updating VPC")
		if _, err := api.UpdateVPC(ctx, a.VPCID, *a.Update); err != nil {
			return fmt.Errorf("update VPC %q (%d): %w", a.Label, a.VPCID, err)
		}
	case KindVPCDelete:
		log.Info("deleting VPC")
		if err := gone(api.DeleteVPC(ctx, a.VPCID)); err != nil {
			return fmt.Errorf("delete VPC %q (%d): %w", a.Label, a.VPCID, err)
		}
	case KindVPCSubnetCreate:
		if a.Subnet == nil {
			return fmt.Errorf("plan step %s (%s): no subnet in its action", s.ID, s.Kind)
		}
		// Sent once, as the VPC's create.
		log.Info("creating VPC subnet", zap.String("subnet", a.Subnet.Label), zap.String("ipv4", a.Subnet.IPv4))
		sn, err := api.CreateVPCSubnet(ctx, *a.Subnet, a.VPCID)
		if err != nil {
			return fmt.Errorf("create subnet %q of VPC %q: %w", a.Subnet.Label, a.Label, err)
		}
		log.Info("created VPC subnet", zap.String("subnet", a.Subnet.Label), zap.Int("subnetID", sn.ID))
		if err := setOutput(out, s.ID, "id", sn.ID); err != nil {
			return err
		}
		return setOutput(out, s.ID, "subnet/"+a.Subnet.Label, sn.ID)
	case KindVPCSubnetDelete:
		if a.SubnetID == 0 {
			return fmt.Errorf("plan step %s (%s): no subnet id in its action", s.ID, s.Kind)
		}
		log.Info("deleting VPC subnet", zap.String("subnet", a.SubnetLabel), zap.Int("subnetID", a.SubnetID))
		if err := gone(api.DeleteVPCSubnet(ctx, a.VPCID, a.SubnetID)); err != nil {
			return fmt.Errorf("delete subnet %q of VPC %q: %w", a.SubnetLabel, a.Label, err)
		}
	}
	return nil
}

// DeleteVPC tears down the environment's VPC: every VPC with its label in
// cluster.region (ours: this package takes a VPC's label to make it the
// environment's, see EnsureVPC) is deleted with one DELETE, which removes
// its subnets too. A same-labelled VPC in another region is not ours: it is
// left alone and listed in Result.Retained. A VPC of ours whose subnets
// still hold Linodes, NodeBalancers or databases is a conflict
// (change.ErrConflict), reported before any write: delete the cluster
// first.
//
// It is idempotent: a second call finds nothing and sends no write; a
// DELETE answered 404 means the VPC is already gone. An environment without
// network.vpc has nothing to delete.
func DeleteVPC(ctx context.Context, api VPCAPI, env spec.Environment, opts ...Option) (VPCResult, error) {
	r, err := newVPCRun(env, opts)
	if err != nil || r == nil {
		return VPCResult{}, err
	}
	res, deleted, err := convergeDelete(ctx, r.o, r.log,
		func(ctx context.Context) (Observation, error) { return observeVPCs(ctx, api, []string{r.d.label}) },
		r.planDelete,
		func(ctx context.Context, s change.Step, out *change.Outputs) error {
			return applyVPCStep(ctx, api, s, out, r.o)
		})
	return VPCResult{Result: res, ID: deleted, Label: r.d.label}, err
}

// planDelete returns the steps that delete our VPCs with the label, and the
// id of the oldest.
func (r *vpcRun) planDelete(obs Observation) (change.Plan, int, error) {
	var p change.Plan
	d := r.d
	obj := d.object()
	found := r.found(obs)
	ids := make([]string, 0, len(found))
	for _, v := range found {
		ids = append(ids, strconv.Itoa(v.ID))
	}
	p.Observe(obj+" ids", joinList(ids))
	first := 0
	for _, v := range found {
		vobj := fmt.Sprintf("%s#%d", obj, v.ID)
		if v.Region != d.region {
			p.Retained = append(p.Retained, change.Retained{Object: vobj,
				Reason: fmt.Sprintf("in %s, not %s: not this environment's", v.Region, d.region)})
			continue
		}
		var subnets []string
		for _, s := range v.Subnets {
			if reason := attached(s); reason != "" {
				return change.Plan{}, 0, fmt.Errorf("delete VPC %q (%d): its subnet %q still holds %s; delete them first: %w",
					d.label, v.ID, s.Label, reason, change.ErrConflict)
			}
			subnets = append(subnets, s.Label+" "+s.IPv4)
		}
		p.Observe(vobj+" in use", "false")
		s, err := r.step(fmt.Sprintf("%s#%d", VPCStepID(d.env), v.ID), KindVPCDelete, change.Delete, vobj,
			vpcAction{VPCID: v.ID, Label: v.Label},
			change.Change{Layer: change.LayerLinode, Object: vobj, Op: change.Delete,
				From: fmt.Sprintf("%s, subnets %s", v.Region, joinList(subnets))})
		if err != nil {
			return change.Plan{}, 0, err
		}
		p.Add(s)
		if first == 0 {
			first = v.ID
		}
	}
	return p, first, nil
}

type desiredVPC struct {
	env, label, description, region string
	subnets                         []spec.Subnet
}

func (d desiredVPC) object() string { return "vpc/" + d.label }

func (d desiredVPC) subnetObject(label string) string { return d.object() + "/subnet/" + label }

type vpcRun struct {
	o   *options
	d   desiredVPC
	log *zap.Logger
}

// newVPCRun checks the spec; it returns nil, nil when the spec has no VPC.
func newVPCRun(env spec.Environment, opts []Option) (*vpcRun, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	env = withDefaults(env)
	if env.Network.VPC == nil {
		return nil, nil
	}
	if err := validate(env, vpcSections, nil); err != nil {
		return nil, fmt.Errorf("VPC of environment %q: %w", env.Name, err)
	}
	v := env.Network.VPC
	d := desiredVPC{env: env.Name, label: v.Label, description: v.Description, region: env.Cluster.Region, subnets: slices.Clone(v.Subnets)}
	for i := range d.subnets {
		d.subnets[i].IPv4 = canonicalAddress(d.subnets[i].IPv4)
	}
	return &vpcRun{o: o, d: d, log: o.logger.With(zap.String("vpc", d.label))}, nil
}

// step builds a step of this VPC's plan.
func (r *vpcRun) step(id, kind string, op change.Op, object string, action any, changes ...change.Change) (change.Step, error) {
	s, err := change.NewStep(id, change.LayerLinode, kind, op, object, action, changes...)
	s.Env = r.d.env
	return s, err
}

// found returns the VPCs of obs with the label, oldest first: ids grow
// with time.
func (r *vpcRun) found(obs Observation) []linodego.VPC {
	var found []linodego.VPC
	for _, v := range obs.VPCs {
		if v.Label == r.d.label {
			found = append(found, v)
		}
	}
	slices.SortFunc(found, func(a, b linodego.VPC) int { return a.ID - b.ID })
	return found
}

// attached says what uses a subnet, or "" when nothing does.
func attached(s linodego.VPCSubnet) string {
	var parts []string
	if n := len(s.Linodes); n > 0 {
		parts = append(parts, fmt.Sprintf("%d Linodes", n))
	}
	if n := len(s.Nodebalancers); n > 0 {
		parts = append(parts, fmt.Sprintf("%d NodeBalancers", n))
	}
	if n := len(s.Databases); n > 0 {
		parts = append(parts, fmt.Sprintf("%d databases", n))
	}
	return strings.Join(parts, ", ")
}

func inUse(reason string) string { return strconv.FormatBool(reason != "") }

// plan compares obs with the spec and returns the steps. Conflicts the API
// cannot resolve are errors returned before any step. It sends nothing.
func (r *vpcRun) plan(obs Observation) (VPCPlan, error) {
	d := r.d
	p := VPCPlan{Label: d.label}
	if _, ok := slices.BinarySearch(obs.VPCLabels, d.label); !ok {
		return p, fmt.Errorf("plan VPC %q: the observation did not look up this label", d.label)
	}
	obj := d.object()
	sid := VPCStepID(d.env)
	found := r.found(obs)
	if len(found) == 0 {
		p.Observe(obj+" id", "absent")
		body := linodego.VPCCreateOptions{Label: d.label, Description: d.description, Region: d.region}
		cidrs := make([]string, len(d.subnets))
		p.Subnets = map[string]change.Int{}
		for i, s := range d.subnets {
			cidrs[i] = s.Label + " " + s.IPv4
			body.Subnets = append(body.Subnets, linodego.VPCSubnetCreateOptions{Label: s.Label, IPv4: s.IPv4})
			p.Subnets[s.Label] = change.After(sid, "subnet/"+s.Label)
		}
		c := change.Change{Layer: change.LayerLinode, Object: obj, Op: change.Create,
			To: fmt.Sprintf("%s, subnets %s", d.region, joinList(cidrs))}
		s, err := r.step(sid, KindVPCCreate, change.Create, obj, body, c)
		if err != nil {
			return p, err
		}
		s.Creates = true
		p.Add(s)
		p.ID = change.After(sid, "id")
		return p, nil
	}
	v := found[0]
	p.ID = change.Known(v.ID)
	p.Observe(obj+" id", strconv.Itoa(v.ID))
	p.Observe(obj+" region", v.Region)
	if v.Region != d.region {
		return p, fmt.Errorf("cluster.region: VPC %q (%d) is in %s and cannot move to %s: %w", d.label, v.ID, v.Region, d.region, change.ErrConflict)
	}
	var dups []string
	for _, dup := range found[1:] {
		for _, s := range dup.Subnets {
			if reason := attached(s); reason != "" {
				return p, fmt.Errorf("find VPC %q: VPC %d has the label too and its subnet %q holds %s: %w",
					d.label, dup.ID, s.Label, reason, change.ErrConflict)
			}
		}
		dups = append(dups, strconv.Itoa(dup.ID))
	}
	p.Observe(obj+" duplicates", joinList(dups))
	for _, dup := range found[1:] {
		dobj := fmt.Sprintf("%s#%d", obj, dup.ID)
		s, err := r.step(fmt.Sprintf("%s#%d", sid, dup.ID), KindVPCDelete, change.Delete, dobj,
			vpcAction{VPCID: dup.ID, Label: d.label},
			change.Change{Layer: change.LayerLinode, Object: dobj, Op: change.Delete, From: fmt.Sprintf("duplicate of VPC %d", v.ID)})
		if err != nil {
			return p, err
		}
		p.Add(s)
	}
	if d.description != "" {
		p.Observe(obj+" description", v.Description)
		if v.Description != d.description {
			s, err := r.step(sid+"/update", KindVPCUpdate, change.Update, obj,
				vpcAction{VPCID: v.ID, Label: d.label, Update: &linodego.VPCUpdateOptions{Label: d.label, Description: d.description}},
				update(obj, "description", v.Description, d.description))
			if err != nil {
				return p, err
			}
			p.Add(s)
		}
	}

	// Subnets, by label: deletions first (they free ranges), then creations.
	live := map[string]linodego.VPCSubnet{}
	for _, s := range v.Subnets {
		live[s.Label] = s
		p.Observe(d.subnetObject(s.Label)+" ipv4", canonicalAddress(s.IPv4))
	}
	want := map[string]spec.Subnet{}
	for _, s := range d.subnets {
		want[s.Label] = s
	}
	p.Subnets = map[string]change.Int{}
	var deletes, creates []change.Step
	var kept []netip.Prefix // live ranges that stay
	var errs []error
	for _, s := range v.Subnets {
		w, wanted := want[s.Label]
		sameRange := wanted && canonicalAddress(s.IPv4) == w.IPv4
		if sameRange {
			kept = append(kept, prefixOf(s.IPv4))
			p.Subnets[s.Label] = change.Known(s.ID)
			continue
		}
		reason := attached(s)
		sobj := d.subnetObject(s.Label)
		p.Observe(sobj+" in use", inUse(reason))
		switch {
		case wanted && reason != "":
			errs = append(errs, fmt.Errorf("network.vpc.subnets[%s].ipv4: subnet %d of VPC %q holds %s and cannot move from %s to %s: %w",
				s.Label, s.ID, d.label, reason, s.IPv4, w.IPv4, change.ErrIrreversible))
			continue
		case reason != "":
			kept = append(kept, prefixOf(s.IPv4))
			p.Retained = append(p.Retained, change.Retained{Object: sobj,
				Reason: fmt.Sprintf("not in the spec, but %s holds %s; deleted once empty", s.IPv4, reason)})
			continue
		}
		c := change.Change{Layer: change.LayerLinode, Object: sobj, Op: change.Delete, From: s.IPv4}
		op := change.Delete
		if wanted {
			c = update(sobj, "ipv4", s.IPv4, w.IPv4+" (replaced: empty)")
			op = change.Replace
		}
		st, err := r.step(fmt.Sprintf("%s#%d", vpcSubnetStepID(d.env, s.Label), s.ID), KindVPCSubnetDelete, op, sobj,
			vpcAction{VPCID: v.ID, Label: d.label, SubnetID: s.ID, SubnetLabel: s.Label}, c)
		if err != nil {
			return p, err
		}
		deletes = append(deletes, st)
	}
	for _, w := range d.subnets {
		s, replaced := live[w.Label]
		if replaced && canonicalAddress(s.IPv4) == w.IPv4 {
			continue
		}
		pw := prefixOf(w.IPv4)
		for _, k := range kept {
			if k.Overlaps(pw) {
				errs = append(errs, fmt.Errorf("network.vpc.subnets[%s].ipv4: %s overlaps %s, a subnet of VPC %q that stays: %w",
					w.Label, w.IPv4, k, d.label, change.ErrConflict))
			}
		}
		sobj := d.subnetObject(w.Label)
		// A replacement's change is on its delete step, which the create
		// completes.
		var cs []change.Change
		op := change.Replace
		if !replaced {
			cs = []change.Change{{Layer: change.LayerLinode, Object: sobj, Op: change.Create, To: w.IPv4}}
			op = change.Create
		}
		stepID := vpcSubnetStepID(d.env, w.Label)
		st, err := r.step(stepID, KindVPCSubnetCreate, op, sobj,
			vpcAction{VPCID: v.ID, Label: d.label, Subnet: &linodego.VPCSubnetCreateOptions{Label: w.Label, IPv4: w.IPv4}}, cs...)
		if err != nil {
			return p, err
		}
		st.Creates = true
		creates = append(creates, st)
		p.Subnets[w.Label] = change.After(stepID, "id")
	}
	if err := errors.Join(errs...); err != nil {
		return p, err
	}
	p.Add(deletes...)
	p.Add(creates...)
	return p, nil
}

func prefixOf(s string) netip.Prefix {
	p, err := netip.ParsePrefix(canonicalAddress(s))
	if err != nil {
		return netip.Prefix{}
	}
	return p
}
