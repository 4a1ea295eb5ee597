package spec

// Environment is the desired state of one isolated Kubernetes environment:
// its LKE cluster, the network around it, what runs inside it and how changes
// reach it. It is a plain value: load it with Load or start from Default and
// change fields in place. Every Ensure* and Plan* of this project takes one.
type Environment struct {
	// Name is the environment's name: development, staging, production or
	// system, or another DNS-1123 label for custom environments.
	Name string `json:"name"`
	// Cluster is the LKE cluster and its node pools.
	Cluster Cluster `json:"cluster"`
	// Network is the Linode network around the cluster: Cloud Firewall and VPC.
	Network Network `json:"network,omitempty"`
	// Namespaces are the Kubernetes namespaces the platform creates, each
	// with its quota and its allowed traffic.
	Namespaces []Namespace `json:"namespaces,omitempty"`
	// DataServices are the PostgreSQL and Redis endpoints outside the cluster
	// that namespaces may declare they reach.
	DataServices []DataService `json:"dataServices,omitempty"`
	// Ingress is the cluster's ingress controller and certificate issuer.
	Ingress Ingress `json:"ingress,omitempty"`
	// Observability is the metrics, logs, traces and alerting stack.
	Observability Observability `json:"observability,omitempty"`
	// Secrets is the Sealed Secrets controller and its key backup.
	Secrets Secrets `json:"secrets,omitempty"`
	// GitOps is how changes reach the environment.
	GitOps GitOps `json:"gitops,omitempty"`
}

// Cluster is an LKE cluster.
type Cluster struct {
	// Label is the LKE cluster label, unique in the account, at most 32
	// characters. Default: "platform-<environment name>".
	Label string `json:"label,omitempty"`
	// Region is the Linode region, for example "us-east".
	Region string `json:"region"`
	// KubernetesVersion is the LKE Kubernetes minor version, for example
	// "1.33"; on the enterprise tier, a full LKE Enterprise version such as
	// "v1.33.4+lke1".
	KubernetesVersion string `json:"kubernetesVersion"`
	// Tier is the LKE tier: "standard" (default) or "enterprise".
	Tier string `json:"tier,omitempty" jsonschema:"enum=standard,enum=enterprise"`
	// HighAvailability turns on the HA control plane. It cannot be turned
	// off once on.
	HighAvailability bool `json:"highAvailability,omitempty"`
	// ControlPlaneACL restricts who reaches the Kubernetes API. Once enabled
	// it cannot be disabled.
	ControlPlaneACL ControlPlaneACL `json:"controlPlaneACL,omitempty"`
	// Tags are Linode tags on the cluster.
	Tags []string `json:"tags,omitempty"`
	// NodePools are the worker pools, each keyed by its unique Name; their
	// order carries no meaning.
	NodePools []NodePool `json:"nodePools"`
}

// ControlPlaneACL is the LKE control-plane access list.
type ControlPlaneACL struct {
	// Enabled turns the ACL on.
	Enabled bool `json:"enabled,omitempty"`
	// IPv4 lists the IPv4 addresses or CIDRs allowed to reach the API.
	IPv4 []string `json:"ipv4,omitempty"`
	// IPv6 lists the IPv6 addresses or CIDRs allowed to reach the API.
	IPv6 []string `json:"ipv6,omitempty"`
}

// NodePool is a pool of identical worker nodes.
type NodePool struct {
	// Name identifies the pool, unique within the cluster; it is carried on
	// the pool as an ownership tag, so pools are matched by name, never by
	// position.
	Name string `json:"name"`
	// Type is the Linode type of each node, for example "g6-standard-4".
	Type string `json:"type"`
	// Count is the number of nodes (1–100). With the autoscaler on it is
	// only the initial size.
	Count int `json:"count"`
	// Autoscaler, when set, lets LKE scale the pool between Min and Max.
	Autoscaler *Autoscaler `json:"autoscaler,omitempty"`
	// Labels are Kubernetes labels put on every node.
	Labels map[string]string `json:"labels,omitempty"`
	// Taints are Kubernetes taints put on every node.
	Taints []Taint `json:"taints,omitempty"`
	// Tags are Linode tags on the pool.
	Tags []string `json:"tags,omitempty"`
}

