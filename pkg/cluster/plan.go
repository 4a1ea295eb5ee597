package cluster

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/linode/linodego"

	"github.com/org/platform/pkg/change"
)

// Placement is where a cluster's nodes go: the Cloud Firewall every node
// pool is attached to, and the VPC and subnet a new cluster's nodes are
// placed in. pkg/network makes both; in a plan for a new environment their
// ids are references to the steps that create them (change.After), shown as
// "(known after apply)" and resolved when the plan is applied. A zero field
// leaves that aspect alone: pools keep whatever firewall they have, and a
// new cluster is made outside any VPC.
//
// The VPC applies when the cluster is created: LKE cannot move a cluster
// between VPCs, and the cluster list does not show a cluster's VPC, so an
// existing cluster is not checked (that would cost a request on every run).
// Those fields are part of the v4beta API: the client must use v4beta.
type Placement struct {
	FirewallID change.Int `json:"firewallID"`
	VPCID      change.Int `json:"vpcID"`
	SubnetID   change.Int `json:"subnetID"`
}

func (p Placement) check() error {
	var errs []error
	for _, f := range []struct {
		name string
		v    change.Int
	}{{"FirewallID", p.FirewallID}, {"VPCID", p.VPCID}, {"SubnetID", p.SubnetID}} {
		if f.v.Ref == nil && f.v.Value < 0 {
			errs = append(errs, fmt.Errorf("placement %s: must be > 0 (got %d)", f.name, f.v.Value))
		}
	}
	if p.VPCID.IsZero() != p.SubnetID.IsZero() {
		errs = append(errs, errors.New("placement: VPCID and SubnetID go together"))
	}
	return errors.Join(errs...)
}

// Plan is what EnsureCluster would do to one environment's LKE cluster: a
// change.Plan (steps carrying their requests, and the base they were
// decided on) plus the cluster's id — known, or a reference to the step
// that creates it.
type Plan struct {
	change.Plan
	// ID is the cluster's id: known when it exists, else
	// change.After(ClusterStepID(env), "id").
	ID change.Int `json:"id"`
	// Label is the cluster's label.
	Label string `json:"label"`
}

// Step ids. Every step of a cluster plan is named under its environment, so
// the plans of several environments can be applied together.

// ClusterStepID is the id of the step that creates env's cluster; its
// output "id" is the new cluster's id.
func ClusterStepID(env string) string { return env + "/linode/lke/cluster" }

func (r *run) stepID(what string) string { return r.d.env + "/linode/lke/" + what }

// Step kinds, applied by ApplyStep.
const (
	kindCreateCluster = "lke.cluster.create"
	kindUpdateCluster = "lke.cluster.update"
	kindACL           = "lke.acl.update"
	kindCreatePool    = "lke.pool.create"
	kindUpdatePool    = "lke.pool.update"
	kindDeletePool    = "lke.pool.delete"
	kindReplacePool   = "lke.pool.replace"
	kindRetirePools   = "lke.pool.retire"
	kindUpgrade       = "lke.upgrade"
)

// Actions: what each kind of step sends, as stored in change.Step.Action.
type (
	createClusterAction struct {
		Options linodego.LKEClusterCreateOptions `json:"options"`
	}
	updateClusterAction struct {
		ClusterID int                              `json:"clusterID"`
		Label     string                           `json:"label"`
		Options   linodego.LKEClusterUpdateOptions `json:"options"`
	}
	aclAction struct {
		ClusterID int      `json:"clusterID"`
		Label     string   `json:"label"`
		IPv4      []string `json:"ipv4"`
		IPv6      []string `json:"ipv6"`
	}
	poolAction struct {
		ClusterID int    `json:"clusterID"`
		Label     string `json:"label"`
		Pool      string `json:"pool"`
		// PoolID is the pool updated or deleted.
		PoolID int `json:"poolID,omitempty"`
		// Create and Update are the request bodies of a create (or the
		// create half of a replace) and an update.
		Create *linodego.LKENodePoolCreateOptions `json:"create,omitempty"`
		Update *linodego.LKENodePoolUpdateOptions `json:"update,omitempty"`
		// Keep is the pool a retirement waits for; Old the pools a replace
		// or a retirement deletes once the new pool is ready.
		Keep int   `json:"keep,omitempty"`
		Old  []int `json:"old,omitempty"`
	}
	upgradeAction struct {
		ClusterID  int      `json:"clusterID"`
		Label      string   `json:"label"`
		Version    string   `json:"version"`
		SetVersion bool     `json:"setVersion"`
		Tags       []string `json:"tags"`
	}
)

