package linodetest

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"
)

// NodeBalancers and Block Storage volumes, as LKE's controllers leave them.
//
// In LKE a NodeBalancer is made by the Linode cloud controller manager for
// each Service of type LoadBalancer, and a volume by the Linode Block
// Storage CSI driver for each persistent volume claim; neither carries a
// tag of the user's. What ties them to their cluster:
//
//   - NodeBalancers: the CCM labels each one "<prefix>-<the last 12 hex
//     digits of the Unix nanoseconds>" (linode/linode-cloud-controller-
//     manager cloud/linode/loadbalancers.go, GetLoadBalancerName, with
//     Options.NodeBalancerPrefix, default "ccm"), and LKE runs it with the
//     prefix "lke<cluster id>" — the label pattern "lke<id>-…" that
//     cleanup tools use to attribute LKE NodeBalancers (percona/pmm-qa
//     pull request 1296); the CCM's tags (GetLoadBalancerTags: the
//     --cluster-name, then the Service's annotation) are not relied on.
//   - Volumes: the CSI driver labels each one after its PersistentVolume,
//     "pvc" and the claim's UID without dashes, cut to 32 characters,
//     behind an optional prefix (linode/linode-blockstorage-csi-driver
//     internal/driver/controllerserver_helper.go, prepareVolumeParams and
//     GetNormalizedLabelWithPrefix), tags only those the StorageClass's
//     volumeTags parameter names (createLinodeVolume), and attaches it to
//     the node its pod runs on: linode_id is one of the cluster's nodes.
//
// The simulator makes them out of band (AttachLoadBalancer, AttachVolume),
// never through POST. A volume is attached to a node's Linode while that
// node exists; a deleted node (its pool or cluster deleted) leaves its
// volumes detached, as "volumes are automatically detached from deleted
// Linodes". An attached volume cannot be deleted (400): detach it first
// (an assumption of the simulator; the API description does not say).

