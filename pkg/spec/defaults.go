package spec

import (
	"fmt"
	"slices"
)

// The standard environment names.
const (
	Development = "development"
	Staging     = "staging"
	Production  = "production"
	System      = "system"
)

// Values shared by the standard environments.
const (
	// DefaultRegion is the Linode region of every standard environment.
	DefaultRegion = "us-east"
	// DefaultKubernetesVersion is the LKE Kubernetes minor version of every
	// standard environment, in LKE's "1.NN" form (the API's k8s_version).
	// Move all four together, one minor at a time, as LKE retires versions.
	DefaultKubernetesVersion = "1.33"
	// DefaultTier is the LKE tier ApplyDefaults sets.
	DefaultTier = "standard"
	// DefaultGitOpsRepoURL is the repository every standard environment
	// follows.
	DefaultGitOpsRepoURL = "https://github.com/org/platform-environments"
	// LKENodeCIDR is the private network LKE nodes and its control plane talk
	// on: kubelet (TCP 10250), WireGuard (UDP 51820), Calico BGP (TCP 179)
	// and Calico IP-in-IP (IPENCAP) come from here.
	LKENodeCIDR = "192.168.128.0/17"
	// NodeBalancerCIDR is where Linode NodeBalancers reach the NodePorts
	// (30000–32767) of the Services they front.
	NodeBalancerCIDR = "192.168.255.0/24"
	// ControlPlaneACLPlaceholder is the documentation range (RFC 5737
	// TEST-NET-3) the production spec admits to the Kubernetes API. Replace
	// it with your operators' and CI's egress addresses before use: the ACL
	// cannot be turned off once on.
	ControlPlaneACLPlaceholder = "203.0.113.0/24"
	// AlertWebhookSecretRef is the Secret key, "<secret>/<key>" in the
	// observability namespace, that holds the Slack webhook URL of the
	// standard environments' alert routes.
	AlertWebhookSecretRef = "alertmanager-slack/webhook-url"
)

// Default ports of data services by kind.
const (
	DefaultPostgreSQLPort = 5432
	DefaultRedisPort      = 6379
)

// StandardNames returns the names Default knows, in promotion order.
func StandardNames() []string {
	return []string{Development, Staging, Production, System}
}

// Default returns the full standard spec of the named environment with
// defaults applied; it passes Validate. Each call returns a fresh value that
// shares nothing with other calls, so callers may change it in place.
//
// All four run in DefaultRegion on DefaultKubernetesVersion, behind a Cloud
// Firewall that drops inbound traffic except what LKE needs (see
// LKENodeCIDR, NodeBalancerCIDR) and ICMP from inside the cluster and from
// operators; a control-plane ACL admitting only ControlPlaneACLPlaceholder
// (the operators' range: replace it), so that no environment's nodes reach
// another's nodes or API; a VPC of two subnets
// ("nodes" 10.N.0.0/20 and "data" 10.N.100.0/23, N = 10, 20, 30, 40 for
// development, staging, production, system, so no two environments overlap
// and none overlaps LKE's pod network 10.2.0.0/16 or Service network
// 10.128.0.0/16); a PostgreSQL at 10.N.100.0/24 and a Redis at
// 10.N.101.0/24; namespaces "apps" (ingress, PostgreSQL and Redis) and
// "jobs" (PostgreSQL); ingress-nginx; the observability stack with a
// critical and a warning route to Slack; Sealed Secrets with its keys
// backed up to "platform-<name>-sealing-keys"; and GitOps from
// DefaultGitOpsRepoURL at environments/<name>.
//
//   - development: pool "general" g6-standard-2 ×3, autoscaled 3–6.
//   - staging: pool "general" g6-standard-4 ×3, autoscaled 3–8; one approval.
//   - production: HA control plane; pools "general" g6-dedicated-4 ×3
//     (autoscaled 3–10) and "ingress" g6-dedicated-2 ×2, labelled and
//     tainted dedicated=ingress:NoSchedule; three ingress replicas; changes
//     through Git only, with two approvals.
//   - system: pools "general" g6-standard-4 ×3 (autoscaled 3–6) and
//     "monitoring" g6-standard-8 ×3 labelled dedicated=monitoring; tracing
//     on; one approval.
//
// An unknown name is an error wrapping ErrUnknownEnvironment.
func Default(name string) (Environment, error) {
	var env Environment
	switch name {
	case Development:
		env = standard(name, 10)
		env.Cluster.NodePools = []NodePool{
			{Name: "general", Type: "g6-standard-2", Count: 3, Autoscaler: &Autoscaler{Min: 3, Max: 6}},
		}
		env.Observability.MetricsRetention = "7d"
		env.Observability.LogsRetention = "72h"
	case Staging:
		env = standard(name, 20)
		env.Cluster.NodePools = []NodePool{
			{Name: "general", Type: "g6-standard-4", Count: 3, Autoscaler: &Autoscaler{Min: 3, Max: 8}},
		}
		env.GitOps.RequiredApprovals = 1
	case Production:
		env = standard(name, 30)
		env.Cluster.HighAvailability = true
		env.Cluster.NodePools = []NodePool{
			{Name: "general", Type: "g6-dedicated-4", Count: 3, Autoscaler: &Autoscaler{Min: 3, Max: 10}},
			{
				Name: "ingress", Type: "g6-dedicated-2", Count: 2,
				Labels: map[string]string{"dedicated": "ingress"},
				Taints: []Taint{{Key: "dedicated", Value: "ingress", Effect: "NoSchedule"}},
			},
		}
		env.Ingress.Replicas = 3
		env.Observability.MetricsRetention = "30d"
		env.Observability.LogsRetention = "720h"
		env.GitOps.GitOpsOnly = true
		env.GitOps.RequiredApprovals = 2
	case System:
		env = standard(name, 40)
		env.Cluster.NodePools = []NodePool{
			{Name: "general", Type: "g6-standard-4", Count: 3, Autoscaler: &Autoscaler{Min: 3, Max: 6}},
			{Name: "monitoring", Type: "g6-standard-8", Count: 3, Labels: map[string]string{"dedicated": "monitoring"}},
		}
		env.Observability.MetricsRetention = "30d"
		env.Observability.LogsRetention = "720h"
		env.Observability.Tracing = true
		env.GitOps.RequiredApprovals = 1
	default:
		return Environment{}, fmt.Errorf("default spec for %q: %w (want one of %v)", name, ErrUnknownEnvironment, StandardNames())
	}
	env.ApplyDefaults()
	return env, nil
}