// newStep builds a step of this cluster's plan; it cannot fail for the
// plain structs above.
func (r *run) newStep(id, kind string, op change.Op, object string, action any, changes ...change.Change) change.Step {
	s, err := change.NewStep(id, change.LayerLinode, kind, op, object, action, changes...)
	if err != nil {
		panic(err) // only plain data is marshalled
	}
	s.Env = r.d.env
	return s
}

// planFrom compares what the API holds with the spec and returns the plan
// that makes them equal, its steps in the order to apply them. It only
// reads obs. Changes the API cannot make (turning HA or the ACL off, moving
// region, downgrading) are errors, found before any step is returned.
func (r *run) planFrom(obs *observed) (Plan, error) {
	d := r.d
	p := Plan{Label: d.label}
	if obs.cluster == nil {
		p.Observe(d.object()+" exists", "false")
		p.ID = change.After(ClusterStepID(d.env), "id")
		p.Add(r.createClusterStep())
		return p, nil
	}
	c := obs.cluster
	p.ID = change.Known(c.ID)
	r.observeBase(&p.Plan, obs)
	if err := r.checkIrreversible(obs); err != nil {
		return p, err
	}

	// Cluster: tags and HA in one PUT.
	var cu linodego.LKEClusterUpdateOptions
	var cch []change.Change
	if have := tagSet(c.Tags, UpgradeTag); !slices.Equal(have, d.tags) {
		tags := slices.Clone(d.tags)
		if hasTag(c.Tags, UpgradeTag) {
			tags = append(tags, UpgradeTag) // keep an interrupted upgrade's marker
		}
		cu.Tags = &tags
		cch = append(cch, r.update(d.object(), "tags", joinList(have), joinList(d.tags)))
	}
	if d.ha && !c.ControlPlane.HighAvailability {
		ha := true
		cu.ControlPlane = &linodego.LKEClusterControlPlaneOptions{HighAvailability: &ha}
		cch = append(cch, r.update(d.object(), "high_availability", "false", "true"))
	}
	if len(cch) > 0 {
		p.Add(r.newStep(r.stepID("cluster-update"), kindUpdateCluster, change.Update, d.object(),
			updateClusterAction{ClusterID: c.ID, Label: d.label, Options: cu}, cch...))
	}

	if s, ok := r.aclStep(obs); ok {
		p.Add(s)
	}
	p.Add(r.poolSteps(obs)...)

	switch {
	case compareVersions(d.version, c.K8sVersion) > 0:
		p.Add(r.upgradeStep(c.ID, true, r.update(d.object(), "k8s_version", c.K8sVersion, d.version)))
	case hasTag(c.Tags, UpgradeTag):
		p.Add(r.upgradeStep(c.ID, false,
			r.update(d.object(), "nodes", "upgrade to "+c.K8sVersion+" interrupted", "every node replaced on "+d.version)))
	}
	return p, nil
}

