package network

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/linode/linodego"
	"go.uber.org/zap"

	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/spec"
)

// VPCAPI is the part of the Linode API EnsureVPC and PlanVPC call: exactly
// the linodego methods they use. The real *linodego.Client satisfies it; so
// does the client pkg/linodetest returns.
type VPCAPI interface {
	ListVPCs(ctx context.Context, opts *linodego.ListOptions) ([]linodego.VPC, error)
	CreateVPC(ctx context.Context, opts linodego.VPCCreateOptions) (*linodego.VPC, error)
	UpdateVPC(ctx context.Context, vpcID int, opts linodego.VPCUpdateOptions) (*linodego.VPC, error)
	DeleteVPC(ctx context.Context, vpcID int) error
	ListVPCSubnets(ctx context.Context, vpcID int, opts *linodego.ListOptions) ([]linodego.VPCSubnet, error)
	CreateVPCSubnet(ctx context.Context, opts linodego.VPCSubnetCreateOptions, vpcID int) (*linodego.VPCSubnet, error)
	DeleteVPCSubnet(ctx context.Context, vpcID int, subnetID int) error
}

var _ VPCAPI = (*linodego.Client)(nil)

// VPCResult is what EnsureVPC did or PlanVPC would do.
type VPCResult struct {
	change.Result
	// ID is the VPC's id; PlanVPC leaves it 0 when the VPC does not exist yet.
	ID int
	// Label is the VPC's label.
	Label string
	// Subnets maps the label of every subnet of the spec to its id, once
	// created (EnsureVPC) or when it exists (PlanVPC).
	Subnets map[string]int
	// Retained lists subnets the spec no longer has that were kept because
	// something is attached to them (LKE nodes, NodeBalancers, databases).
	// They are deleted by a later EnsureVPC once empty.
	Retained []RetainedSubnet
}

// RetainedSubnet is a subnet that should go but cannot yet.
type RetainedSubnet struct {
	// Label and IPv4 identify the subnet.
	Label, IPv4 string
	// ID is the subnet's id.
	ID int
	// Reason says what is attached, for example "3 Linodes".
	Reason string
}

// PlanVPC reads the environment's VPC and returns the changes EnsureVPC
// would make, without making any. An environment without network.vpc has
// nothing to plan.
func PlanVPC(ctx context.Context, api VPCAPI, env spec.Environment, opts ...Option) (VPCResult, error) {
	r, err := newVPCRun(api, env, opts)
	if err != nil || r == nil {
		return VPCResult{}, err
	}
	res := VPCResult{Label: r.d.label}
	obs, err := r.observe(ctx)
	if err != nil {
		return res, err
	}
	_, changes, err := r.plan(obs)
	res.Changes = changes
	r.fill(&res, obs)
	return res, err
}

// EnsureVPC makes the environment's VPC match network.vpc: found by label
// (default "platform-<name>") with an X-Filter and adopted, or created with
// its subnets in cluster.region. Subnets are matched by label: missing ones
// are added; those the spec no longer has are deleted when nothing is
// attached to them, and otherwise kept and reported in Retained (LKE nodes
// attached: report, don't delete). A subnet whose range changed is
// replaced when empty and is an error (change.ErrIrreversible) otherwise. A
// changed description is updated; an empty description in the spec leaves
// the VPC's alone. Every subnet of the VPC is taken to be the spec's: the
// VPC belongs to one environment.
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
	r, err := newVPCRun(api, env, opts)
	if err != nil || r == nil {
		return VPCResult{}, err
	}
	res := VPCResult{Label: r.d.label}
	var last *observedVPC
	changes, err := reconcile(ctx, r.o, r.log, func(ctx context.Context) ([]step, []change.Change, error) {
		obs, err := r.observe(ctx)
		if err != nil {
			return nil, nil, err
		}
		last = obs
		return r.plan(obs)
	})
	res.Changes = changes
	if err != nil {
		return res, err
	}
	// The last observation predates the last writes: read once more so the
	// ids returned are the ones that exist. Skipped when nothing was written.
	if res.Changed() {
		if last, err = r.observe(ctx); err != nil {
			return res, err
		}
	}
	r.fill(&res, last)
	return res, nil
}