// standard returns what the standard environments share; octet is the
// second octet of the environment's 10.octet.0.0/16 address plan.
func standard(name string, octet int) Environment {
	cidr := func(third, bits int) string { return fmt.Sprintf("10.%d.%d.0/%d", octet, third, bits) }
	return Environment{
		Name: name,
		Cluster: Cluster{
			Region:            DefaultRegion,
			KubernetesVersion: DefaultKubernetesVersion,
			Tags:              []string{"platform", "env-" + name},
			// Every environment's API admits only the operators' range, so
			// no environment's nodes reach another's control plane.
			ControlPlaneACL: ControlPlaneACL{Enabled: true, IPv4: []string{ControlPlaneACLPlaceholder}},
		},
		Network: Network{
			Firewall: Firewall{
				InboundPolicy:  "DROP",
				OutboundPolicy: "ACCEPT",
				Inbound: []FirewallRule{
					{Label: "kubelet", Action: "ACCEPT", Protocol: "TCP", Ports: "10250", IPv4: []string{LKENodeCIDR},
						Description: "kubelet: health checks, logs and exec from the LKE control plane"},
					{Label: "wireguard", Action: "ACCEPT", Protocol: "UDP", Ports: "51820", IPv4: []string{LKENodeCIDR},
						Description: "WireGuard tunnel between the LKE control plane and the nodes"},
					{Label: "calico-bgp", Action: "ACCEPT", Protocol: "TCP", Ports: "179", IPv4: []string{LKENodeCIDR},
						Description: "Calico BGP between nodes"},
					{Label: "calico-ipip", Action: "ACCEPT", Protocol: "IPENCAP", IPv4: []string{LKENodeCIDR},
						Description: "Calico IP-in-IP pod traffic between nodes"},
					{Label: "nodeports", Action: "ACCEPT", Protocol: "TCP", Ports: "30000-32767", IPv4: []string{NodeBalancerCIDR},
						Description: "NodePorts of LoadBalancer Services, from NodeBalancers"},
					{Label: "icmp", Action: "ACCEPT", Protocol: "ICMP", IPv4: []string{LKENodeCIDR, ControlPlaneACLPlaceholder},
						Description: "ping and path MTU discovery within the cluster and from operators"},
				},
			},
			VPC: &VPC{
				Description: "platform " + name + " environment",
				Subnets: []Subnet{
					{Label: "nodes", IPv4: cidr(0, 20)},
					{Label: "data", IPv4: cidr(100, 23)},
				},
			},
		},
		Namespaces: []Namespace{
			{Name: "apps", Team: "apps", Ingress: true, DataServices: []string{"postgres", "redis"},
				Quota: &Quota{Pods: 100, RequestsCPU: "8", RequestsMemory: "16Gi", LimitsCPU: "16", LimitsMemory: "32Gi"}},
			{Name: "jobs", Team: "data", DataServices: []string{"postgres"},
				Quota: &Quota{Pods: 50, RequestsCPU: "4", RequestsMemory: "8Gi", LimitsCPU: "8", LimitsMemory: "16Gi"}},
		},
		DataServices: []DataService{
			{Name: "postgres", Kind: "postgresql", CIDRs: []string{cidr(100, 24)}},
			{Name: "redis", Kind: "redis", CIDRs: []string{cidr(101, 24)}},
		},
		Ingress: Ingress{Enabled: true, ACMEEmail: "platform-team@example.com"},
		Observability: Observability{
			Enabled:          true,
			MetricsRetention: "15d",
			LogsRetention:    "168h",
			AlertRoutes: []AlertRoute{
				{Name: "critical", Severity: "critical", SlackChannel: "#alerts-" + name, WebhookSecretRef: AlertWebhookSecretRef},
				{Name: "warning", Severity: "warning", SlackChannel: "#alerts-" + name + "-warnings", WebhookSecretRef: AlertWebhookSecretRef},
			},
		},
		Secrets: Secrets{
			SealedSecrets: true,
			KeyBackup:     &KeyBackup{Bucket: "platform-" + name + "-sealing-keys", Region: DefaultRegion},
		},
		GitOps: GitOps{RepoURL: DefaultGitOpsRepoURL},
	}
}

