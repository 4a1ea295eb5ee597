package cluster

import (
	"context"
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

// stepKind says how a failed step is handled by the reconcile loop.
type stepKind int

const (
	// stepWrite is made of reads and idempotent writes (PUT, DELETE), which
	// are retried in place.
	stepWrite stepKind = iota
	// stepCreate starts with a POST that creates something: it is never
	// retried blindly, the loop re-reads and re-plans instead.
	stepCreate
)

// step is one unit of work: the changes it makes and how.
type step struct {
	kind    stepKind
	changes []change.Change
	apply   func(ctx context.Context) error
}

// plan compares what the API holds with the spec and returns the steps
// that make them equal, in the order to apply them. It only reads obs.
// Changes the API cannot make (turning HA or the ACL off, moving region,
// downgrading) are errors, found before any step is returned.
func (r *run) plan(obs *observed) ([]step, error) {
	d := r.d
	if obs.cluster == nil {
		return []step{r.createClusterStep()}, nil
	}
	c := obs.cluster
	if err := r.checkIrreversible(obs); err != nil {
		return nil, err
	}
	var steps []step

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
		id := c.ID
		steps = append(steps, step{changes: cch, apply: func(ctx context.Context) error {
			return r.updateCluster(ctx, id, cu)
		}})
	}

	if s, ok := r.aclStep(obs); ok {
		steps = append(steps, s)
	}
	steps = append(steps, r.poolSteps(obs)...)

	switch {
	case compareVersions(d.version, c.K8sVersion) > 0:
		steps = append(steps, r.upgradeStep(c.ID, true, r.update(d.object(), "k8s_version", c.K8sVersion, d.version)))
	case hasTag(c.Tags, UpgradeTag):
		steps = append(steps, r.upgradeStep(c.ID, false,
			r.update(d.object(), "nodes", "upgrade to "+c.K8sVersion+" interrupted", "every node replaced on "+d.version)))
	}
	return steps, nil
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
func (r *run) createClusterStep() step {
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
	desc := d.region + ", Kubernetes " + d.version
	if v := r.o.vpc; v != nil {
		vpcID, subnetID := v.vpcID, v.subnetID
		opts.VpcID, opts.SubnetID = &vpcID, &subnetID
		desc += fmt.Sprintf(", in VPC %d subnet %d", vpcID, subnetID)
	}
	if d.ha {
		desc += ", HA control plane"
	}
	if d.acl.enabled {
		desc += ", control-plane ACL"
	}
	changes := []change.Change{{Layer: change.LayerLinode, Object: d.object(), To: desc, Op: change.Create}}
	for _, p := range d.pools {
		opts.NodePools = append(opts.NodePools, r.poolCreateOptions(p))
		changes = append(changes, change.Change{Layer: change.LayerLinode, Object: d.poolObject(p.name), To: describePool(p), Op: change.Create})
	}
	return step{kind: stepCreate, changes: changes, apply: func(ctx context.Context) error {
		return r.createCluster(ctx, opts)
	}}
}

func (r *run) poolCreateOptions(p desiredPool) linodego.LKENodePoolCreateOptions {
	o := linodego.LKENodePoolCreateOptions{
		Count:      p.count,
		Type:       p.typ,
		Disks:      []linodego.LKENodePoolDisk{},
		Tags:       slices.Clone(p.tags),
		Labels:     linodego.LKENodePoolLabels(maps.Clone(p.labels)),
		Taints:     append([]linodego.LKENodePoolTaint{}, p.taints...),
		FirewallID: r.o.firewallID,
	}
	if p.autoscaler != nil {
		o.Autoscaler = &linodego.LKENodePoolAutoscaler{Enabled: true, Min: p.autoscaler.Min, Max: p.autoscaler.Max}
	}
	return o
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
func (r *run) aclStep(obs *observed) (step, bool) {
	d := r.d
	if !d.acl.enabled {
		return step{}, false // turning it off is refused by checkIrreversible
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
		return step{}, false
	}
	id := obs.cluster.ID
	return step{changes: ch, apply: func(ctx context.Context) error {
		v4, v6 := r.aclAddresses()
		return r.putACL(ctx, id, v4, v6)
	}}, true
}

// poolSteps matches pools by their ownership tag and returns, in order:
// removal of duplicates, in-place updates, creations, type replacements,
// and removal of pools no longer in the spec.
func (r *run) poolSteps(obs *observed) []step {
	d := r.d
	id := obs.cluster.ID
	owned := map[string][]linodego.LKENodePool{}
	for _, p := range obs.pools {
		if name, ok := poolName(p.Tags); ok {
			owned[name] = append(owned[name], p)
		}
	}
	var dups, updates, creates, replaces, removals []step
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

func (r *run) createPoolStep(clusterID int, dp desiredPool) step {
	opts := r.poolCreateOptions(dp)
	ch := change.Change{Layer: change.LayerLinode, Object: r.d.poolObject(dp.name), To: describePool(dp), Op: change.Create}
	return step{kind: stepCreate, changes: []change.Change{ch}, apply: func(ctx context.Context) error {
		_, err := r.createPool(ctx, clusterID, opts)
		return err
	}}
}

func (r *run) deletePoolStep(clusterID int, name string, p linodego.LKENodePool, why string) step {
	ch := change.Change{Layer: change.LayerLinode, Object: r.d.poolObject(name), From: why, Op: change.Delete}
	poolID := p.ID
	return step{changes: []change.Change{ch}, apply: func(ctx context.Context) error {
		return r.deletePool(ctx, clusterID, poolID)
	}}
}

// replacePoolStep changes a pool's type without a capacity gap: it creates
// the pool anew, waits until every node of it is ready, then deletes the
// old pools.
func (r *run) replacePoolStep(clusterID int, dp desiredPool, old []linodego.LKENodePool, ch change.Change) step {
	opts := r.poolCreateOptions(dp)
	return step{kind: stepCreate, changes: []change.Change{ch}, apply: func(ctx context.Context) error {
		p, err := r.createPool(ctx, clusterID, opts)
		if err != nil {
			return err
		}
		return r.retire(ctx, clusterID, dp.name, p.ID, old)
	}}
}

// retirePoolsStep finishes a replacement whose new pool already exists.
func (r *run) retirePoolsStep(clusterID int, dp desiredPool, keepID int, stale []linodego.LKENodePool) step {
	var ch []change.Change
	for _, p := range stale {
		ch = append(ch, change.Change{Layer: change.LayerLinode, Object: r.d.poolObject(dp.name), Op: change.Delete,
			From: fmt.Sprintf("%s ×%d (id %d), replaced by %s (id %d)", p.Type, p.Count, p.ID, dp.typ, keepID)})
	}
	return step{changes: ch, apply: func(ctx context.Context) error {
		return r.retire(ctx, clusterID, dp.name, keepID, stale)
	}}
}

// updatePoolStep compares one pool with the spec and returns the PUT that
// fixes every drifted field. With the autoscaler on, the count is the
// autoscaler's and is never written.
func (r *run) updatePoolStep(clusterID int, p linodego.LKENodePool, dp desiredPool) (step, bool) {
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
	if fw := r.o.firewallID; fw != nil && (p.FirewallID == nil || *p.FirewallID != *fw) {
		o.FirewallID = fw
		from := ""
		if p.FirewallID != nil && *p.FirewallID != 0 {
			from = strconv.Itoa(*p.FirewallID)
		}
		ch = append(ch, r.update(obj, "firewall_id", from, strconv.Itoa(*fw)))
	}
	if len(ch) == 0 {
		return step{}, false
	}
	poolID := p.ID
	return step{changes: ch, apply: func(ctx context.Context) error {
		return r.updatePool(ctx, clusterID, poolID, o)
	}}, true
}

// upgradeStep raises the cluster's Kubernetes version (when setVersion)
// and replaces every node, waiting until each has been replaced and is
// ready.
func (r *run) upgradeStep(clusterID int, setVersion bool, ch change.Change) step {
	return step{changes: []change.Change{ch}, apply: func(ctx context.Context) error {
		return r.upgrade(ctx, clusterID, setVersion)
	}}
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