// observeBase records in the plan's base what its decisions compare: the
// cluster's identity and settings, its ACL, and per owned pool its ids,
// type and the fields updated in place — never node status, instance ids,
// or the count of a pool whose autoscaler owns it.
func (r *run) observeBase(p *change.Plan, obs *observed) {
	d, c := r.d, obs.cluster
	obj := d.object()
	p.Observe(obj+" exists", "true")
	p.Observe(obj+" id", strconv.Itoa(c.ID))
	p.Observe(obj+" region", c.Region)
	p.Observe(obj+" tier", tierOrDefault(c.Tier))
	p.Observe(obj+" k8s_version", c.K8sVersion)
	p.Observe(obj+" tags", joinList(c.Tags))
	p.Observe(obj+" high_availability", strconv.FormatBool(c.ControlPlane.HighAvailability))
	p.Observe(obj+" control_plane_acl.enabled", strconv.FormatBool(obs.acl.Enabled))
	if a := obs.acl.Addresses; a != nil {
		p.Observe(obj+" control_plane_acl.addresses", joinList(slices.Concat(canonicalOrRaw(a.IPv4), canonicalOrRaw(a.IPv6))))
	} else {
		p.Observe(obj+" control_plane_acl.addresses", "")
	}
	for _, pl := range obs.pools {
		name, ours := poolName(pl.Tags)
		if !ours {
			continue
		}
		po := fmt.Sprintf("%s/pool/%s#%d", obj, name, pl.ID)
		p.Observe(po+" type", pl.Type)
		p.Observe(po+" autoscaler", describeAutoscaler(pl.Autoscaler))
		if dp, ok := d.pool(name); !ok || dp.autoscaler == nil {
			p.Observe(po+" count", strconv.Itoa(pl.Count))
		}
		p.Observe(po+" tags", joinList(pl.Tags))
		p.Observe(po+" labels", describeLabels(pl.Labels))
		taints := slices.Clone(pl.Taints)
		sortTaints(taints)
		p.Observe(po+" taints", describeTaints(taints))
		if !r.p.FirewallID.IsZero() {
			fw := ""
			if pl.FirewallID != nil {
				fw = strconv.Itoa(*pl.FirewallID)
			}
			p.Observe(po+" firewall_id", fw)
		}
	}
}

func (r *run) update(object, field, from, to string) change.Change {
	return change.Change{Layer: change.LayerLinode, Object: object, Field: field, From: from, To: to, Op: change.Update}
}

// checkIrreversible returns every change the spec asks for that the API
// cannot make, each naming its field from the YAML root.
func (r *run) checkIrreversible(obs *observed) error {
	d, c := r.d, obs.cluster
	var errs []error
	if c.Region != d.region {
		errs = append(errs, fmt.Errorf("cluster.region: LKE cluster %q is in %s and cannot move to %s: %w", d.label, c.Region, d.region, change.ErrConflict))
	}
	if have := tierOrDefault(c.Tier); have != d.tier {
		errs = append(errs, fmt.Errorf("cluster.tier: LKE cluster %q is %s and cannot become %s: %w", d.label, have, d.tier, change.ErrConflict))
	}
	if c.ControlPlane.HighAvailability && !d.ha {
		errs = append(errs, fmt.Errorf("cluster.highAvailability: cannot be turned off once on (LKE cluster %q): %w", d.label, change.ErrIrreversible))
	}
	if obs.acl.Enabled && !d.acl.enabled {
		errs = append(errs, fmt.Errorf("cluster.controlPlaneACL.enabled: cannot be turned off once on (LKE cluster %q): %w", d.label, change.ErrIrreversible))
	}
	if compareVersions(d.version, c.K8sVersion) < 0 {
		errs = append(errs, fmt.Errorf("cluster.kubernetesVersion: LKE cluster %q runs %s and cannot be downgraded to %s: %w", d.label, c.K8sVersion, d.version, change.ErrIrreversible))
	}
	return errors.Join(errs...)
}

