package linodetest

import (
	"time"
)

// State is everything the simulator holds. Tests read it through Dump and
// change it out of band through Mutate; neither counts as an API request.
// Statuses (Cluster.Status, Node.Status) are computed from the ready times
// against the clock, and filled in by Dump.
type State struct {
	// Now is the model time the snapshot was taken at (set by Dump).
	Now time.Time `json:"now"`
	// Clusters are the LKE clusters by ID.
	Clusters map[int]*Cluster `json:"clusters"`
	// Firewalls are the Cloud Firewalls by ID.
	Firewalls map[int]*Firewall `json:"firewalls"`
	// VPCs are the VPCs by ID.
	VPCs map[int]*VPC `json:"vpcs"`
	// Buckets are the Object Storage buckets keyed "<region>/<label>".
	Buckets map[string]*Bucket `json:"buckets"`
	// ObjectStorageKeys are the Object Storage access keys by ID.
	ObjectStorageKeys map[int]*ObjectStorageKey `json:"object_storage_keys"`
	// NodeBalancers are the NodeBalancers by ID (made out of band, by
	// AttachLoadBalancer, as LKE's cloud controller manager would).
	NodeBalancers map[int]*NodeBalancer `json:"nodebalancers"`
	// Volumes are the Block Storage volumes by ID (made out of band, by
	// AttachVolume, as LKE's CSI driver would).
	Volumes map[int]*Volume `json:"volumes"`
	// Events is the account event log, oldest first.
	Events []*Event `json:"events"`
	// DefaultFirewalls are the account's default firewalls (GET
	// /networking/firewalls/settings); 0, or the ID of a firewall that no
	// longer exists, is shown as null. Set them with Mutate.
	DefaultFirewalls DefaultFirewallIDs `json:"default_firewalls"`

	ids idCounters
}

type idCounters struct {
	cluster, pool, instance, firewall, device, vpc, subnet, key, event, nodebalancer, volume int
}

func newState() *State {
	return &State{
		Clusters:          map[int]*Cluster{},
		Firewalls:         map[int]*Firewall{},
		VPCs:              map[int]*VPC{},
		Buckets:           map[string]*Bucket{},
		ObjectStorageKeys: map[int]*ObjectStorageKey{},
		NodeBalancers:     map[int]*NodeBalancer{},
		Volumes:           map[int]*Volume{},
		ids: idCounters{
			cluster: 10000, pool: 20000, instance: 50_000_000, firewall: 30000,
			device: 40000, vpc: 60000, subnet: 70000, key: 80000, event: 90_000_000,
			nodebalancer: 110000, volume: 120000,
		},
	}
}

func (st *State) nextID(p *int) int {
	*p++
	return *p
}

// Cluster is a simulated LKE cluster.
type Cluster struct {
	ID               int             `json:"id"`
	Label            string          `json:"label"`
	Region           string          `json:"region"`
	K8sVersion       string          `json:"k8s_version"`
	Tier             string          `json:"tier"`
	Tags             []string        `json:"tags"`
	HighAvailability bool            `json:"high_availability"`
	AuditLogsEnabled bool            `json:"audit_logs_enabled"`
	ACL              ControlPlaneACL `json:"acl"`
	APLEnabled       bool            `json:"apl_enabled"`
	VPCID            int             `json:"vpc_id"`
	SubnetID         int             `json:"subnet_id"`
	StackType        string          `json:"stack_type"`
	Created          time.Time       `json:"created"`
	Updated          time.Time       `json:"updated"`
	// ReadyAt is the model time the cluster's control plane answers and its
	// kubeconfig becomes available (the API's status reads "ready" from
	// creation on: it does not report provisioning).
	ReadyAt time.Time `json:"ready_at"`
	// KubeconfigReadyAt is when a regenerated kubeconfig becomes available
	// (zero: together with the cluster).
	KubeconfigReadyAt time.Time `json:"kubeconfig_ready_at"`
	// EndpointHex is the random part of the API server host name.
	EndpointHex string `json:"endpoint_hex"`
	// Status is what the API shows: "ready" from creation on (set by Dump).
	Status string `json:"status"`
	// Pools are the node pools in creation order.
	Pools []*NodePool `json:"pools"`
	// RecycleQueue lists the nodes waiting to be replaced, one at a time.
	RecycleQueue []NodeRef `json:"recycle_queue"`
	// RecycleNextAt is when the head of RecycleQueue is replaced.
	RecycleNextAt time.Time `json:"recycle_next_at"`

	token string // bearer token in the kubeconfig; never dumped
	caPEM []byte // the cluster CA of the generated kubeconfig, made on first use
	nodes int    // nodes ever made for the cluster: keys their timing draws
}