// Autoscaler bounds an autoscaled node pool.
type Autoscaler struct {
	// Min is the smallest node count (≥ 1).
	Min int `json:"min"`
	// Max is the largest node count (≥ Min, ≤ 100).
	Max int `json:"max"`
}

// Taint is a Kubernetes node taint.
type Taint struct {
	// Key is the taint key.
	Key string `json:"key"`
	// Value is the taint value.
	Value string `json:"value,omitempty"`
	// Effect is NoSchedule, PreferNoSchedule or NoExecute.
	Effect string `json:"effect" jsonschema:"enum=NoSchedule,enum=PreferNoSchedule,enum=NoExecute"`
}

// Network is the Linode network around a cluster.
type Network struct {
	// Firewall is the Cloud Firewall attached to every node pool.
	Firewall Firewall `json:"firewall,omitempty"`
	// VPC, when set, is the VPC the cluster's nodes live in.
	VPC *VPC `json:"vpc,omitempty"`
}

// Firewall is a Linode Cloud Firewall.
type Firewall struct {
	// Label is the firewall label (3–32 characters). Default:
	// "platform-<environment name>".
	Label string `json:"label,omitempty"`
	// InboundPolicy is the action for inbound traffic no rule matches:
	// DROP (default) or ACCEPT.
	InboundPolicy string `json:"inboundPolicy,omitempty" jsonschema:"enum=ACCEPT,enum=DROP"`
	// OutboundPolicy is the action for outbound traffic no rule matches:
	// ACCEPT (default) or DROP.
	OutboundPolicy string `json:"outboundPolicy,omitempty" jsonschema:"enum=ACCEPT,enum=DROP"`
	// Inbound are the inbound rules, in order.
	Inbound []FirewallRule `json:"inbound,omitempty"`
	// Outbound are the outbound rules, in order.
	Outbound []FirewallRule `json:"outbound,omitempty"`
}

// FirewallRule is one Cloud Firewall rule. A rule with more than
// MaxAddressesPerRule addresses is applied as several (see SplitRule); a
// firewall holds at most MaxFirewallRules rules after splitting.
type FirewallRule struct {
	// Label names the rule (unique within its direction).
	Label string `json:"label"`
	// Action is ACCEPT or DROP.
	Action string `json:"action" jsonschema:"enum=ACCEPT,enum=DROP"`
	// Protocol is TCP, UDP, ICMP or IPENCAP.
	Protocol string `json:"protocol" jsonschema:"enum=TCP,enum=UDP,enum=ICMP,enum=IPENCAP"`
	// Ports is a comma-separated list of ports and ranges ("443", "80,443",
	// "30000-32767"), at most 15 pieces where a range counts two; empty means
	// all ports. Not allowed for ICMP and IPENCAP.
	Ports string `json:"ports,omitempty"`
	// IPv4 lists the IPv4 CIDRs (IP/mask) the rule matches.
	IPv4 []string `json:"ipv4,omitempty"`
	// IPv6 lists the IPv6 CIDRs (IP/mask) the rule matches.
	IPv6 []string `json:"ipv6,omitempty"`
	// Description says why the rule exists (at most 100 characters).
	Description string `json:"description,omitempty"`
}

// VPC is a Linode VPC with its subnets.
type VPC struct {
	// Label is the VPC label (at most 64 characters). Default:
	// "platform-<environment name>".
	Label string `json:"label,omitempty"`
	// Description is a free-text description.
	Description string `json:"description,omitempty"`
	// Subnets are the VPC's subnets; their CIDRs must not overlap.
	Subnets []Subnet `json:"subnets"`
}