// ApplyDefaults fills the fields of e that are empty with their defaults and
// leaves every other field alone; applying it twice changes nothing. Load
// and Default call it; code that builds an Environment by hand should call
// it before Validate, which reports these fields as missing.
//
//   - cluster.label: "platform-<name>"; cluster.tier: "standard"
//   - network.firewall.label: "platform-<name>"; inboundPolicy: "DROP";
//     outboundPolicy: "ACCEPT"
//   - network.vpc.label (when a VPC is set): "platform-<name>"
//   - dataServices[].port: 5432 for postgresql, 6379 for redis
//   - ingress.namespace: "ingress-nginx"; className: "nginx"; replicas: 2
//     (so replicas: 0 in YAML also means 2)
//   - observability.namespace: "monitoring"
//   - secrets.namespace: "kube-system"
//   - gitops.revision: "main"; gitops.path: "environments/<name>"
//
// The name-derived defaults are skipped while Name is empty.
func (e *Environment) ApplyDefaults() {
	setDefault := func(field *string, value string) {
		if *field == "" {
			*field = value
		}
	}
	if e.Name != "" {
		setDefault(&e.Cluster.Label, "platform-"+e.Name)
		setDefault(&e.Network.Firewall.Label, "platform-"+e.Name)
		if e.Network.VPC != nil {
			setDefault(&e.Network.VPC.Label, "platform-"+e.Name)
		}
		setDefault(&e.GitOps.Path, "environments/"+e.Name)
	}
	setDefault(&e.Cluster.Tier, DefaultTier)
	setDefault(&e.Network.Firewall.InboundPolicy, "DROP")
	setDefault(&e.Network.Firewall.OutboundPolicy, "ACCEPT")
	for i := range e.DataServices {
		ds := &e.DataServices[i]
		if ds.Port != 0 {
			continue
		}
		switch ds.Kind {
		case "postgresql":
			ds.Port = DefaultPostgreSQLPort
		case "redis":
			ds.Port = DefaultRedisPort
		}
	}
	setDefault(&e.Ingress.Namespace, "ingress-nginx")
	setDefault(&e.Ingress.ClassName, "nginx")
	if e.Ingress.Replicas == 0 {
		e.Ingress.Replicas = 2
	}
	setDefault(&e.Observability.Namespace, "monitoring")
	setDefault(&e.Secrets.Namespace, "kube-system")
	setDefault(&e.GitOps.Revision, "main")
	setDefault(&e.GitOps.BaselineOwner, OwnerSDK)
}

// WithDefaults returns a copy of e with ApplyDefaults applied. ApplyDefaults
// writes through the DataServices slice and the VPC pointer, so those are
// copied first: e, which may be shared with other goroutines, is never
// written.
func (e Environment) WithDefaults() Environment {
	e.DataServices = slices.Clone(e.DataServices)
	if e.Network.VPC != nil {
		v := *e.Network.VPC
		v.Subnets = slices.Clone(v.Subnets)
		e.Network.VPC = &v
	}
	e.Cluster.NodePools = slices.Clone(e.Cluster.NodePools)
	e.ApplyDefaults()
	return e
}
