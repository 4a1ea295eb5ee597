package linodetest

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// LKE clusters: rendering, validation and the cluster handlers.

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
	Locks        []string         `json:"locks"`
	Region       string           `json:"region"`
	Status       string           `json:"status"`
	Tags         []string         `json:"tags"`
	Tier         string           `json:"tier"`
	Updated      apiTime          `json:"updated"`
}

// clusterFull is a cluster as GET, POST and PUT return it. The API sends
// stack_type, subnet_id and vpc_id only for LKE Enterprise clusters and
// clusters placed in a VPC; a standard cluster outside a VPC has none of
// them.
type clusterFull struct {
	clusterItem
	StackType *string `json:"stack_type,omitempty"`
	SubnetID  *int    `json:"subnet_id,omitempty"`
	VPCID     *int    `json:"vpc_id,omitempty"`
}

// clusterStatus is the status the API shows for a cluster: "ready" from the
// create response on. The real API does not report provisioning in it;
// readiness is the kubeconfig answering and the nodes turning ready.
func clusterStatus(*Cluster) string { return "ready" }

func renderClusterItem(c *Cluster, rc *reqCtx) clusterItem {
	return clusterItem{
		APLEnabled: c.APLEnabled, ControlPlane: controlPlaneJSON{HighAvailability: c.HighAvailability},
		Created: apiTime(c.Created), ID: c.ID, K8sVersion: c.K8sVersion, Label: c.Label, Locks: []string{},
		Region: c.Region, Status: clusterStatus(c), Tags: nonNil(c.Tags), Tier: c.Tier, Updated: apiTime(c.Updated),
	}
}

func renderCluster(c *Cluster, rc *reqCtx) clusterFull {
	out := clusterFull{clusterItem: renderClusterItem(c, rc)}
	if c.Tier == "enterprise" || c.VPCID != 0 {
		st := c.StackType
		out.StackType = &st
		out.SubnetID, out.VPCID = intOrNull(c.SubnetID), intOrNull(c.VPCID) // absent outside a VPC
	}
	return out
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

func listClusters(s *Server, rc *reqCtx) response {
	var items []any
	for _, c := range sortedClusters(s.state) {
		items = append(items, renderClusterItem(c, rc))
	}
	return listOf(nonNil(items))
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
	reg := s.catalogue().region(req.Region)
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
	case !s.catalogue().creatable(tier, req.K8sVersion):
		errs = append(errs, fieldErr("k8s_version", "k8s_version is not valid"))
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
	// The enterprise tier always has an HA control plane, and so does a
	// cluster with Akamai App Platform (apl_enabled) on.
	if tier == "enterprise" || c.APLEnabled {
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
		case !ok || !s.catalogue().creatable(c.Tier, *req.K8sVersion):
			errs = append(errs, fieldErr("k8s_version", "k8s_version is not valid"))
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
