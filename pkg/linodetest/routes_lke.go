package linodetest

import (
	"sort"
)

// Routes of LKE: the table of endpoints and the lookups that find
// the cluster, pool or node a path names. The handlers live beside it, one
// file per resource as linodego lays out its own: clusters, node pools,
// nodes, the control plane, and versions and types.

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
