package linodetest

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

func lkeRoutes() []*route {
	return []*route{
		{method: "GET", pattern: "/lke/clusters", list: true, filterable: []string{"k8s_version", "label", "region", "tags"}, h: listClusters},
		{method: "POST", pattern: "/lke/clusters", h: createCluster},
		{method: "GET", pattern: "/lke/clusters/{clusterId}", h: withCluster(getCluster)},
		{method: "PUT", pattern: "/lke/clusters/{clusterId}", h: withCluster(updateCluster)},
		{method: "DELETE", pattern: "/lke/clusters/{clusterId}", h: withCluster(deleteCluster)},
		{method: "GET", pattern: "/lke/clusters/{clusterId}/kubeconfig", h: withCluster(getKubeconfig)},
		{method: "DELETE", pattern: "/lke/clusters/{clusterId}/kubeconfig", h: withCluster(deleteKubeconfig)},
		{method: "GET", pattern: "/lke/clusters/{clusterId}/api-endpoints", list: true, h: withCluster(listAPIEndpoints)},
		{method: "GET", pattern: "/lke/clusters/{clusterId}/control_plane_acl", h: withCluster(getACL)},
		{method: "PUT", pattern: "/lke/clusters/{clusterId}/control_plane_acl", h: withCluster(updateACL)},
		{method: "DELETE", pattern: "/lke/clusters/{clusterId}/control_plane_acl", h: withCluster(deleteACL)},
		{method: "GET", pattern: "/lke/clusters/{clusterId}/dashboard", h: withCluster(getDashboard)},
		{method: "POST", pattern: "/lke/clusters/{clusterId}/recycle", h: withCluster(recycleCluster)},
		{method: "POST", pattern: "/lke/clusters/{clusterId}/regenerate", h: withCluster(regenerateCluster)},
		{method: "DELETE", pattern: "/lke/clusters/{clusterId}/servicetoken", h: withCluster(deleteServiceToken)},
		{method: "GET", pattern: "/lke/clusters/{clusterId}/pools", list: true, filterable: []string{"id", "tags"}, h: withCluster(listPools)},
		{method: "POST", pattern: "/lke/clusters/{clusterId}/pools", h: withCluster(createPool)},
		{method: "GET", pattern: "/lke/clusters/{clusterId}/pools/{poolId}", h: withPool(getPool)},
		{method: "PUT", pattern: "/lke/clusters/{clusterId}/pools/{poolId}", h: withPool(updatePool)},
		{method: "DELETE", pattern: "/lke/clusters/{clusterId}/pools/{poolId}", h: withPool(deletePool)},
		{method: "POST", pattern: "/lke/clusters/{clusterId}/pools/{poolId}/recycle", h: withPool(recyclePool)},
		{method: "GET", pattern: "/lke/clusters/{clusterId}/nodes/{nodeId}", h: withNode(getNode)},
		{method: "DELETE", pattern: "/lke/clusters/{clusterId}/nodes/{nodeId}", h: withNode(deleteNode)},
		{method: "POST", pattern: "/lke/clusters/{clusterId}/nodes/{nodeId}/recycle", h: withNode(recycleNode)},
		{method: "GET", pattern: "/lke/versions", list: true, h: listLKEVersions},
		{method: "GET", pattern: "/lke/versions/{version}", h: getLKEVersion},
		// The tier endpoints are newer than the OpenAPI description (4.189).
		{method: "GET", pattern: "/lke/tiers/{tier}/versions", list: true, offSpec: true, h: listTierVersions},
		{method: "GET", pattern: "/lke/tiers/{tier}/versions/{version}", offSpec: true, h: getTierVersion},
		{method: "GET", pattern: "/lke/types", list: true, h: listLKETypes},
	}
}

// ---- rendering ----

type controlPlaneJSON struct {
	HighAvailability bool `json:"high_availability"`
}

// clusterItem is a cluster as lists show it.
type clusterItem struct {
	APLEnabled   bool             `json:"apl_enabled"`
	ControlPlane controlPlaneJSON `json:"control_plane"`
	Created      apiTime          `json:"created"`
	ID           int              `json:"id"`
	K8sVersion   string           `json:"k8s_version"`
	Label        string           `json:"label"`
	Region       string           `json:"region"`
	Status       string           `json:"status"`
	Tags         []string         `json:"tags"`
	Tier         string           `json:"tier"`
	Updated      apiTime          `json:"updated"`
}