// Subnet is one VPC subnet.
type Subnet struct {
	// Label is the subnet label (at most 64 characters), unique in the VPC.
	Label string `json:"label"`
	// IPv4 is the subnet's IPv4 CIDR in canonical form, inside an RFC 1918
	// private range, /29 or shorter, clear of LKE's 192.168.128.0/17 and of
	// the VPC's other subnets.
	IPv4 string `json:"ipv4"`
}

// Namespace is a Kubernetes namespace the platform owns.
type Namespace struct {
	// Name is the namespace name (a DNS-1123 label).
	Name string `json:"name"`
	// Team owns the namespace; it becomes the "team" label.
	Team string `json:"team,omitempty"`
	// Labels are extra labels on the namespace.
	Labels map[string]string `json:"labels,omitempty"`
	// Ingress lets the ingress controller reach the namespace's pods.
	Ingress bool `json:"ingress,omitempty"`
	// DataServices names the entries of Environment.DataServices the
	// namespace's pods may reach; all other egress is denied.
	DataServices []string `json:"dataServices,omitempty"`
	// Quota overrides the default ResourceQuota and LimitRange.
	Quota *Quota `json:"quota,omitempty"`
}

// Quota is a namespace's ResourceQuota and LimitRange. Quantities use
// Kubernetes notation ("4", "500m", "8Gi"); empty fields keep the default.
type Quota struct {
	// Pods is the maximum number of pods.
	Pods int `json:"pods,omitempty"`
	// Services is the maximum number of Services.
	Services int `json:"services,omitempty"`
	// RequestsCPU is the sum of CPU requests allowed.
	RequestsCPU string `json:"requestsCPU,omitempty"`
	// RequestsMemory is the sum of memory requests allowed.
	RequestsMemory string `json:"requestsMemory,omitempty"`
	// LimitsCPU is the sum of CPU limits allowed.
	LimitsCPU string `json:"limitsCPU,omitempty"`
	// LimitsMemory is the sum of memory limits allowed.
	LimitsMemory string `json:"limitsMemory,omitempty"`
	// PersistentVolumeClaims is the maximum number of PVCs.
	PersistentVolumeClaims int `json:"persistentVolumeClaims,omitempty"`
	// Storage is the sum of PVC storage requests allowed.
	Storage string `json:"storage,omitempty"`
	// DefaultRequestCPU is the LimitRange default CPU request per container.
	DefaultRequestCPU string `json:"defaultRequestCPU,omitempty"`
	// DefaultRequestMemory is the LimitRange default memory request per container.
	DefaultRequestMemory string `json:"defaultRequestMemory,omitempty"`
	// DefaultLimitCPU is the LimitRange default CPU limit per container.
	DefaultLimitCPU string `json:"defaultLimitCPU,omitempty"`
	// DefaultLimitMemory is the LimitRange default memory limit per container.
	DefaultLimitMemory string `json:"defaultLimitMemory,omitempty"`
}

// DataService is a database or cache outside the cluster.
type DataService struct {
	// Name identifies the service; namespaces refer to it by name.
	Name string `json:"name"`
	// Kind is "postgresql" or "redis".
	Kind string `json:"kind" jsonschema:"enum=postgresql,enum=redis"`
	// CIDRs are the addresses the service answers on.
	CIDRs []string `json:"cidrs"`
	// Port is the TCP port (default 5432 for PostgreSQL, 6379 for Redis).
	Port int `json:"port,omitempty"`
}

// Ingress is the ingress controller and TLS issuer of a cluster.
type Ingress struct {
	// Enabled installs ingress-nginx and cert-manager.
	Enabled bool `json:"enabled,omitempty"`
	// Namespace is where the controller runs. Default "ingress-nginx".
	Namespace string `json:"namespace,omitempty"`
	// ClassName is the IngressClass name. Default "nginx".
	ClassName string `json:"className,omitempty"`
	// Replicas is the controller replica count. Default 2 (so 0 means 2).
	Replicas int `json:"replicas,omitempty"`
	// ACMEEmail, when set, creates a Let's Encrypt ClusterIssuer with it.
	ACMEEmail string `json:"acmeEmail,omitempty"`
}