type desiredVPC struct {
	label, description, region string
	subnets                    []spec.Subnet
}

func (d desiredVPC) object() string { return "vpc/" + d.label }

func (d desiredVPC) subnetObject(label string) string { return d.object() + "/subnet/" + label }

type vpcRun struct {
	api VPCAPI
	o   *options
	d   desiredVPC
	log *zap.Logger
}

// newVPCRun checks the spec; it returns nil, nil when the spec has no VPC.
func newVPCRun(api VPCAPI, env spec.Environment, opts []Option) (*vpcRun, error) {
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
	d := desiredVPC{label: v.Label, description: v.Description, region: env.Cluster.Region, subnets: slices.Clone(v.Subnets)}
	for i := range d.subnets {
		d.subnets[i].IPv4 = canonicalAddress(d.subnets[i].IPv4)
	}
	return &vpcRun{api: api, o: o, d: d, log: o.logger.With(zap.String("vpc", d.label))}, nil
}

type observedVPC struct {
	vpc        *linodego.VPC // nil when there is none
	subnets    []linodego.VPCSubnet
	duplicates []linodego.VPC
}

// observe finds the VPC by label and lists its subnets: two requests for an
// existing VPC, one for a missing one (plus one per duplicate).
func (r *vpcRun) observe(ctx context.Context) (*observedVPC, error) {
	lo, err := labelFilter(r.d.label)
	if err != nil {
		return nil, fmt.Errorf("list VPCs labelled %q: %w", r.d.label, err)
	}
	var all []linodego.VPC
	err = retry(ctx, r.o, r.log, "list VPCs", func(ctx context.Context) error {
		var err error
		all, err = r.api.ListVPCs(ctx, lo)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list VPCs labelled %q: %w", r.d.label, err)
	}
	var found []linodego.VPC
	for _, v := range all {
		if v.Label == r.d.label {
			found = append(found, v)
		}
	}
	if len(found) == 0 {
		return &observedVPC{}, nil
	}
	slices.SortFunc(found, func(a, b linodego.VPC) int { return a.ID - b.ID })
	obs := &observedVPC{vpc: &found[0]}
	if obs.subnets, err = r.listSubnets(ctx, obs.vpc.ID); err != nil {
		return nil, err
	}
	for _, dup := range found[1:] {
		subnets, err := r.listSubnets(ctx, dup.ID)
		if err != nil {
			return nil, err
		}
		for _, s := range subnets {
			if reason := attached(s); reason != "" {
				return nil, fmt.Errorf("find VPC %q: VPC %d has the label too and its subnet %q holds %s: %w",
					r.d.label, dup.ID, s.Label, reason, change.ErrConflict)
			}
		}
		obs.duplicates = append(obs.duplicates, dup)
	}
	return obs, nil
}

func (r *vpcRun) listSubnets(ctx context.Context, vpcID int) ([]linodego.VPCSubnet, error) {
	var subnets []linodego.VPCSubnet
	err := retry(ctx, r.o, r.log, "list VPC subnets", func(ctx context.Context) error {
		var err error
		subnets, err = r.api.ListVPCSubnets(ctx, vpcID, nil)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list subnets of VPC %q (%d): %w", r.d.label, vpcID, err)
	}
	return subnets, nil
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

// plan compares and returns the steps and their changes. Conflicts the API
// cannot resolve are errors returned before any step.
func (r *vpcRun) plan(obs *observedVPC) ([]step, []change.Change, error) {
	d := r.d
	obj := d.object()
	if obs.vpc == nil {
		cidrs := make([]string, len(d.subnets))
		for i, s := range d.subnets {
			cidrs[i] = s.Label + " " + s.IPv4
		}
		c := change.Change{Layer: change.LayerLinode, Object: obj, Op: change.Create,
			To: fmt.Sprintf("%s, subnets %s", d.region, joinList(cidrs))}
		return []step{{create: true, apply: r.createVPC}}, []change.Change{c}, nil
	}
	v := obs.vpc
	if v.Region != d.region {
		return nil, nil, fmt.Errorf("cluster.region: VPC %q (%d) is in %s and cannot move to %s: %w", d.label, v.ID, v.Region, d.region, change.ErrConflict)
	}
	var steps []step
	var all []change.Change
	for _, dup := range obs.duplicates {
		id := dup.ID
		c := change.Change{Layer: change.LayerLinode, Object: fmt.Sprintf("%s#%d", obj, id), Op: change.Delete,
			From: fmt.Sprintf("duplicate of VPC %d", v.ID)}
		steps = append(steps, step{apply: func(ctx context.Context) error {
			r.log.Info("deleting duplicate VPC", zap.Int("vpcID", id))
			if err := retryDelete(ctx, r.o, r.log, "delete VPC", func(ctx context.Context) error {
				return r.api.DeleteVPC(ctx, id)
			}); err != nil {
				return fmt.Errorf("delete duplicate VPC %q (%d): %w", d.label, id, err)
			}
			return nil
		}})
		all = append(all, c)
	}
	if d.description != "" && v.Description != d.description {
		c := update(obj, "description", v.Description, d.description)
		id := v.ID
		upd := linodego.VPCUpdateOptions{Label: d.label, Description: d.description}
		steps = append(steps, step{apply: func(ctx context.Context) error {
			r.log.Info("updating VPC description", zap.Int("vpcID", id))
			if err := retry(ctx, r.o, r.log, "update VPC", func(ctx context.Context) error {
				_, err := r.api.UpdateVPC(ctx, id, upd)
				return err
			}); err != nil {
				return fmt.Errorf("update VPC %q (%d): %w", d.label, id, err)
			}
			return nil
		}})
		all = append(all, c)
	}

	// Subnets, by label: deletions first (they free ranges), then creations.
	live := map[string]linodego.VPCSubnet{}
	for _, s := range obs.subnets {
		live[s.Label] = s
	}
	want := map[string]spec.Subnet{}
	for _, s := range d.subnets {
		want[s.Label] = s
	}
	var deletes, creates []step
	var kept []netip.Prefix // live ranges that stay
	var errs []error
	for _, s := range obs.subnets {
		w, wanted := want[s.Label]
		sameRange := wanted && canonicalAddress(s.IPv4) == w.IPv4
		reason := attached(s)
		switch {
		case sameRange:
			kept = append(kept, prefixOf(s.IPv4))
			continue
		case wanted && reason != "":
			errs = append(errs, fmt.Errorf("network.vpc.subnets[%s].ipv4: subnet %d of VPC %q holds %s and cannot move from %s to %s: %w",
				s.Label, s.ID, d.label, reason, s.IPv4, w.IPv4, change.ErrIrreversible))
			continue
		case reason != "":
			kept = append(kept, prefixOf(s.IPv4))
			all = append(all, change.Change{Layer: change.LayerLinode, Object: d.subnetObject(s.Label), Op: change.Unchanged,
				From: s.IPv4, To: "kept: not in the spec but holds " + reason})
			continue
		}
		c := change.Change{Layer: change.LayerLinode, Object: d.subnetObject(s.Label), Op: change.Delete, From: s.IPv4}
		if wanted {
			c = update(d.subnetObject(s.Label), "ipv4", s.IPv4, w.IPv4+" (replaced: empty)")
		}
		vpcID, subnetID, label := v.ID, s.ID, s.Label
		deletes = append(deletes, step{apply: func(ctx context.Context) error {
			r.log.Info("deleting VPC subnet", zap.String("subnet", label), zap.Int("subnetID", subnetID))
			if err := retryDelete(ctx, r.o, r.log, "delete VPC subnet", func(ctx context.Context) error {
				return r.api.DeleteVPCSubnet(ctx, vpcID, subnetID)
			}); err != nil {
				return fmt.Errorf("delete subnet %q of VPC %q: %w", label, d.label, err)
			}
			return nil
		}})
		all = append(all, c)
	}
	for _, w := range d.subnets {
		if s, ok := live[w.Label]; ok && canonicalAddress(s.IPv4) == w.IPv4 {
			continue
		}
		p := prefixOf(w.IPv4)
		for _, k := range kept {
			if k.Overlaps(p) {
				errs = append(errs, fmt.Errorf("network.vpc.subnets[%s].ipv4: %s overlaps %s, a subnet of VPC %q that stays: %w",
					w.Label, w.IPv4, k, d.label, change.ErrConflict))
			}
		}
		_, replaced := live[w.Label]
		if !replaced {
			all = append(all, change.Change{Layer: change.LayerLinode, Object: d.subnetObject(w.Label), Op: change.Create, To: w.IPv4})
		}
		vpcID, sub := v.ID, w
		creates = append(creates, step{create: true, apply: func(ctx context.Context) error {
			return r.createSubnet(ctx, vpcID, sub)
		}})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	steps = append(steps, deletes...)
	steps = append(steps, creates...)
	if len(all) == 0 || !slices.ContainsFunc(all, func(c change.Change) bool { return c.Op != change.Unchanged }) {
		all = append([]change.Change{{Layer: change.LayerLinode, Object: obj, Op: change.Unchanged}}, all...)
	}
	return steps, all, nil
}

func prefixOf(s string) netip.Prefix {
	p, err := netip.ParsePrefix(canonicalAddress(s))
	if err != nil {
		return netip.Prefix{}
	}
	return p
}

func (r *vpcRun) createVPC(ctx context.Context) error {
	d := r.d
	opts := linodego.VPCCreateOptions{Label: d.label, Description: d.description, Region: d.region}
	for _, s := range d.subnets {
		opts.Subnets = append(opts.Subnets, linodego.VPCSubnetCreateOptions{Label: s.Label, IPv4: s.IPv4})
	}
	r.log.Info("creating VPC", zap.String("region", d.region), zap.Int("subnets", len(opts.Subnets)))
	v, err := r.api.CreateVPC(ctx, opts)
	if err != nil {
		return fmt.Errorf("create VPC %q: %w", d.label, err)
	}
	r.log.Info("created VPC", zap.Int("vpcID", v.ID))
	return nil
}

func (r *vpcRun) createSubnet(ctx context.Context, vpcID int, s spec.Subnet) error {
	r.log.Info("creating VPC subnet", zap.String("subnet", s.Label), zap.String("ipv4", s.IPv4))
	sn, err := r.api.CreateVPCSubnet(ctx, linodego.VPCSubnetCreateOptions{Label: s.Label, IPv4: s.IPv4}, vpcID)
	if err != nil {
		return fmt.Errorf("create subnet %q of VPC %q: %w", s.Label, r.d.label, err)
	}
	r.log.Info("created VPC subnet", zap.String("subnet", s.Label), zap.Int("subnetID", sn.ID))
	return nil
}

// fill sets the ids and retained subnets of res from obs.
func (r *vpcRun) fill(res *VPCResult, obs *observedVPC) {
	if obs == nil || obs.vpc == nil {
		return
	}
	res.ID = obs.vpc.ID
	res.Subnets = map[string]int{}
	want := map[string]bool{}
	for _, s := range r.d.subnets {
		want[s.Label] = true
	}
	for _, s := range obs.subnets {
		if want[s.Label] {
			res.Subnets[s.Label] = s.ID
		} else if reason := attached(s); reason != "" {
			res.Retained = append(res.Retained, RetainedSubnet{Label: s.Label, IPv4: s.IPv4, ID: s.ID, Reason: reason})
		}
	}
}