// createClusterStep creates the cluster with every pool in one request.
// Ids still to be made by earlier steps (firewall, VPC, subnet) are left
// zero in the request and filled in when the step is applied.
func (r *run) createClusterStep() change.Step {
	d := r.d
	ha := d.ha
	opts := linodego.LKEClusterCreateOptions{
		Label:        d.label,
		Region:       d.region,
		K8sVersion:   d.version,
		Tags:         slices.Clone(d.tags),
		ControlPlane: &linodego.LKEClusterControlPlaneOptions{HighAvailability: &ha},
	}
	if d.tier != string(linodego.LKEVersionStandard) {
		opts.Tier = d.tier
	}
	if d.acl.enabled {
		v4, v6 := r.aclAddresses()
		on := true
		opts.ControlPlane.ACL = &linodego.LKEClusterControlPlaneACLOptions{
			Enabled:   &on,
			Addresses: &linodego.LKEClusterControlPlaneACLAddressesOptions{IPv4: &v4, IPv6: &v6},
		}
	}
	var fills []change.Fill
	desc := d.region + ", Kubernetes " + d.version
	if v := r.p; !v.VPCID.IsZero() {
		if v.VPCID.Ref != nil {
			fills = append(fills, change.Fill{Path: "/options/vpc_id", Ref: *v.VPCID.Ref})
		} else {
			id := v.VPCID.Value
			opts.VpcID = &id
		}
		if v.SubnetID.Ref != nil {
			fills = append(fills, change.Fill{Path: "/options/subnet_id", Ref: *v.SubnetID.Ref})
		} else {
			id := v.SubnetID.Value
			opts.SubnetID = &id
		}
		desc += fmt.Sprintf(", in VPC %s subnet %s", v.VPCID, v.SubnetID)
	}
	if d.ha {
		desc += ", HA control plane"
	}
	if d.acl.enabled {
		desc += ", control-plane ACL"
	}
	changes := []change.Change{{Layer: change.LayerLinode, Object: d.object(), To: desc, Op: change.Create}}
	for i, p := range d.pools {
		po, fill := r.poolCreateOptions(p)
		opts.NodePools = append(opts.NodePools, po)
		if fill != nil {
			fills = append(fills, change.Fill{Path: fmt.Sprintf("/options/node_pools/%d/firewall_id", i), Ref: *fill})
		}
		changes = append(changes, change.Change{Layer: change.LayerLinode, Object: d.poolObject(p.name), To: r.describeNewPool(p), Op: change.Create})
	}
	s := r.newStep(ClusterStepID(d.env), kindCreateCluster, change.Create, d.object(), createClusterAction{Options: opts}, changes...)
	s.Fills, s.Creates = fills, true
	return s
}

// poolCreateOptions returns the request that creates pool p and, when the
// pool's firewall is made by an earlier step, the reference to its id.
func (r *run) poolCreateOptions(p desiredPool) (linodego.LKENodePoolCreateOptions, *change.Ref) {
	o := linodego.LKENodePoolCreateOptions{
		Count:  p.count,
		Type:   p.typ,
		Disks:  []linodego.LKENodePoolDisk{},
		Tags:   slices.Clone(p.tags),
		Labels: linodego.LKENodePoolLabels(maps.Clone(p.labels)),
		Taints: append([]linodego.LKENodePoolTaint{}, p.taints...),
	}
	if p.autoscaler != nil {
		o.Autoscaler = &linodego.LKENodePoolAutoscaler{Enabled: true, Min: p.autoscaler.Min, Max: p.autoscaler.Max}
	}
	fw := r.p.FirewallID
	switch {
	case fw.Ref != nil:
		return o, fw.Ref
	case fw.Value > 0:
		id := fw.Value
		o.FirewallID = &id
	}
	return o, nil
}

// tempACLActive reports whether WithTemporaryACLAddress applies: the spec
// enables the ACL and does not already admit the address.
func (r *run) tempACLActive() bool {
	t := r.o.tempACL
	if t == nil || !r.d.acl.enabled {
		return false
	}
	for _, s := range slices.Concat(r.d.acl.ipv4, r.d.acl.ipv6) {
		if p, err := netip.ParsePrefix(s); err == nil && p.Bits() <= t.Bits() && p.Contains(t.Addr()) {
			return false
		}
	}
	return true
}

// aclAddresses returns the addresses to write: the spec's, plus the
// temporary address while it applies.
func (r *run) aclAddresses() (v4, v6 []string) {
	v4, v6 = slices.Clone(r.d.acl.ipv4), slices.Clone(r.d.acl.ipv6)
	if r.tempACLActive() {
		if r.o.tempACL.Addr().Is4() {
			v4 = withAddress(v4, *r.o.tempACL)
		} else {
			v6 = withAddress(v6, *r.o.tempACL)
		}
	}
	return v4, v6
}

