package linodetest

import (
	"fmt"
	"regexp"
	"slices"
	"time"
)

// LKE node pools: rendering, validation and the pool handlers.

type nodeJSON struct {
	ID string `json:"id"`
	// InstanceID is null until the node's Linode exists.
	InstanceID *int   `json:"instance_id"`
	Status     string `json:"status"`
}

func renderNode(n *Node, now time.Time) nodeJSON {
	out := nodeJSON{ID: n.ID, Status: statusAt(now, n.ReadyAt)}
	if !now.Before(n.InstanceAt) {
		id := n.InstanceID
		out.InstanceID = &id
	}
	return out
}

// poolJSON is a node pool as every endpoint shows it: the list items carry
// what GET, POST and PUT return (linodego decodes both into one
// LKENodePool), firewall_id included. k8s_version and update_strategy are
// sent only for pools of LKE Enterprise clusters, as the API does.
type poolJSON struct {
	Autoscaler     PoolAutoscaler    `json:"autoscaler"`
	Count          int               `json:"count"`
	DiskEncryption string            `json:"disk_encryption"`
	Disks          []PoolDisk        `json:"disks"`
	FirewallID     *int              `json:"firewall_id"`
	ID             int               `json:"id"`
	K8sVersion     *string           `json:"k8s_version,omitempty"`
	Label          string            `json:"label"`
	Labels         map[string]string `json:"labels"`
	Locks          []string          `json:"locks"`
	Nodes          []nodeJSON        `json:"nodes"`
	Tags           []string          `json:"tags"`
	Taints         []PoolTaint       `json:"taints"`
	Type           string            `json:"type"`
	UpdateStrategy *string           `json:"update_strategy,omitempty"`
}

func renderPool(c *Cluster, p *NodePool, rc *reqCtx) poolJSON {
	nodes := make([]nodeJSON, len(p.Nodes))
	for i, n := range p.Nodes {
		nodes[i] = renderNode(n, rc.now)
	}
	labels := p.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	out := poolJSON{
		Autoscaler: p.Autoscaler, Count: p.Count, DiskEncryption: p.DiskEncryption, Disks: nonNil(p.Disks),
		FirewallID: intOrNull(p.FirewallID), ID: p.ID, Label: p.Label, Labels: labels, Locks: []string{},
		Nodes: nodes, Tags: nonNil(p.Tags), Taints: nonNil(p.Taints), Type: p.Type,
	}
	if c.Tier == "enterprise" {
		v, us := p.K8sVersion, p.UpdateStrategy
		if v == "" {
			v = c.K8sVersion
		}
		out.K8sVersion, out.UpdateStrategy = &v, &us
	}
	return out
}

// ---- validation ----

var (
	taintKeyRe   = regexp.MustCompile(`^([A-Za-z0-9][-A-Za-z0-9_.]*)?(/)?([A-Za-z0-9][-A-Za-z0-9_.]{0,62})$`)
	labelValueRe = regexp.MustCompile(`^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$`)
)

type poolReq struct {
	Count          *int              `json:"count"`
	Type           string            `json:"type"`
	Disks          []PoolDisk        `json:"disks"`
	Tags           []string          `json:"tags"`
	Labels         map[string]string `json:"labels"`
	Taints         []PoolTaint       `json:"taints"`
	Label          *string           `json:"label"`
	Autoscaler     *PoolAutoscaler   `json:"autoscaler"`
	FirewallID     *int              `json:"firewall_id"`
	K8sVersion     *string           `json:"k8s_version"`
	UpdateStrategy *string           `json:"update_strategy"`
	DiskEncryption *string           `json:"disk_encryption"`
}

// applyOptional sets the pool fields that a create or an update carries
// only when the request names them.
func (req *poolReq) applyOptional(p *NodePool) {
	if req.Label != nil {
		p.Label = *req.Label
	}
	if req.FirewallID != nil {
		p.FirewallID = *req.FirewallID
	}
	if req.K8sVersion != nil {
		p.K8sVersion = *req.K8sVersion
	}
	if req.UpdateStrategy != nil {
		p.UpdateStrategy = *req.UpdateStrategy
	}
}