// NodeRef names a node of a cluster.
type NodeRef struct {
	PoolID int    `json:"pool_id"`
	NodeID string `json:"node_id"`
}

// ControlPlaneACL is a cluster's control-plane access list.
type ControlPlaneACL struct {
	Enabled    bool     `json:"enabled"`
	IPv4       []string `json:"ipv4"`
	IPv6       []string `json:"ipv6"`
	RevisionID string   `json:"revision_id"`
}

// NodePool is a simulated LKE node pool.
type NodePool struct {
	ID             int               `json:"id"`
	Label          string            `json:"label"`
	Type           string            `json:"type"`
	Count          int               `json:"count"`
	Disks          []PoolDisk        `json:"disks"`
	Tags           []string          `json:"tags"`
	Labels         map[string]string `json:"labels"`
	Taints         []PoolTaint       `json:"taints"`
	Autoscaler     PoolAutoscaler    `json:"autoscaler"`
	FirewallID     int               `json:"firewall_id"`
	K8sVersion     string            `json:"k8s_version"`
	UpdateStrategy string            `json:"update_strategy"`
	DiskEncryption string            `json:"disk_encryption"`
	Nodes          []*Node           `json:"nodes"`
}

// PoolDisk is an extra disk on each node of a pool.
type PoolDisk struct {
	Size int    `json:"size"`
	Type string `json:"type"`
}

// PoolTaint is a Kubernetes taint put on each node of a pool.
type PoolTaint struct {
	Key    string `json:"key"`
	Value  string `json:"value,omitempty"`
	Effect string `json:"effect"`
}

// PoolAutoscaler is a pool's autoscaler setting.
type PoolAutoscaler struct {
	Enabled bool `json:"enabled"`
	Min     int  `json:"min"`
	Max     int  `json:"max"`
}

// Node is one node (Linode instance) of a pool.
type Node struct {
	// ID looks like "20001-a1b2c3d4e5".
	ID         string `json:"id"`
	InstanceID int    `json:"instance_id"`
	// InstanceAt is the model time the node's Linode exists; until then
	// the API shows instance_id as null.
	InstanceAt time.Time `json:"instance_at"`
	// K8sVersion is the cluster version the node was created with.
	K8sVersion string    `json:"k8s_version"`
	Created    time.Time `json:"created"`
	ReadyAt    time.Time `json:"ready_at"`
	// Status is "ready" or "not_ready" at Now (set by Dump).
	Status string `json:"status"`
}

// Firewall is a simulated Cloud Firewall.
type Firewall struct {
	ID      int               `json:"id"`
	Label   string            `json:"label"`
	Status  string            `json:"status"`
	Tags    []string          `json:"tags"`
	Rules   FirewallRules     `json:"rules"`
	Devices []*FirewallDevice `json:"devices"`
	Created time.Time         `json:"created"`
	Updated time.Time         `json:"updated"`
}

// FirewallRules is a firewall's rule set.
type FirewallRules struct {
	Inbound        []FirewallRule `json:"inbound"`
	InboundPolicy  string         `json:"inbound_policy"`
	Outbound       []FirewallRule `json:"outbound"`
	OutboundPolicy string         `json:"outbound_policy"`
	Version        int            `json:"version"`
	Fingerprint    string         `json:"fingerprint"`
}

// FirewallRule is one inbound or outbound rule.
type FirewallRule struct {
	Action      string        `json:"action"`
	Label       string        `json:"label,omitempty"`
	Description string        `json:"description,omitempty"`
	Ports       string        `json:"ports,omitempty"`
	Protocol    string        `json:"protocol"`
	Addresses   RuleAddresses `json:"addresses"`
}