// Observability is the monitoring stack of an environment.
type Observability struct {
	// Enabled installs the stack.
	Enabled bool `json:"enabled,omitempty"`
	// Namespace is where the stack runs. Default "monitoring"; it may scrape
	// every namespace.
	Namespace string `json:"namespace,omitempty"`
	// MetricsRetention is Prometheus' retention, a duration such as "15d".
	MetricsRetention string `json:"metricsRetention,omitempty"`
	// LogsRetention is Loki's retention, a duration such as "168h".
	LogsRetention string `json:"logsRetention,omitempty"`
	// Tracing installs the OpenTelemetry Collector.
	Tracing bool `json:"tracing,omitempty"`
	// AlertRoutes route alerts by severity to receivers.
	AlertRoutes []AlertRoute `json:"alertRoutes,omitempty"`
}

// AlertRoute sends alerts that match Severity to a receiver.
type AlertRoute struct {
	// Name names the route and its receiver.
	Name string `json:"name"`
	// Severity is the alert severity matched: critical, warning or info.
	Severity string `json:"severity" jsonschema:"enum=critical,enum=warning,enum=info"`
	// SlackChannel is the Slack channel, for example "#alerts-prod".
	SlackChannel string `json:"slackChannel,omitempty"`
	// WebhookSecretRef names the Secret key holding the webhook URL, as
	// "<secret>/<key>" with the Secret in Observability.Namespace, for
	// example "alertmanager-slack/webhook-url"; the URL itself never appears
	// in the spec. Required when SlackChannel is set.
	WebhookSecretRef string `json:"webhookSecretRef,omitempty"`
}

// Secrets is the Sealed Secrets setup of an environment.
type Secrets struct {
	// SealedSecrets installs the Sealed Secrets controller.
	SealedSecrets bool `json:"sealedSecrets,omitempty"`
	// Namespace is where the controller runs. Default "kube-system".
	Namespace string `json:"namespace,omitempty"`
	// KeyBackup, when set, backs the sealing keys up to Object Storage.
	KeyBackup *KeyBackup `json:"keyBackup,omitempty"`
}

// KeyBackup is where sealing keys are backed up.
type KeyBackup struct {
	// Bucket is the Object Storage bucket label (3–63 characters, DNS-style).
	// The standard environments use "platform-<name>-sealing-keys".
	Bucket string `json:"bucket"`
	// Region is the Object Storage region, for example "us-east".
	Region string `json:"region"`
}

// GitOps is how changes reach an environment.
type GitOps struct {
	// RepoURL is the Git repository Argo CD follows: an https:// or ssh URL
	// without credentials. Required when GitOpsOnly is set.
	RepoURL string `json:"repoURL,omitempty"`
	// Revision is the branch, tag or commit followed. Default "main".
	Revision string `json:"revision,omitempty"`
	// Path is the directory in the repository. Default "environments/<name>".
	Path string `json:"path,omitempty"`
	// GitOpsOnly forbids changes that do not come through Git (production).
	GitOpsOnly bool `json:"gitOpsOnly,omitempty"`
	// RequiredApprovals is how many approvals a plan needs before apply.
	RequiredApprovals int `json:"requiredApprovals,omitempty"`
	// BaselineOwner says who installs the baseline releases (ingress,
	// cert-manager, Sealed Secrets, observability): "sdk" (the default)
	// or "argocd". Never both: with "argocd" the SDK renders the same
	// values into Argo CD objects and does not install them itself.
	BaselineOwner string `json:"baselineOwner,omitempty"`
}

// The owners of the baseline releases (GitOps.BaselineOwner).
const (
	OwnerSDK    = "sdk"
	OwnerArgoCD = "argocd"
)