func validatePoolFields(s *Server, prefix string, p *poolReq, create bool, tier string) []apiError {
	var errs []apiError
	if create {
		switch {
		case p.Type == "":
			errs = append(errs, fieldErr(prefix+"type", "type is required"))
		case s.catalogue().linodeType(p.Type) == nil:
			errs = append(errs, fieldErr(prefix+"type", fmt.Sprintf("%s is not a valid type", p.Type)))
		}
		if p.Count == nil {
			errs = append(errs, fieldErr(prefix+"count", "count is required"))
		}
	}
	if p.Count != nil && (*p.Count < 1 || *p.Count > 100) {
		errs = append(errs, fieldErr(prefix+"count", "count must be between 1 and 100"))
	}
	for i, d := range p.Disks {
		if d.Type != "raw" && d.Type != "ext4" {
			errs = append(errs, fieldErr(fmt.Sprintf("%sdisks[%d].type", prefix, i), "type must be raw or ext4"))
		}
		if d.Size < 1 {
			errs = append(errs, fieldErr(fmt.Sprintf("%sdisks[%d].size", prefix, i), "size must be a positive number of MB"))
		}
	}
	for i, t := range p.Taints {
		f := fmt.Sprintf("%staints[%d]", prefix, i)
		if t.Key == "" || len(t.Key) > 253 || !taintKeyRe.MatchString(t.Key) {
			errs = append(errs, fieldErr(f+".key", "key must be a valid Kubernetes taint key"))
		}
		if len(t.Value) > 63 || !labelValueRe.MatchString(t.Value) {
			errs = append(errs, fieldErr(f+".value", "value must be a valid Kubernetes taint value"))
		}
		switch t.Effect {
		case "NoSchedule", "PreferNoSchedule", "NoExecute":
		default:
			errs = append(errs, fieldErr(f+".effect", "effect must be one of NoSchedule, PreferNoSchedule, NoExecute"))
		}
	}
	for k, v := range p.Labels {
		if k == "" || len(k) > 253 || !taintKeyRe.MatchString(k) {
			errs = append(errs, fieldErr(prefix+"labels", fmt.Sprintf("%q is not a valid Kubernetes label key", k)))
		}
		if len(v) > 63 || !labelValueRe.MatchString(v) {
			errs = append(errs, fieldErr(prefix+"labels", fmt.Sprintf("%q is not a valid Kubernetes label value", v)))
		}
	}
	if a := p.Autoscaler; a != nil && a.Enabled {
		if a.Min < 1 || a.Max > 100 || a.Min > a.Max {
			errs = append(errs, fieldErr(prefix+"autoscaler", "autoscaler needs 1 ≤ min ≤ max ≤ 100"))
		}
	}
	if p.FirewallID != nil && *p.FirewallID != 0 && s.state.Firewalls[*p.FirewallID] == nil {
		errs = append(errs, fieldErr(prefix+"firewall_id", fmt.Sprintf("Firewall %d not found", *p.FirewallID)))
	}
	if p.UpdateStrategy != nil {
		switch *p.UpdateStrategy {
		case "rolling_update", "on_recycle":
		default:
			errs = append(errs, fieldErr(prefix+"update_strategy", "update_strategy must be rolling_update or on_recycle"))
		}
	}
	if p.DiskEncryption != nil && *p.DiskEncryption != "enabled" && *p.DiskEncryption != "disabled" {
		errs = append(errs, fieldErr(prefix+"disk_encryption", "disk_encryption must be enabled or disabled"))
	}
	if p.K8sVersion != nil && tier != "enterprise" {
		errs = append(errs, fieldErr(prefix+"k8s_version", "k8s_version is only supported on LKE Enterprise node pools"))
	} else if p.K8sVersion != nil && !s.catalogue().creatable(tier, *p.K8sVersion) {
		errs = append(errs, fieldErr(prefix+"k8s_version", "k8s_version is not valid"))
	}
	if p.Label != nil && len(*p.Label) > 32 {
		errs = append(errs, fieldErr(prefix+"label", "Length must be 32 characters or fewer"))
	}
	return errs
}