// clusterFull is a cluster as GET, POST and PUT return it.
type clusterFull struct {
	clusterItem
	StackType string `json:"stack_type"`
	SubnetID  *int   `json:"subnet_id"`
	VPCID     *int   `json:"vpc_id"`
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func intOrNull(v int) *int {
	if v == 0 {
		return nil
	}
	return &v
}

func renderClusterItem(c *Cluster, rc *reqCtx) clusterItem {
	return clusterItem{
		APLEnabled: c.APLEnabled, ControlPlane: controlPlaneJSON{HighAvailability: c.HighAvailability},
		Created: apiTime(c.Created), ID: c.ID, K8sVersion: c.K8sVersion, Label: c.Label, Region: c.Region,
		Status: statusAt(rc.now, c.ReadyAt), Tags: nonNil(c.Tags), Tier: c.Tier, Updated: apiTime(c.Updated),
	}
}

func renderCluster(c *Cluster, rc *reqCtx) clusterFull {
	return clusterFull{clusterItem: renderClusterItem(c, rc), StackType: c.StackType, SubnetID: intOrNull(c.SubnetID), VPCID: intOrNull(c.VPCID)}
}

type nodeJSON struct {
	ID         string `json:"id"`
	InstanceID int    `json:"instance_id"`
	Status     string `json:"status"`
}

type poolItem struct {
	Autoscaler     PoolAutoscaler    `json:"autoscaler"`
	Count          int               `json:"count"`
	DiskEncryption string            `json:"disk_encryption"`
	Disks          []PoolDisk        `json:"disks"`
	ID             int               `json:"id"`
	Label          *string           `json:"label"`
	Labels         map[string]string `json:"labels"`
	Locks          []string          `json:"locks"`
	Nodes          []nodeJSON        `json:"nodes"`
	Tags           []string          `json:"tags"`
	Taints         []PoolTaint       `json:"taints"`
	Type           string            `json:"type"`
}

type poolFull struct {
	poolItem
	FirewallID     *int   `json:"firewall_id"`
	K8sVersion     string `json:"k8s_version"`
	UpdateStrategy string `json:"update_strategy"`
}

func renderPoolItem(c *Cluster, p *NodePool, rc *reqCtx) poolItem {
	nodes := make([]nodeJSON, len(p.Nodes))
	for i, n := range p.Nodes {
		nodes[i] = nodeJSON{ID: n.ID, InstanceID: n.InstanceID, Status: statusAt(rc.now, n.ReadyAt)}
	}
	labels := p.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	var label *string
	if p.Label != "" {
		l := p.Label
		label = &l
	}
	return poolItem{
		Autoscaler: p.Autoscaler, Count: p.Count, DiskEncryption: p.DiskEncryption, Disks: nonNil(p.Disks),
		ID: p.ID, Label: label, Labels: labels, Locks: []string{}, Nodes: nodes, Tags: nonNil(p.Tags),
		Taints: nonNil(p.Taints), Type: p.Type,
	}
}

func renderPool(c *Cluster, p *NodePool, rc *reqCtx) poolFull {
	v := p.K8sVersion
	if v == "" {
		v = c.K8sVersion
	}
	return poolFull{poolItem: renderPoolItem(c, p, rc), FirewallID: intOrNull(p.FirewallID), K8sVersion: v, UpdateStrategy: p.UpdateStrategy}
}

// ---- lookups ----

type clusterHandler func(s *Server, rc *reqCtx, c *Cluster) response

func withCluster(h clusterHandler) handlerFunc {
	return withID("clusterId", func(st *State) map[int]*Cluster { return st.Clusters }, h)
}

func withPool(h func(s *Server, rc *reqCtx, c *Cluster, p *NodePool) response) handlerFunc {
	return withCluster(func(s *Server, rc *reqCtx, c *Cluster) response {
		id, ok := rc.intParam("poolId")
		if !ok {
			return notFound()
		}
		p := c.pool(id)
		if p == nil {
			return notFound()
		}
		return h(s, rc, c, p)
	})
}

func withNode(h func(s *Server, rc *reqCtx, c *Cluster, p *NodePool, i int) response) handlerFunc {
	return withCluster(func(s *Server, rc *reqCtx, c *Cluster) response {
		p, i := c.node(rc.params["nodeId"])
		if p == nil {
			return notFound()
		}
		return h(s, rc, c, p, i)
	})
}

func sortedClusters(st *State) []*Cluster {
	out := make([]*Cluster, 0, len(st.Clusters))
	for _, c := range st.Clusters {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
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
		case findType(p.Type) == nil:
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
	} else if p.K8sVersion != nil && !slices.Contains(tierVersions(tier), *p.K8sVersion) {
		errs = append(errs, fieldErr(prefix+"k8s_version", fmt.Sprintf("%s is not a valid version", *p.K8sVersion)))
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
		Labels: req.Labels, Taints: req.Taints, UpdateStrategy: "on_recycle", DiskEncryption: "disabled",
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

// minorOf returns the minor version of "1.33" or "v1.33.4+lke1".
func minorOf(v string) (int, bool) {
	parts := strings.Split(strings.TrimPrefix(v, "v"), ".")
	if len(parts) < 2 || parts[0] != "1" {
		return 0, false
	}
	n, err := strconv.Atoi(parts[1])
	return n, err == nil
}

func (s *Server) labelTaken(label string, except int) bool {
	for _, c := range s.state.Clusters {
		if c.ID != except && c.Label == label {
			return true
		}
	}
	return false
}

func checkClusterLabel(label string) *apiError {
	switch {
	case label == "":
		e := fieldErr("label", "label is required")
		return &e
	case len(label) > 32:
		e := fieldErr("label", "Length must be 1-32 characters")
		return &e
	}
	return nil
}

// ---- handlers: clusters ----

func listClusters(s *Server, rc *reqCtx) response {
	var items []any
	for _, c := range sortedClusters(s.state) {
		items = append(items, renderClusterItem(c, rc))
	}
	return listOf(nonNil(items))
}

type aclAddressesReq struct {
	IPv4 *[]string `json:"ipv4"`
	IPv6 *[]string `json:"ipv6"`
}

type aclReq struct {
	Enabled    *bool            `json:"enabled"`
	Addresses  *aclAddressesReq `json:"addresses"`
	RevisionID string           `json:"revision-id"`
}

// applyControlPlane sets the control-plane fields a create or an update
// names; nil names none.
func (s *Server) applyControlPlane(c *Cluster, cp *controlPlaneReq) {
	if cp == nil {
		return
	}
	if cp.HighAvailability != nil {
		c.HighAvailability = *cp.HighAvailability
	}
	if cp.AuditLogsEnabled != nil {
		c.AuditLogsEnabled = *cp.AuditLogsEnabled
	}
	if cp.ACL != nil {
		s.applyACL(c, cp.ACL)
	}
}

type controlPlaneReq struct {
	HighAvailability *bool   `json:"high_availability"`
	ACL              *aclReq `json:"acl"`
	AuditLogsEnabled *bool   `json:"audit_logs_enabled"`
}

type clusterCreateReq struct {
	Label        string           `json:"label"`
	Region       string           `json:"region"`
	K8sVersion   string           `json:"k8s_version"`
	NodePools    []poolReq        `json:"node_pools"`
	Tags         []string         `json:"tags"`
	ControlPlane *controlPlaneReq `json:"control_plane"`
	Tier         string           `json:"tier"`
	APLEnabled   bool             `json:"apl_enabled"`
	SubnetID     *int             `json:"subnet_id"`
	VPCID        *int             `json:"vpc_id"`
	StackType    *string          `json:"stack_type"`
}

func validateACL(prefix string, a *aclReq) []apiError {
	var errs []apiError
	if a.Addresses == nil {
		return nil
	}
	check := func(field string, list *[]string, v6 bool) {
		if list == nil {
			return
		}
		for i, addr := range *list {
			if !validIPOrCIDR(addr, v6) {
				errs = append(errs, fieldErr(fmt.Sprintf("%s.addresses.%s[%d]", prefix, field, i), fmt.Sprintf("%q is not a valid address", addr)))
			}
		}
	}
	check("ipv4", a.Addresses.IPv4, false)
	check("ipv6", a.Addresses.IPv6, true)
	return errs
}

func (s *Server) applyACL(c *Cluster, a *aclReq) {
	enabled := true
	if a.Enabled != nil {
		enabled = *a.Enabled
	}
	c.ACL.Enabled = enabled
	if a.Addresses != nil {
		if a.Addresses.IPv4 != nil {
			c.ACL.IPv4 = slices.Clone(*a.Addresses.IPv4)
		}
		if a.Addresses.IPv6 != nil {
			c.ACL.IPv6 = slices.Clone(*a.Addresses.IPv6)
		}
	}
	c.ACL.RevisionID = a.RevisionID
	if c.ACL.RevisionID == "" {
		c.ACL.RevisionID = s.hex(12)
	}
}

func (s *Server) hex(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[s.rng.IntN(16)]
	}
	return string(b)
}

func createCluster(s *Server, rc *reqCtx) response {
	var req clusterCreateReq
	if bad, ok := rc.decode(&req); !ok {
		return bad
	}
	var errs []apiError
	if e := checkClusterLabel(req.Label); e != nil {
		errs = append(errs, *e)
	} else if s.labelTaken(req.Label, 0) {
		errs = append(errs, fieldErr("label", "Label must be unique among your LKE clusters"))
	}
	tier := req.Tier
	if tier == "" {
		tier = "standard"
	}
	if tier != "standard" && tier != "enterprise" {
		errs = append(errs, fieldErr("tier", "tier must be standard or enterprise"))
	}
	reg := findRegion(req.Region)
	switch {
	case req.Region == "":
		errs = append(errs, fieldErr("region", "region is required"))
	case reg == nil:
		errs = append(errs, fieldErr("region", fmt.Sprintf("Region %s is not valid", req.Region)))
	case !reg.has(capLKE):
		errs = append(errs, fieldErr("region", fmt.Sprintf("Kubernetes is not available in %s", req.Region)))
	case tier == "enterprise" && !reg.has(capLKEEnterprise):
		errs = append(errs, fieldErr("region", fmt.Sprintf("LKE Enterprise is not available in %s", req.Region)))
	}
	switch {
	case req.K8sVersion == "":
		errs = append(errs, fieldErr("k8s_version", "k8s_version is required"))
	case !slices.Contains(tierVersions(tier), req.K8sVersion):
		errs = append(errs, fieldErr("k8s_version", fmt.Sprintf("%s is not a valid Kubernetes version", req.K8sVersion)))
	}
	if len(req.NodePools) == 0 {
		errs = append(errs, fieldErr("node_pools", "At least one node pool is required"))
	}
	for i := range req.NodePools {
		errs = append(errs, validatePoolFields(s, fmt.Sprintf("node_pools[%d].", i), &req.NodePools[i], true, tier)...)
	}
	if req.ControlPlane != nil && req.ControlPlane.ACL != nil {
		errs = append(errs, validateACL("control_plane.acl", req.ControlPlane.ACL)...)
	}
	if req.VPCID != nil && *req.VPCID != 0 {
		v := s.state.VPCs[*req.VPCID]
		switch {
		case v == nil:
			errs = append(errs, fieldErr("vpc_id", fmt.Sprintf("VPC %d not found", *req.VPCID)))
		case req.Region != "" && v.Region != req.Region:
			errs = append(errs, fieldErr("vpc_id", "VPC must be in the cluster's region"))
		case req.SubnetID != nil && *req.SubnetID != 0 && v.subnet(*req.SubnetID) == nil:
			errs = append(errs, fieldErr("subnet_id", fmt.Sprintf("Subnet %d not found in VPC %d", *req.SubnetID, *req.VPCID)))
		}
	}
	if req.StackType != nil && *req.StackType != "ipv4" && *req.StackType != "ipv4-ipv6" {
		errs = append(errs, fieldErr("stack_type", "stack_type must be ipv4 or ipv4-ipv6"))
	}
	if len(errs) > 0 {
		return badRequest(errs...)
	}
	c := &Cluster{
		ID: s.state.nextID(&s.state.ids.cluster), Label: req.Label, Region: req.Region, K8sVersion: req.K8sVersion,
		Tier: tier, Tags: req.Tags, APLEnabled: req.APLEnabled, StackType: "ipv4",
		Created: rc.now, Updated: rc.now, EndpointHex: s.hex(12), token: s.hex(64),
		ACL: ControlPlaneACL{IPv4: []string{}, IPv6: []string{}},
	}
	c.ReadyAt = rc.now.Add(clusterReadyDelay(s.cfg.seed, c.Label, tier))
	if req.StackType != nil {
		c.StackType = *req.StackType
	}
	if req.VPCID != nil {
		c.VPCID = *req.VPCID
	}
	if req.SubnetID != nil {
		c.SubnetID = *req.SubnetID
	}
	s.applyControlPlane(c, req.ControlPlane)
	if tier == "enterprise" {
		c.HighAvailability = true
	}
	s.state.Clusters[c.ID] = c
	s.state.addEvent(rc.now, "lke_cluster_create", "lkecluster", c.ID, c.Label, clusterURL(c.ID), "")
	for i := range req.NodePools {
		s.newPool(c, &req.NodePools[i], rc)
	}
	return okMutated(renderCluster(c, rc))
}

func getCluster(s *Server, rc *reqCtx, c *Cluster) response { return ok(renderCluster(c, rc)) }

type clusterUpdateReq struct {
	Label        *string          `json:"label"`
	K8sVersion   *string          `json:"k8s_version"`
	Tags         *[]string        `json:"tags"`
	ControlPlane *controlPlaneReq `json:"control_plane"`
}

func updateCluster(s *Server, rc *reqCtx, c *Cluster) response {
	var req clusterUpdateReq
	if bad, ok := rc.decode(&req); !ok {
		return bad
	}
	var errs []apiError
	if req.Label != nil {
		if e := checkClusterLabel(*req.Label); e != nil {
			errs = append(errs, *e)
		} else if s.labelTaken(*req.Label, c.ID) {
			errs = append(errs, fieldErr("label", "Label must be unique among your LKE clusters"))
		}
	}
	if req.K8sVersion != nil && *req.K8sVersion != c.K8sVersion {
		cur, _ := minorOf(c.K8sVersion)
		next, ok := minorOf(*req.K8sVersion)
		switch {
		case !ok || !slices.Contains(tierVersions(c.Tier), *req.K8sVersion):
			errs = append(errs, fieldErr("k8s_version", fmt.Sprintf("%s is not a valid Kubernetes version", *req.K8sVersion)))
		case next < cur:
			errs = append(errs, fieldErr("k8s_version", "Kubernetes versions cannot be downgraded"))
		case next > cur+1:
			errs = append(errs, fieldErr("k8s_version", "Kubernetes versions can only be upgraded one minor version at a time"))
		}
	}
	if cp := req.ControlPlane; cp != nil {
		if cp.HighAvailability != nil && !*cp.HighAvailability && c.HighAvailability {
			errs = append(errs, fieldErr("control_plane.high_availability", "High availability cannot be disabled once enabled"))
		}
		if cp.ACL != nil {
			errs = append(errs, validateACL("control_plane.acl", cp.ACL)...)
		}
	}
	if len(errs) > 0 {
		return badRequest(errs...)
	}
	if req.Label != nil {
		c.Label = *req.Label
	}
	if req.K8sVersion != nil {
		c.K8sVersion = *req.K8sVersion
	}
	if req.Tags != nil {
		c.Tags = slices.Clone(*req.Tags)
	}
	s.applyControlPlane(c, req.ControlPlane)
	c.Updated = rc.now
	s.state.addEvent(rc.now, "lke_cluster_update", "lkecluster", c.ID, c.Label, clusterURL(c.ID), "")
	return okMutated(renderCluster(c, rc))
}

func deleteCluster(s *Server, rc *reqCtx, c *Cluster) response {
	delete(s.state.Clusters, c.ID)
	s.pruneDevices()
	s.state.addEvent(rc.now, "lke_cluster_delete", "lkecluster", c.ID, c.Label, clusterURL(c.ID), "")
	return deleted()
}

type kubeconfigJSON struct {
	Kubeconfig string `json:"kubeconfig"`
}

func getKubeconfig(s *Server, rc *reqCtx, c *Cluster) response {
	if rc.now.Before(c.ReadyAt) || rc.now.Before(c.KubeconfigReadyAt) {
		resp := errResponse(http.StatusServiceUnavailable, apiError{Reason: kubeconfigReason})
		if c.Tier == "enterprise" {
			resp.header = map[string]string{"Retry-After": enterpriseRetry}
		}
		return resp
	}
	var raw []byte
	if src := s.cfg.kubeconfig; src != nil {
		b, err := src(c.ID)
		if err != nil {
			return errResponse(http.StatusInternalServerError, apiError{Reason: "kubeconfig source: " + err.Error()})
		}
		raw = b
	} else {
		raw = generatedKubeconfig(c)
	}
	return ok(kubeconfigJSON{Kubeconfig: base64.StdEncoding.EncodeToString(raw)})
}

func (s *Server) regenerateKubeconfig(c *Cluster, rc *reqCtx) {
	c.token = s.hex(64)
	c.KubeconfigReadyAt = rc.now.Add(kubeconfigRegen)
}

func deleteKubeconfig(s *Server, rc *reqCtx, c *Cluster) response {
	s.regenerateKubeconfig(c, rc)
	s.state.addEvent(rc.now, "lke_kubeconfig_regenerate", "lkecluster", c.ID, c.Label, clusterURL(c.ID), "")
	return deleted()
}

type endpointJSON struct {
	Endpoint string `json:"endpoint"`
}

func listAPIEndpoints(s *Server, rc *reqCtx, c *Cluster) response {
	host := apiHost(c)
	ip := fmt.Sprintf("192.0.2.%d", c.ID%250+1)
	return listOf([]any{
		endpointJSON{"https://" + host + ":443"},
		endpointJSON{"https://" + host + ":6443"},
		endpointJSON{"https://" + ip + ":443"},
		endpointJSON{"https://" + ip + ":6443"},
	})
}

type aclAddressesJSON struct {
	IPv4 []string `json:"ipv4"`
	IPv6 []string `json:"ipv6"`
}

type aclJSON struct {
	Enabled    bool             `json:"enabled"`
	Addresses  aclAddressesJSON `json:"addresses"`
	RevisionID string           `json:"revision-id"`
}

type aclEnvelope struct {
	ACL aclJSON `json:"acl"`
}

func renderACL(c *Cluster) aclEnvelope {
	return aclEnvelope{ACL: aclJSON{
		Enabled:    c.ACL.Enabled,
		Addresses:  aclAddressesJSON{IPv4: nonNil(c.ACL.IPv4), IPv6: nonNil(c.ACL.IPv6)},
		RevisionID: c.ACL.RevisionID,
	}}
}

func getACL(s *Server, rc *reqCtx, c *Cluster) response { return ok(renderACL(c)) }

func updateACL(s *Server, rc *reqCtx, c *Cluster) response {
	var req struct {
		ACL *aclReq `json:"acl"`
	}
	if bad, ok := rc.decode(&req); !ok {
		return bad
	}
	if req.ACL == nil {
		return badRequest(fieldErr("acl", "acl is required"))
	}
	if errs := validateACL("acl", req.ACL); len(errs) > 0 {
		return badRequest(errs...)
	}
	s.applyACL(c, req.ACL)
	c.Updated = rc.now
	s.state.addEvent(rc.now, "lke_control_plane_acl_update", "lkecluster", c.ID, c.Label, clusterURL(c.ID), "")
	return okMutated(renderACL(c))
}

func deleteACL(s *Server, rc *reqCtx, c *Cluster) response {
	c.ACL = ControlPlaneACL{IPv4: []string{}, IPv6: []string{}, RevisionID: s.hex(12)}
	c.Updated = rc.now
	s.state.addEvent(rc.now, "lke_control_plane_acl_delete", "lkecluster", c.ID, c.Label, clusterURL(c.ID), "")
	return deleted()
}

func getDashboard(s *Server, rc *reqCtx, c *Cluster) response {
	return ok(map[string]string{"url": fmt.Sprintf("https://%d-%s.dashboard.%s.linodelke.net", c.ID, c.EndpointHex, c.Region)})
}

func allNodes(c *Cluster) []NodeRef {
	var refs []NodeRef
	for _, p := range c.Pools {
		for _, n := range p.Nodes {
			refs = append(refs, NodeRef{PoolID: p.ID, NodeID: n.ID})
		}
	}
	return refs
}

func recycleCluster(s *Server, rc *reqCtx, c *Cluster) response {
	s.state.addEvent(rc.now, "lke_cluster_recycle", "lkecluster", c.ID, c.Label, clusterURL(c.ID), "")
	s.queueRecycle(c, allNodes(c), rc.now)
	return okMutated(emptyObject())
}

func regenerateCluster(s *Server, rc *reqCtx, c *Cluster) response {
	var req struct {
		Kubeconfig   bool `json:"kubeconfig"`
		ServiceToken bool `json:"servicetoken"`
	}
	if bad, ok := rc.decode(&req); !ok {
		return bad
	}
	if req.Kubeconfig {
		s.regenerateKubeconfig(c, rc)
	}
	s.state.addEvent(rc.now, "lke_cluster_regenerate", "lkecluster", c.ID, c.Label, clusterURL(c.ID), "")
	return okMutated(emptyObject())
}

func deleteServiceToken(s *Server, rc *reqCtx, c *Cluster) response {
	s.state.addEvent(rc.now, "lke_token_rotate", "lkecluster", c.ID, c.Label, clusterURL(c.ID), "")
	return deleted()
}

// ---- handlers: pools and nodes ----

func listPools(s *Server, rc *reqCtx, c *Cluster) response {
	items := make([]any, 0, len(c.Pools))
	for _, p := range c.Pools {
		items = append(items, renderPoolItem(c, p, rc))
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

func getNode(s *Server, rc *reqCtx, c *Cluster, p *NodePool, i int) response {
	n := p.Nodes[i]
	return ok(nodeJSON{ID: n.ID, InstanceID: n.InstanceID, Status: statusAt(rc.now, n.ReadyAt)})
}

func deleteNode(s *Server, rc *reqCtx, c *Cluster, p *NodePool, i int) response {
	if len(p.Nodes) == 1 {
		return badRequest(apiError{Reason: "Cannot delete the last node of a node pool; delete the pool instead"})
	}
	n := p.Nodes[i]
	p.Nodes = slices.Delete(p.Nodes, i, i+1)
	p.Count = len(p.Nodes)
	s.pruneDevices()
	c.Updated = rc.now
	s.state.addEvent(rc.now, "lke_node_delete", "lkecluster", c.ID, c.Label, clusterURL(c.ID), fmt.Sprintf("node %s deleted", n.ID))
	return deleted()
}

func recycleNode(s *Server, rc *reqCtx, c *Cluster, p *NodePool, i int) response {
	s.queueRecycle(c, []NodeRef{{PoolID: p.ID, NodeID: p.Nodes[i].ID}}, rc.now)
	return okMutated(emptyObject())
}

// ---- handlers: versions and types ----

type versionJSON struct {
	ID string `json:"id"`
}

type tierVersionJSON struct {
	ID   string `json:"id"`
	Tier string `json:"tier"`
}

func listLKEVersions(s *Server, rc *reqCtx) response {
	items := make([]any, 0, len(lkeVersions))
	for _, v := range lkeVersions {
		items = append(items, versionJSON{ID: v})
	}
	return listOf(items)
}

func getLKEVersion(s *Server, rc *reqCtx) response {
	v := rc.params["version"]
	if !slices.Contains(lkeVersions, v) {
		return notFound()
	}
	return ok(versionJSON{ID: v})
}

func listTierVersions(s *Server, rc *reqCtx) response {
	tier := rc.params["tier"]
	if tier != "standard" && tier != "enterprise" {
		return notFound()
	}
	var items []any
	for _, v := range tierVersions(tier) {
		items = append(items, tierVersionJSON{ID: v, Tier: tier})
	}
	return listOf(items)
}

func getTierVersion(s *Server, rc *reqCtx) response {
	tier, v := rc.params["tier"], rc.params["version"]
	if (tier != "standard" && tier != "enterprise") || !slices.Contains(tierVersions(tier), v) {
		return notFound()
	}
	return ok(tierVersionJSON{ID: v, Tier: tier})
}

func listLKETypes(s *Server, rc *reqCtx) response {
	items := make([]any, 0, len(lkeTypes))
	for _, t := range lkeTypes {
		items = append(items, t)
	}
	return listOf(items)
}