// RuleAddresses are the addresses a rule matches.
type RuleAddresses struct {
	IPv4 *[]string `json:"ipv4,omitempty"`
	IPv6 *[]string `json:"ipv6,omitempty"`
}

// FirewallDevice is an entity a firewall is attached to.
type FirewallDevice struct {
	ID          int       `json:"id"`
	EntityID    int       `json:"entity_id"`
	EntityType  string    `json:"entity_type"`
	EntityLabel string    `json:"entity_label"`
	Created     time.Time `json:"created"`
	Updated     time.Time `json:"updated"`
}

// DefaultFirewallIDs are the firewalls the API assigns to new entities of
// each kind; 0 means none.
type DefaultFirewallIDs struct {
	Linode          int `json:"linode"`
	NodeBalancer    int `json:"nodebalancer"`
	PublicInterface int `json:"public_interface"`
	VPCInterface    int `json:"vpc_interface"`
}

// VPC is a simulated VPC.
type VPC struct {
	ID          int    `json:"id"`
	Label       string `json:"label"`
	Description string `json:"description"`
	Region      string `json:"region"`
	// IPv6 is the VPC's IPv6 range (a /52), nil when none was asked for.
	IPv6    []string  `json:"ipv6"`
	Subnets []*Subnet `json:"subnets"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// Subnet is a VPC subnet.
type Subnet struct {
	ID    int    `json:"id"`
	Label string `json:"label"`
	IPv4  string `json:"ipv4"`
	// IPv6 is the subnet's IPv6 range (a /64 within the VPC's), nil when
	// none was asked for.
	IPv6    []string  `json:"ipv6"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// Bucket is a simulated Object Storage bucket.
type Bucket struct {
	Label        string    `json:"label"`
	Region       string    `json:"region"`
	ACL          string    `json:"acl"`
	CORSEnabled  bool      `json:"cors_enabled"`
	EndpointType string    `json:"endpoint_type"`
	Objects      int       `json:"objects"`
	Size         int       `json:"size"`
	Created      time.Time `json:"created"`
}

// ObjectStorageKey is a simulated Object Storage access key. Its secret is
// never part of a snapshot.
type ObjectStorageKey struct {
	ID           int               `json:"id"`
	Label        string            `json:"label"`
	AccessKey    string            `json:"access_key"`
	Limited      bool              `json:"limited"`
	BucketAccess []KeyBucketAccess `json:"bucket_access"`
	Regions      []string          `json:"regions"`

	secretKey string
}

// KeyBucketAccess is a limited key's permission on one bucket.
type KeyBucketAccess struct {
	Region      string `json:"region"`
	BucketName  string `json:"bucket_name"`
	Permissions string `json:"permissions"`
}

// Event is an entry of the account event log.
type Event struct {
	ID          int       `json:"id"`
	Action      string    `json:"action"`
	EntityID    int       `json:"entity_id"`
	EntityType  string    `json:"entity_type"`
	EntityLabel string    `json:"entity_label"`
	EntityURL   string    `json:"entity_url"`
	Message     string    `json:"message"`
	Created     time.Time `json:"created"`
}

func (st *State) addEvent(now time.Time, action, etype string, eid int, elabel, eurl, msg string) {
	st.Events = append(st.Events, &Event{
		ID: st.nextID(&st.ids.event), Action: action, EntityType: etype, EntityID: eid,
		EntityLabel: elabel, EntityURL: eurl, Message: msg, Created: now,
	})
}

func (c *Cluster) pool(id int) *NodePool {
	for _, p := range c.Pools {
		if p.ID == id {
			return p
		}
	}
	return nil
}

func (c *Cluster) node(id string) (*NodePool, int) {
	for _, p := range c.Pools {
		for i, n := range p.Nodes {
			if n.ID == id {
				return p, i
			}
		}
	}
	return nil, -1
}

func statusAt(now, readyAt time.Time) string {
	if now.Before(readyAt) {
		return "not_ready"
	}
	return "ready"
}