// aclStep fixes ACL drift. The temporary address, when in use, is neither
// drift nor reported: it is added and removed around the apply.
func (r *run) aclStep(obs *observed) (change.Step, bool) {
	d := r.d
	if !d.acl.enabled {
		return change.Step{}, false // turning it off is refused by checkIrreversible
	}
	var haveV4, haveV6 []string
	if obs.acl.Addresses != nil {
		haveV4, haveV6 = canonicalOrRaw(obs.acl.Addresses.IPv4), canonicalOrRaw(obs.acl.Addresses.IPv6)
	}
	if r.tempACLActive() {
		t := r.o.tempACL.String()
		haveV4 = slices.DeleteFunc(haveV4, func(s string) bool { return s == t })
		haveV6 = slices.DeleteFunc(haveV6, func(s string) bool { return s == t })
	}
	var ch []change.Change
	if !obs.acl.Enabled {
		ch = append(ch, r.update(d.object(), "control_plane_acl", "disabled", "enabled"))
	}
	if !slices.Equal(haveV4, d.acl.ipv4) || !slices.Equal(haveV6, d.acl.ipv6) {
		ch = append(ch, r.update(d.object(), "control_plane_acl.addresses",
			joinList(slices.Concat(haveV4, haveV6)), joinList(slices.Concat(d.acl.ipv4, d.acl.ipv6))))
	}
	if len(ch) == 0 {
		return change.Step{}, false
	}
	v4, v6 := r.aclAddresses()
	return r.newStep(r.stepID("acl"), kindACL, change.Update, d.object(),
		aclAction{ClusterID: obs.cluster.ID, Label: d.label, IPv4: v4, IPv6: v6}, ch...), true
}

// poolSteps matches pools by their ownership tag and returns, in order:
// removal of duplicates, in-place updates, creations, type replacements,
// and removal of pools no longer in the spec.
func (r *run) poolSteps(obs *observed) []change.Step {
	d := r.d
	id := obs.cluster.ID
	owned := map[string][]linodego.LKENodePool{}
	for _, p := range obs.pools {
		if name, ok := poolName(p.Tags); ok {
			owned[name] = append(owned[name], p)
		}
	}
	var dups, updates, creates, replaces, removals []change.Step
	for _, dp := range d.pools {
		group := owned[dp.name]
		var matching, stale []linodego.LKENodePool
		for _, p := range group {
			if p.Type == dp.typ {
				matching = append(matching, p)
			} else {
				stale = append(stale, p)
			}
		}
		switch {
		case len(group) == 0:
			creates = append(creates, r.createPoolStep(id, dp))
		case len(matching) == 0:
			old := bestPool(stale)
			ch := r.update(d.poolObject(dp.name), "type", old.Type, dp.typ)
			replaces = append(replaces, r.replacePoolStep(id, dp, stale, ch))
		default:
			keep := bestPool(matching)
			for _, p := range matching {
				if p.ID != keep.ID {
					dups = append(dups, r.deletePoolStep(id, dp.name, p, fmt.Sprintf("duplicate of pool %d (id %d)", keep.ID, p.ID)))
				}
			}
			if len(stale) > 0 {
				replaces = append(replaces, r.retirePoolsStep(id, dp, keep.ID, stale))
			}
			if s, ok := r.updatePoolStep(id, keep, dp); ok {
				updates = append(updates, s)
			}
		}
	}
	names := slices.Sorted(maps.Keys(owned))
	for _, name := range names {
		if _, ok := d.pool(name); ok {
			continue
		}
		for _, p := range owned[name] {
			removals = append(removals, r.deletePoolStep(id, name, p, fmt.Sprintf("%s ×%d (id %d), not in the spec", p.Type, p.Count, p.ID)))
		}
	}
	return slices.Concat(dups, updates, creates, replaces, removals)
}

// bestPool picks the pool to keep among pools of one name and type: the
// one with the most ready nodes, then the oldest (lowest id).
func bestPool(pools []linodego.LKENodePool) linodego.LKENodePool {
	best := pools[0]
	for _, p := range pools[1:] {
		rp, rb := readyNodes(p), readyNodes(best)
		if rp > rb || (rp == rb && p.ID < best.ID) {
			best = p
		}
	}
	return best
}

func readyNodes(p linodego.LKENodePool) int {
	n := 0
	for _, nd := range p.Linodes {
		if nd.Status == linodego.LKELinodeReady {
			n++
		}
	}
	return n
}

// poolReady reports whether a pool has all its nodes and every one is ready.
func poolReady(p linodego.LKENodePool) bool {
	return len(p.Linodes) == p.Count && readyNodes(p) == p.Count
}

