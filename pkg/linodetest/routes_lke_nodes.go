package linodetest

import (
	"fmt"
	"slices"
)

// LKE nodes: the handlers of one node, and the node references of a cluster.

func allNodes(c *Cluster) []NodeRef {
	var refs []NodeRef
	for _, p := range c.Pools {
		for _, n := range p.Nodes {
			refs = append(refs, NodeRef{PoolID: p.ID, NodeID: n.ID})
		}
	}
	return refs
}

func getNode(s *Server, rc *reqCtx, c *Cluster, p *NodePool, i int) response {
	n := p.Nodes[i]
	return ok(renderNode(n, rc.now))
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