// newPool builds a pool from a validated request.
func (s *Server) newPool(c *Cluster, req *poolReq, rc *reqCtx) *NodePool {
	p := &NodePool{
		ID: s.state.nextID(&s.state.ids.pool), Type: req.Type, Disks: req.Disks, Tags: req.Tags,
		Labels: req.Labels, Taints: req.Taints, UpdateStrategy: "on_recycle", DiskEncryption: diskEncryptionDefault(s.catalogue(), c.Region),
	}
	req.applyOptional(p)
	if req.DiskEncryption != nil {
		p.DiskEncryption = *req.DiskEncryption
	}
	n := *req.Count
	p.Autoscaler = PoolAutoscaler{Min: n, Max: n}
	if req.Autoscaler != nil {
		p.Autoscaler = *req.Autoscaler
		if !p.Autoscaler.Enabled && p.Autoscaler.Min == 0 && p.Autoscaler.Max == 0 {
			p.Autoscaler.Min, p.Autoscaler.Max = n, n
		}
	}
	c.Pools = append(c.Pools, p)
	s.resizePool(c, p, n, rc.now)
	return p
}

func listPools(s *Server, rc *reqCtx, c *Cluster) response {
	items := make([]any, 0, len(c.Pools))
	for _, p := range c.Pools {
		items = append(items, renderPool(c, p, rc))
	}
	return listOf(items)
}

func createPool(s *Server, rc *reqCtx, c *Cluster) response {
	var req poolReq
	if bad, ok := rc.decode(&req); !ok {
		return bad
	}
	if errs := validatePoolFields(s, "", &req, true, c.Tier); len(errs) > 0 {
		return badRequest(errs...)
	}
	p := s.newPool(c, &req, rc)
	c.Updated = rc.now
	s.state.addEvent(rc.now, "lke_pool_create", "lkecluster", c.ID, c.Label, clusterURL(c.ID), fmt.Sprintf("pool %d created", p.ID))
	return okMutated(renderPool(c, p, rc))
}

func getPool(s *Server, rc *reqCtx, c *Cluster, p *NodePool) response {
	return ok(renderPool(c, p, rc))
}

func updatePool(s *Server, rc *reqCtx, c *Cluster, p *NodePool) response {
	var req poolReq
	if bad, ok := rc.decode(&req); !ok {
		return bad
	}
	if req.Type != "" && req.Type != p.Type {
		return badRequest(fieldErr("type", "type cannot be changed"))
	}
	if errs := validatePoolFields(s, "", &req, false, c.Tier); len(errs) > 0 {
		return badRequest(errs...)
	}
	if req.Tags != nil {
		p.Tags = req.Tags
	}
	if req.Labels != nil {
		p.Labels = req.Labels
	}
	if req.Taints != nil {
		p.Taints = req.Taints
	}
	req.applyOptional(p)
	if req.Autoscaler != nil {
		p.Autoscaler = *req.Autoscaler
	}
	if req.Count != nil && *req.Count != len(p.Nodes) {
		s.resizePool(c, p, *req.Count, rc.now)
	}
	if req.Count != nil {
		p.Count = *req.Count
	}
	c.Updated = rc.now
	return okMutated(renderPool(c, p, rc))
}

func deletePool(s *Server, rc *reqCtx, c *Cluster, p *NodePool) response {
	c.Pools = slices.DeleteFunc(c.Pools, func(q *NodePool) bool { return q.ID == p.ID })
	s.pruneDevices()
	c.Updated = rc.now
	s.state.addEvent(rc.now, "lke_pool_delete", "lkecluster", c.ID, c.Label, clusterURL(c.ID), fmt.Sprintf("pool %d deleted", p.ID))
	return deleted()
}

func recyclePool(s *Server, rc *reqCtx, c *Cluster, p *NodePool) response {
	refs := make([]NodeRef, 0, len(p.Nodes))
	for _, n := range p.Nodes {
		refs = append(refs, NodeRef{PoolID: p.ID, NodeID: n.ID})
	}
	s.state.addEvent(rc.now, "lke_pool_recycle", "lkecluster", c.ID, c.Label, clusterURL(c.ID), fmt.Sprintf("pool %d recycled", p.ID))
	s.queueRecycle(c, refs, rc.now)
	return okMutated(emptyObject())
}

// diskEncryptionDefault is a new pool's disk_encryption when the request
// names none: the region's default, "enabled" where the region offers
// Linode Disk Encryption, else "disabled".
func diskEncryptionDefault(cat *Catalogue, regionID string) string {
	const lde, ldeLA = "Disk Encryption", "LA Disk Encryption"
	if r := cat.region(regionID); r != nil && (r.has(lde) || r.has(ldeLA)) {
		return "enabled"
	}
	return "disabled"
}