func (r *run) poolStepID(name string, poolID int) string {
	if poolID == 0 {
		return r.stepID("pool/" + name)
	}
	return r.stepID(fmt.Sprintf("pool/%s#%d", name, poolID))
}

func (r *run) createPoolStep(clusterID int, dp desiredPool) change.Step {
	opts, fill := r.poolCreateOptions(dp)
	ch := change.Change{Layer: change.LayerLinode, Object: r.d.poolObject(dp.name), To: r.describeNewPool(dp), Op: change.Create}
	s := r.newStep(r.poolStepID(dp.name, 0), kindCreatePool, change.Create, ch.Object,
		poolAction{ClusterID: clusterID, Label: r.d.label, Pool: dp.name, Create: &opts}, ch)
	if fill != nil {
		s.Fills = []change.Fill{{Path: "/create/firewall_id", Ref: *fill}}
	}
	s.Creates = true
	return s
}

func (r *run) deletePoolStep(clusterID int, name string, p linodego.LKENodePool, why string) change.Step {
	ch := change.Change{Layer: change.LayerLinode, Object: r.d.poolObject(name), From: why, Op: change.Delete}
	return r.newStep(r.poolStepID(name, p.ID)+"/delete", kindDeletePool, change.Delete, ch.Object,
		poolAction{ClusterID: clusterID, Label: r.d.label, Pool: name, PoolID: p.ID}, ch)
}

// replacePoolStep changes a pool's type without a capacity gap: it creates
// the pool anew, waits until every node of it is ready, then deletes the
// old pools.
func (r *run) replacePoolStep(clusterID int, dp desiredPool, old []linodego.LKENodePool, ch change.Change) change.Step {
	opts, fill := r.poolCreateOptions(dp)
	ch.Op = change.Replace
	var ids []int
	for _, p := range old {
		ids = append(ids, p.ID)
	}
	s := r.newStep(r.poolStepID(dp.name, 0)+"/replace", kindReplacePool, change.Replace, ch.Object,
		poolAction{ClusterID: clusterID, Label: r.d.label, Pool: dp.name, Create: &opts, Old: ids}, ch)
	if fill != nil {
		s.Fills = []change.Fill{{Path: "/create/firewall_id", Ref: *fill}}
	}
	s.Creates = true
	return s
}

// retirePoolsStep finishes a replacement whose new pool already exists.
func (r *run) retirePoolsStep(clusterID int, dp desiredPool, keepID int, stale []linodego.LKENodePool) change.Step {
	var ch []change.Change
	var ids []int
	for _, p := range stale {
		ids = append(ids, p.ID)
		ch = append(ch, change.Change{Layer: change.LayerLinode, Object: r.d.poolObject(dp.name), Op: change.Delete,
			From: fmt.Sprintf("%s ×%d (id %d), replaced by %s (id %d)", p.Type, p.Count, p.ID, dp.typ, keepID)})
	}
	return r.newStep(r.poolStepID(dp.name, keepID)+"/retire", kindRetirePools, change.Delete, r.d.poolObject(dp.name),
		poolAction{ClusterID: clusterID, Label: r.d.label, Pool: dp.name, Keep: keepID, Old: ids}, ch...)
}