// NodeBalancer is a simulated NodeBalancer.
type NodeBalancer struct {
	ID      int       `json:"id"`
	Label   string    `json:"label"`
	Region  string    `json:"region"`
	IPv4    string    `json:"ipv4"`
	Tags    []string  `json:"tags"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
	// ClusterID and Service say what made it (not shown by the API).
	ClusterID int    `json:"cluster_id"`
	Service   string `json:"service"`
}

// Volume is a simulated Block Storage volume.
type Volume struct {
	ID     int      `json:"id"`
	Label  string   `json:"label"`
	Region string   `json:"region"`
	Size   int      `json:"size"`
	Tags   []string `json:"tags"`
	// LinodeID is the Linode it is attached to (0: none). The API shows
	// it only while that Linode exists.
	LinodeID    int       `json:"linode_id"`
	LinodeLabel string    `json:"linode_label"`
	Created     time.Time `json:"created"`
	Updated     time.Time `json:"updated"`
	// ClusterID and PVC say what made it (not shown by the API).
	ClusterID int    `json:"cluster_id"`
	PVC       string `json:"pvc"`
}

func nodeBalancerRoutes() []*route {
	return []*route{
		{method: "GET", pattern: "/nodebalancers", list: true, filterable: []string{"ipv4", "label", "region", "tags"}, h: listNodeBalancers},
		{method: "GET", pattern: "/nodebalancers/{nodeBalancerId}", h: withNodeBalancer(getNodeBalancer)},
		{method: "DELETE", pattern: "/nodebalancers/{nodeBalancerId}", h: withNodeBalancer(deleteNodeBalancer)},
	}
}

func volumeRoutes() []*route {
	return []*route{
		{method: "GET", pattern: "/volumes", list: true, filterable: []string{"label", "tags"}, h: listVolumes},
		{method: "GET", pattern: "/volumes/{volumeId}", h: withVolume(getVolume)},
		{method: "DELETE", pattern: "/volumes/{volumeId}", h: withVolume(deleteVolume)},
		{method: "POST", pattern: "/volumes/{volumeId}/detach", h: withVolume(detachVolume)},
	}
}

func withNodeBalancer(h func(*Server, *reqCtx, *NodeBalancer) response) handlerFunc {
	return withID("nodeBalancerId", func(st *State) map[int]*NodeBalancer { return st.NodeBalancers }, h)
}

func withVolume(h func(*Server, *reqCtx, *Volume) response) handlerFunc {
	return withID("volumeId", func(st *State) map[int]*Volume { return st.Volumes }, h)
}

type nbTransferJSON struct {
	In    *float64 `json:"in"`
	Out   *float64 `json:"out"`
	Total *float64 `json:"total"`
}

type nodeBalancerJSON struct {
	ClientConnThrottle int            `json:"client_conn_throttle"`
	Created            apiTime        `json:"created"`
	Hostname           string         `json:"hostname"`
	ID                 int            `json:"id"`
	IPv4               string         `json:"ipv4"`
	IPv6               *string        `json:"ipv6"`
	Label              string         `json:"label"`
	Region             string         `json:"region"`
	Tags               []string       `json:"tags"`
	Transfer           nbTransferJSON `json:"transfer"`
	Updated            apiTime        `json:"updated"`
}

func renderNodeBalancer(nb *NodeBalancer) nodeBalancerJSON {
	tags := nb.Tags
	if tags == nil {
		tags = []string{}
	}
	return nodeBalancerJSON{
		Created: apiTime(nb.Created), Updated: apiTime(nb.Updated), ID: nb.ID, IPv4: nb.IPv4,
		Hostname: fmt.Sprintf("nb-%s.%s.nodebalancer.linode.com", dashed(nb.IPv4), nb.Region),
		Label:    nb.Label, Region: nb.Region, Tags: tags,
	}
}

func dashed(ip string) string {
	out := []byte(ip)
	for i, c := range out {
		if c == '.' {
			out[i] = '-'
		}
	}
	return string(out)
}

func sortedIDs[T any](m map[int]*T) []int { return slices.Sorted(maps.Keys(m)) }

func listNodeBalancers(s *Server, rc *reqCtx) response {
	items := []any{}
	for _, id := range sortedIDs(s.state.NodeBalancers) {
		items = append(items, renderNodeBalancer(s.state.NodeBalancers[id]))
	}
	return listOf(items)
}

func getNodeBalancer(s *Server, rc *reqCtx, nb *NodeBalancer) response {
	return ok(renderNodeBalancer(nb))
}

func deleteNodeBalancer(s *Server, rc *reqCtx, nb *NodeBalancer) response {
	delete(s.state.NodeBalancers, nb.ID)
	s.state.addEvent(rc.now, "nodebalancer_delete", "nodebalancer", nb.ID, nb.Label, "/v4/nodebalancers/"+strconv.Itoa(nb.ID), "")
	return deleted()
}

type volumeJSON struct {
	Created        apiTime  `json:"created"`
	Encryption     string   `json:"encryption"`
	FilesystemPath string   `json:"filesystem_path"`
	HardwareType   string   `json:"hardware_type"`
	ID             int      `json:"id"`
	Label          string   `json:"label"`
	LinodeID       *int     `json:"linode_id"`
	LinodeLabel    *string  `json:"linode_label"`
	Region         string   `json:"region"`
	Size           int      `json:"size"`
	Status         string   `json:"status"`
	Tags           []string `json:"tags"`
	Updated        apiTime  `json:"updated"`
}

// attachedTo is the Linode a volume is attached to, 0 when none or when
// that Linode no longer exists.
func (s *Server) attachedTo(v *Volume) int {
	if v.LinodeID == 0 {
		return 0
	}
	for _, c := range s.state.Clusters {
		for _, p := range c.Pools {
			for _, n := range p.Nodes {
				if n.InstanceID == v.LinodeID {
					return v.LinodeID
				}
			}
		}
	}
	return 0
}

func (s *Server) renderVolume(v *Volume) volumeJSON {
	tags := v.Tags
	if tags == nil {
		tags = []string{}
	}
	out := volumeJSON{
		Created: apiTime(v.Created), Updated: apiTime(v.Updated), Encryption: "disabled",
		FilesystemPath: "/dev/disk/by-id/scsi-0Linode_Volume_" + v.Label, HardwareType: "nvme",
		ID: v.ID, Label: v.Label, Region: v.Region, Size: v.Size, Status: "active", Tags: tags,
	}
	if id := s.attachedTo(v); id != 0 {
		label := v.LinodeLabel
		out.LinodeID, out.LinodeLabel = &id, &label
	}
	return out
}

func listVolumes(s *Server, rc *reqCtx) response {
	items := []any{}
	for _, id := range sortedIDs(s.state.Volumes) {
		items = append(items, s.renderVolume(s.state.Volumes[id]))
	}
	return listOf(items)
}

func getVolume(s *Server, rc *reqCtx, v *Volume) response { return ok(s.renderVolume(v)) }

func deleteVolume(s *Server, rc *reqCtx, v *Volume) response {
	if s.attachedTo(v) != 0 {
		return badRequest(apiError{Reason: "Volume must be detached before it can be deleted"})
	}
	delete(s.state.Volumes, v.ID)
	s.state.addEvent(rc.now, "volume_delete", "volume", v.ID, v.Label, "/v4/volumes/"+strconv.Itoa(v.ID), "")
	return deleted()
}

func detachVolume(s *Server, rc *reqCtx, v *Volume) response {
	if s.attachedTo(v) == 0 {
		return badRequest(apiError{Reason: "Volume is not attached"})
	}
	v.LinodeID, v.LinodeLabel, v.Updated = 0, "", rc.now
	s.state.addEvent(rc.now, "volume_detach", "volume", v.ID, v.Label, "/v4/volumes/"+strconv.Itoa(v.ID), "")
	return okMutated(emptyObject())
}

// AttachLoadBalancer makes, out of band, the NodeBalancer LKE's cloud
// controller manager makes for a Service of type LoadBalancer in cluster
// clusterID: labelled "lke<clusterID>-<12 hex digits>", in the cluster's
// region, without tags. service ("namespace/name") is recorded in the
// state only. It returns the NodeBalancer's ID. It is not an API request.
func (s *Server) AttachLoadBalancer(clusterID int, service string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	s.advance(now)
	c := s.state.Clusters[clusterID]
	if c == nil {
		return 0, fmt.Errorf("attach a NodeBalancer for %s: LKE cluster %d not found", service, clusterID)
	}
	id := s.state.nextID(&s.state.ids.nodebalancer)
	nb := &NodeBalancer{
		ID: id, Label: fmt.Sprintf("lke%d-%s", clusterID, s.hex(12)), Region: c.Region,
		IPv4:    fmt.Sprintf("192.0.2.%d", id%250+1), // documentation range
		Created: now, Updated: now, ClusterID: clusterID, Service: service,
	}
	s.state.NodeBalancers[id] = nb
	return id, nil
}

// AttachVolume makes, out of band, the Block Storage volume LKE's CSI
// driver makes for a persistent volume claim of cluster clusterID:
// labelled "pvc" and 29 hex digits (the claim's UID without dashes, cut to
// 32 characters), 10 GB, without tags, attached to the Linode of the
// cluster's first node whose Linode exists (see MarkClusterReady). pvc ("namespace/name") is recorded in the state
// only. It returns the volume's ID. It is not an API request.
func (s *Server) AttachVolume(clusterID int, pvc string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	s.advance(now)
	c := s.state.Clusters[clusterID]
	if c == nil {
		return 0, fmt.Errorf("attach a volume for %s: LKE cluster %d not found", pvc, clusterID)
	}
	var node *Node
	var pool *NodePool
	for _, p := range c.Pools {
		for _, n := range p.Nodes {
			if node == nil && !n.InstanceAt.After(now) {
				node, pool = n, p
			}
		}
	}
	if node == nil {
		return 0, fmt.Errorf("attach a volume for %s: LKE cluster %d has no node whose Linode exists yet", pvc, clusterID)
	}
	id := s.state.nextID(&s.state.ids.volume)
	v := &Volume{
		ID: id, Label: "pvc" + s.hex(29), Region: c.Region, Size: 10,
		LinodeID: node.InstanceID, LinodeLabel: fmt.Sprintf("lke%d-%d-%s", clusterID, pool.ID, node.ID[len(node.ID)-10:]),
		Created: now, Updated: now, ClusterID: clusterID, PVC: pvc,
	}
	s.state.Volumes[id] = v
	return id, nil
}
