package linodetest

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"time"
)

// Life-cycle timings, in model time. Every duration is a deterministic draw
// from (seed, key) within its range, so a given seed and label always give
// the same timings.
const (
	clusterReadyMin = 130 * time.Second
	clusterReadyMax = 250 * time.Second
	// enterpriseExtra is added to the cluster draw of the enterprise tier,
	// which takes longer in recorded traffic.
	enterpriseExtra = 120 * time.Second
	nodeReadyMin    = 140 * time.Second
	nodeReadyMax    = 270 * time.Second
	// A node's Linode is created within this range of the node; until
	// then its instance_id reads null.
	instanceMin      = 5 * time.Second
	instanceMax      = 30 * time.Second
	kubeconfigRegen  = 10 * time.Second
	enterpriseRetry  = "52"
	kubeconfigReason = "Cluster kubeconfig is not yet available. Please try again later."
)

// draw returns a number in [0, 1) determined by seed and key.
func draw(seed int64, key string) float64 {
	h := fnv.New64a()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(seed))
	_, _ = h.Write(b[:])
	_, _ = h.Write([]byte(key))
	x := h.Sum64()
	// splitmix64 finaliser: spreads keys that differ in one character.
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return float64(x>>11) / float64(1<<53)
}

func drawDuration(seed int64, key string, lo, hi time.Duration) time.Duration {
	return lo + time.Duration(draw(seed, key)*float64(hi-lo))
}

// clusterReadyDelay is how long after creation a cluster labelled label
// turns ready.
func clusterReadyDelay(seed int64, label, tier string) time.Duration {
	d := drawDuration(seed, "cluster:"+label, clusterReadyMin, clusterReadyMax)
	if tier == "enterprise" {
		d += enterpriseExtra
	}
	return d
}

// nodeReadyDelay is how long after creation the n-th node ever made for the
// cluster labelled label turns ready. Keying the draw by label and ordinal,
// not by ids that depend on the order of every request the simulator has
// seen, keeps a cluster's timings the same when other clusters are created
// concurrently.
func nodeReadyDelay(seed int64, label string, n int) time.Duration {
	return drawDuration(seed, fmt.Sprintf("node:%s:%d", label, n), nodeReadyMin, nodeReadyMax)
}

// newNode creates a node of pool p at model time at.
func (s *Server) newNode(c *Cluster, p *NodePool, at time.Time) *Node {
	id := fmt.Sprintf("%d-%010x", p.ID, s.rng.Uint64()&0xff_ffff_ffff)
	c.nodes++
	return &Node{
		ID:         id,
		InstanceID: s.state.nextID(&s.state.ids.instance),
		InstanceAt: at.Add(drawDuration(s.cfg.seed, fmt.Sprintf("instance:%s:%d", c.Label, c.nodes), instanceMin, instanceMax)),
		K8sVersion: c.K8sVersion,
		Created:    at,
		ReadyAt:    at.Add(nodeReadyDelay(s.cfg.seed, c.Label, c.nodes)),
	}
}

// resizePool adds or removes nodes so that p has n; removed nodes go from
// the end and leave their firewalls.
func (s *Server) resizePool(c *Cluster, p *NodePool, n int, now time.Time) {
	for len(p.Nodes) < n {
		nd := s.newNode(c, p, now)
		p.Nodes = append(p.Nodes, nd)
		s.state.addEvent(now, "lke_node_create", "lkecluster", c.ID, c.Label, clusterURL(c.ID),
			fmt.Sprintf("node %s created in pool %d", nd.ID, p.ID))
	}
	shrunk := len(p.Nodes) > n
	for len(p.Nodes) > n {
		nd := p.Nodes[len(p.Nodes)-1]
		p.Nodes = p.Nodes[:len(p.Nodes)-1]
		s.state.addEvent(now, "lke_node_delete", "lkecluster", c.ID, c.Label, clusterURL(c.ID),
			fmt.Sprintf("node %s deleted from pool %d", nd.ID, p.ID))
	}
	if shrunk {
		s.pruneDevices()
	}
	p.Count = n
}

// queueRecycle puts nodes at the end of the cluster's recycle queue (those
// already queued stay where they are) and starts the queue if it was idle.
func (s *Server) queueRecycle(c *Cluster, refs []NodeRef, now time.Time) {
	queued := map[string]bool{}
	for _, r := range c.RecycleQueue {
		queued[r.NodeID] = true
	}
	idle := len(c.RecycleQueue) == 0
	for _, r := range refs {
		if !queued[r.NodeID] {
			c.RecycleQueue = append(c.RecycleQueue, r)
			queued[r.NodeID] = true
		}
	}
	if idle && len(c.RecycleQueue) > 0 {
		c.RecycleNextAt = now
	}
	s.advanceCluster(c, now)
}

// advance brings every cluster's recycle queue up to now. Status fields are
// not stored: they are computed from ready times when read.
func (s *Server) advance(now time.Time) {
	for _, c := range s.state.Clusters {
		s.advanceCluster(c, now)
	}
	s.syncPoolFirewalls(now) // replacements made by recycling
}

// advanceCluster replaces queued nodes one at a time: the head of the queue
// is replaced at RecycleNextAt by a new node (new ID and instance, not
// ready), and the next one when that replacement is ready.
func (s *Server) advanceCluster(c *Cluster, now time.Time) {
	for len(c.RecycleQueue) > 0 && !c.RecycleNextAt.After(now) {
		at := c.RecycleNextAt
		ref := c.RecycleQueue[0]
		c.RecycleQueue = c.RecycleQueue[1:]
		p, i := c.node(ref.NodeID)
		if p == nil {
			continue // deleted or scaled away meanwhile
		}
		old := p.Nodes[i]
		nd := s.newNode(c, p, at)
		p.Nodes[i] = nd
		s.state.addEvent(at, "lke_node_recycle", "lkecluster", c.ID, c.Label, clusterURL(c.ID),
			fmt.Sprintf("node %s replaced by %s", old.ID, nd.ID))
		c.RecycleNextAt = nd.ReadyAt
		s.pruneDevices() // the old Linode is gone
	}
	if len(c.RecycleQueue) == 0 {
		c.RecycleNextAt = time.Time{}
	}
}

func clusterURL(id int) string { return fmt.Sprintf("/v4/lke/clusters/%d", id) }