// updatePoolStep compares one pool with the spec and returns the PUT that
// fixes every drifted field. With the autoscaler on, the count is the
// autoscaler's and is never written.
func (r *run) updatePoolStep(clusterID int, p linodego.LKENodePool, dp desiredPool) (change.Step, bool) {
	obj := r.d.poolObject(dp.name)
	var o linodego.LKENodePoolUpdateOptions
	var ch []change.Change

	if dp.autoscaler != nil {
		want := linodego.LKENodePoolAutoscaler{Enabled: true, Min: dp.autoscaler.Min, Max: dp.autoscaler.Max}
		if p.Autoscaler != want {
			o.Autoscaler = &want
			ch = append(ch, r.update(obj, "autoscaler", describeAutoscaler(p.Autoscaler), describeAutoscaler(want)))
		}
	} else {
		if p.Autoscaler.Enabled {
			off := linodego.LKENodePoolAutoscaler{Enabled: false, Min: dp.count, Max: dp.count}
			o.Autoscaler = &off
			ch = append(ch, r.update(obj, "autoscaler", describeAutoscaler(p.Autoscaler), describeAutoscaler(off)))
		}
		if p.Count != dp.count {
			o.Count = dp.count
			ch = append(ch, r.update(obj, "count", strconv.Itoa(p.Count), strconv.Itoa(dp.count)))
		}
	}
	if have := tagSet(p.Tags); !slices.Equal(have, dp.tags) {
		tags := slices.Clone(dp.tags)
		o.Tags = &tags
		ch = append(ch, r.update(obj, "tags", joinList(have), joinList(dp.tags)))
	}
	if !maps.Equal(map[string]string(p.Labels), dp.labels) && (len(p.Labels) != 0 || len(dp.labels) != 0) {
		labels := linodego.LKENodePoolLabels(maps.Clone(dp.labels))
		o.Labels = &labels
		ch = append(ch, r.update(obj, "labels", describeLabels(p.Labels), describeLabels(dp.labels)))
	}
	have := slices.Clone(p.Taints)
	sortTaints(have)
	if !slices.Equal(have, dp.taints) && (len(have) != 0 || len(dp.taints) != 0) {
		taints := append([]linodego.LKENodePoolTaint{}, dp.taints...)
		o.Taints = &taints
		ch = append(ch, r.update(obj, "taints", describeTaints(have), describeTaints(dp.taints)))
	}
	var fills []change.Fill
	if fw := r.p.FirewallID; !fw.IsZero() && (p.FirewallID == nil || fw.Ref != nil || *p.FirewallID != fw.Value) {
		from := ""
		if p.FirewallID != nil && *p.FirewallID != 0 {
			from = strconv.Itoa(*p.FirewallID)
		}
		if fw.Ref != nil {
			fills = append(fills, change.Fill{Path: "/update/firewall_id", Ref: *fw.Ref})
		} else {
			id := fw.Value
			o.FirewallID = &id
		}
		ch = append(ch, r.update(obj, "firewall_id", from, fw.String()))
	}
	if len(ch) == 0 {
		return change.Step{}, false
	}
	s := r.newStep(r.poolStepID(dp.name, p.ID), kindUpdatePool, change.Update, obj,
		poolAction{ClusterID: clusterID, Label: r.d.label, Pool: dp.name, PoolID: p.ID, Update: &o}, ch...)
	s.Fills = fills
	return s, true
}

// upgradeStep raises the cluster's Kubernetes version (when setVersion)
// and replaces every node, waiting until each has been replaced and is
// ready.
func (r *run) upgradeStep(clusterID int, setVersion bool, ch change.Change) change.Step {
	return r.newStep(r.stepID("upgrade"), kindUpgrade, change.Update, r.d.object(),
		upgradeAction{ClusterID: clusterID, Label: r.d.label, Version: r.d.version, SetVersion: setVersion, Tags: slices.Clone(r.d.tags)}, ch)
}

// describeNewPool describes a pool to create, with the firewall it is
// attached to when the placement names one.
func (r *run) describeNewPool(p desiredPool) string {
	s := describePool(p)
	if fw := r.p.FirewallID; !fw.IsZero() {
		s += ", firewall " + fw.String()
	}
	return s
}

func describePool(p desiredPool) string {
	s := fmt.Sprintf("%s ×%d", p.typ, p.count)
	if p.autoscaler != nil {
		s += fmt.Sprintf(", autoscaler %d–%d", p.autoscaler.Min, p.autoscaler.Max)
	}
	return s
}

func describeAutoscaler(a linodego.LKENodePoolAutoscaler) string {
	if !a.Enabled {
		return "off"
	}
	return fmt.Sprintf("%d–%d", a.Min, a.Max)
}

func describeLabels(m map[string]string) string {
	keys := slices.Sorted(maps.Keys(m))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, ", ")
}

func describeTaints(ts []linodego.LKENodePoolTaint) string {
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = t.Key + "=" + t.Value + ":" + string(t.Effect)
	}
	return strings.Join(parts, ", ")
}

func joinList(s []string) string {
	s = slices.Clone(s)
	sort.Strings(s)
	return strings.Join(s, ", ")
}
