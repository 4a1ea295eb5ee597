package network

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	networkingv1ac "k8s.io/client-go/applyconfigurations/networking/v1"

	"github.com/org/platform/pkg/spec"
)

// The namespaces of the platform's own components that this package
// isolates besides the spec's (observability.namespace and
// ingress.namespace come from the spec).
const (
	// CertManagerNamespace is where cert-manager runs when ingress is
	// enabled.
	CertManagerNamespace = "cert-manager"
	// ArgoCDNamespace is where Argo CD runs, in the system environment only.
	ArgoCDNamespace = "argocd"
)

// The NetworkPolicies of the platform's components (see the package
// documentation's table of platform flows).
const (
	PolicyAllowOTLP             = "allow-otlp"
	PolicyAllowAPIServer        = "allow-kube-apiserver"
	PolicyAllowWithinNamespace  = "allow-egress-within-namespace"
	PolicyAllowPrometheus       = "allow-prometheus-egress"
	PolicyAllowOTLPReceive      = "allow-otlp-receive"
	PolicyAllowLoki             = "allow-loki"
	PolicyAllowPrometheusQuery  = "allow-prometheus-query"
	PolicyAllowAlertmanager     = "allow-alertmanager"
	PolicyAllowAlertNotify      = "allow-alert-notifications"
	PolicyAllowEdge             = "allow-edge"
	PolicyAllowToApplications   = "allow-to-applications"
	PolicyAllowAdmissionWebhook = "allow-admission-webhook"
	PolicyAllowACME             = "allow-acme"
	PolicyAllowGit              = "allow-git"
	PolicyAllowClusters         = "allow-cluster-apis"
	PolicyAllowSealedSecrets    = "allow-sealed-secrets-controller"
)

// The pod labels the upstream charts put on the platform's components, as
// pinned in pkg/observability and the charts of /work/shared/charts (each
// app.kubernetes.io/name is the chart's name helper, or the operator's
// fixed label for Prometheus and Alertmanager pods).
var (
	podPrometheus   = map[string]string{"app.kubernetes.io/name": "prometheus"}   // prometheus-operator
	podAlertmanager = map[string]string{"app.kubernetes.io/name": "alertmanager"} // prometheus-operator
	podGrafana      = map[string]string{"app.kubernetes.io/name": "grafana"}      // grafana chart
	podLoki         = map[string]string{"app.kubernetes.io/name": "loki"}         // loki chart
	podCollector    = map[string]string{"app.kubernetes.io/name": "opentelemetry-collector"}
	podIngress      = map[string]string{"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "controller"}
	podCertManager  = map[string]string{"app.kubernetes.io/name": "cert-manager", "app.kubernetes.io/component": "controller"}
	podCertWebhook  = map[string]string{"app.kubernetes.io/name": "webhook", "app.kubernetes.io/component": "webhook"}
	podSealed       = map[string]string{"app.kubernetes.io/name": "sealed-secrets"}
	podArgoRepo     = map[string]string{"app.kubernetes.io/name": "argocd-repo-server"}
	podArgoCtrl     = map[string]string{"app.kubernetes.io/name": "argocd-application-controller"}
	podArgoServer   = map[string]string{"app.kubernetes.io/name": "argocd-server"}
)

// Ports of the platform flows.
const (
	portOTLPGRPC       = 4317
	portOTLPHTTP       = 4318
	portLoki           = 3100
	portPrometheus     = 9090
	portAlertmanager   = 9093
	portKubelet        = 10250
	portNodeExporter   = 9100
	portSealedSecrets  = 8080
	portIngressWebhook = 8443
	portCertWebhook    = 10250
)

// apiServerCIDR is where the Kubernetes API server is seen from pods, in
// both directions. LKE runs the control plane outside the cluster: it
// reaches pods (webhooks, the service proxy kubeseal uses) through
// konnectivity agents on the nodes, so its requests arrive from the nodes'
// private range, and pods reach it through the kubernetes Service, whose
// endpoint is on that range too. A NetworkPolicy cannot name the API
// server any closer than that.
var apiServerCIDR = spec.LKENodeCIDR

// internetExcept are the private ranges "the internet" leaves out: the
// pod, Service, node and VPC networks all lie in them, so an egress rule to
// the internet never reaches inside the cluster or the data services.
var internetExcept = []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"}

// platformNamespaces returns the namespaces of the platform's components
// this package owns, with default-deny: the observability and ingress
// namespaces when enabled, cert-manager with ingress, argocd in the system
// environment. kube-system is not among them: LKE runs CoreDNS, Calico,
// konnectivity and the CSI driver there and reconciles them itself, and a
// default-deny would cut cluster DNS and networking; the sealed-secrets
// controller, which runs there by default, gets one policy selecting its
// pods only (sealedSecretsPolicy).
func platformNamespaces(env spec.Environment) []string {
	var out []string
	if env.Observability.Enabled {
		out = append(out, env.Observability.Namespace)
	}
	if env.Ingress.Enabled {
		out = append(out, env.Ingress.Namespace, CertManagerNamespace)
	}
	if env.Name == spec.System {
		out = append(out, ArgoCDNamespace)
	}
	return out
}

// applicationNamespaces are the namespaces of applications: the spec's and
// platform-system.
func applicationNamespaces(env spec.Environment) []string {
	out := []string{SystemNamespace}
	for _, ns := range env.Namespaces {
		out = append(out, ns.Name)
	}
	return out
}

// Building blocks of the policies.

func selectAll() *metav1ac.LabelSelectorApplyConfiguration { return metav1ac.LabelSelector() }

func selectPods(l map[string]string) *metav1ac.LabelSelectorApplyConfiguration {
	return metav1ac.LabelSelector().WithMatchLabels(l)
}

func selectNamespace(name string) *metav1ac.LabelSelectorApplyConfiguration {
	return metav1ac.LabelSelector().WithMatchLabels(map[string]string{namespaceNameLabel: name})
}

func selectNamespaces(names []string) *metav1ac.LabelSelectorApplyConfiguration {
	return metav1ac.LabelSelector().WithMatchExpressions(metav1ac.LabelSelectorRequirement().
		WithKey(namespaceNameLabel).WithOperator("In").WithValues(names...))
}

func tcp(ports ...int) []*networkingv1ac.NetworkPolicyPortApplyConfiguration {
	out := make([]*networkingv1ac.NetworkPolicyPortApplyConfiguration, len(ports))
	for i, p := range ports {
		out[i] = networkingv1ac.NetworkPolicyPort().WithProtocol(corev1.ProtocolTCP).WithPort(intstr.FromInt32(int32(p)))
	}
	return out
}

// anyTCP is every TCP port: a port entry with a protocol and no number.
func anyTCP() *networkingv1ac.NetworkPolicyPortApplyConfiguration {
	return networkingv1ac.NetworkPolicyPort().WithProtocol(corev1.ProtocolTCP)
}

func podsIn(ns string, pods map[string]string) *networkingv1ac.NetworkPolicyPeerApplyConfiguration {
	return networkingv1ac.NetworkPolicyPeer().WithNamespaceSelector(selectNamespace(ns)).WithPodSelector(selectPods(pods))
}

func cidrPeer(cidr string, except ...string) *networkingv1ac.NetworkPolicyPeerApplyConfiguration {
	b := networkingv1ac.IPBlock().WithCIDR(cidr)
	if len(except) > 0 {
		b.WithExcept(except...)
	}
	return networkingv1ac.NetworkPolicyPeer().WithIPBlock(b)
}

func internet() *networkingv1ac.NetworkPolicyPeerApplyConfiguration {
	return cidrPeer("0.0.0.0/0", internetExcept...)
}

func newPolicy(ns, name string, pods *metav1ac.LabelSelectorApplyConfiguration, types ...networkingv1.PolicyType) *networkingv1ac.NetworkPolicyApplyConfiguration {
	return networkingv1ac.NetworkPolicy(name, ns).
		WithSpec(networkingv1ac.NetworkPolicySpec().WithPodSelector(pods).WithPolicyTypes(types...))
}

func ingressFrom(peers []*networkingv1ac.NetworkPolicyPeerApplyConfiguration, ports ...*networkingv1ac.NetworkPolicyPortApplyConfiguration) *networkingv1ac.NetworkPolicyIngressRuleApplyConfiguration {
	r := networkingv1ac.NetworkPolicyIngressRule().WithFrom(peers...)
	if len(ports) > 0 {
		r.WithPorts(ports...)
	}
	return r
}

func egressTo(peers []*networkingv1ac.NetworkPolicyPeerApplyConfiguration, ports ...*networkingv1ac.NetworkPolicyPortApplyConfiguration) *networkingv1ac.NetworkPolicyEgressRuleApplyConfiguration {
	r := networkingv1ac.NetworkPolicyEgressRule().WithTo(peers...)
	if len(ports) > 0 {
		r.WithPorts(ports...)
	}
	return r
}

func peers(p ...*networkingv1ac.NetworkPolicyPeerApplyConfiguration) []*networkingv1ac.NetworkPolicyPeerApplyConfiguration {
	return p
}

// dnsPolicy lets every pod of ns ask kube-dns.
func dnsPolicy(ns string) *networkingv1ac.NetworkPolicyApplyConfiguration {
	p := newPolicy(ns, PolicyAllowDNS, selectAll(), networkingv1.PolicyTypeEgress)
	p.Spec.WithEgress(networkingv1ac.NetworkPolicyEgressRule().
		WithTo(podsIn(dnsNamespace, map[string]string{dnsPodLabel: dnsPodValue})).
		WithPorts(networkingv1ac.NetworkPolicyPort().WithProtocol(corev1.ProtocolUDP).WithPort(intstr.FromInt32(53)),
			networkingv1ac.NetworkPolicyPort().WithProtocol(corev1.ProtocolTCP).WithPort(intstr.FromInt32(53))))
	return p
}

// scrapePolicy lets Prometheus reach every pod of ns on any TCP port: its
// targets are whatever ServiceMonitors and PodMonitors name, on ports of
// any number or name, so the port cannot be pinned; the source is pinned to
// Prometheus' own pods instead (not the whole observability namespace).
func scrapePolicy(env spec.Environment, ns string) *networkingv1ac.NetworkPolicyApplyConfiguration {
	p := newPolicy(ns, PolicyAllowMonitoring, selectAll(), networkingv1.PolicyTypeIngress)
	p.Spec.WithIngress(ingressFrom(peers(podsIn(env.Observability.Namespace, podPrometheus)), anyTCP()))
	return p
}

// otlpPolicy lets every pod of an application namespace send telemetry to
// the Collector's OTLP ports.
func otlpPolicy(env spec.Environment, ns string) *networkingv1ac.NetworkPolicyApplyConfiguration {
	p := newPolicy(ns, PolicyAllowOTLP, selectAll(), networkingv1.PolicyTypeEgress)
	p.Spec.WithEgress(egressTo(peers(podsIn(env.Observability.Namespace, podCollector)), tcp(portOTLPGRPC, portOTLPHTTP)...))
	return p
}

// apiServerPolicy lets every pod of a platform namespace reach the
// Kubernetes API: nearly every component there watches it (the Prometheus
// operator, Prometheus' service discovery, kube-state-metrics, Grafana's
// sidecars, the Collector's k8sattributes processor, cert-manager, the
// ingress controller, Argo CD); RBAC, not the network, limits what each
// may do there.
func apiServerPolicy(ns string) *networkingv1ac.NetworkPolicyApplyConfiguration {
	p := newPolicy(ns, PolicyAllowAPIServer, selectAll(), networkingv1.PolicyTypeEgress)
	p.Spec.WithEgress(egressTo(peers(cidrPeer(apiServerCIDR)), tcp(443, 6443)...))
	return p
}

// platformPolicies returns the policies of one platform namespace, allows
// first and the default deny last.
func platformPolicies(env spec.Environment, ns string) []*networkingv1ac.NetworkPolicyApplyConfiguration {
	out := []*networkingv1ac.NetworkPolicyApplyConfiguration{dnsPolicy(ns), apiServerPolicy(ns)}
	if env.Observability.Enabled {
		out = append(out, scrapePolicy(env, ns))
	}
	apps := applicationNamespaces(env)
	switch ns {
	case env.Observability.Namespace:
		// Inside the stack every pod may send to every other, and each
		// destination's ingress policy below (or the scrape policy) says
		// who may reach it on which port.
		within := newPolicy(ns, PolicyAllowWithinNamespace, selectAll(), networkingv1.PolicyTypeEgress)
		within.Spec.WithEgress(egressTo(peers(networkingv1ac.NetworkPolicyPeer().WithPodSelector(selectAll()))))
		prom := newPolicy(ns, PolicyAllowPrometheus, selectPods(podPrometheus), networkingv1.PolicyTypeEgress)
		prom.Spec.WithEgress(
			// Scrape targets: pods anywhere; the target's namespace admits
			// Prometheus (scrapePolicy) or has no policy.
			egressTo(peers(networkingv1ac.NetworkPolicyPeer().WithNamespaceSelector(selectAll())), anyTCP()),
			// kubelet (cAdvisor) and node-exporter, on the nodes.
			egressTo(peers(cidrPeer(spec.LKENodeCIDR)), tcp(portKubelet, portNodeExporter)...))
		recv := newPolicy(ns, PolicyAllowOTLPReceive, selectPods(podCollector), networkingv1.PolicyTypeIngress)
		recv.Spec.WithIngress(ingressFrom(peers(networkingv1ac.NetworkPolicyPeer().WithNamespaceSelector(selectNamespaces(apps))),
			tcp(portOTLPGRPC, portOTLPHTTP)...))
		loki := newPolicy(ns, PolicyAllowLoki, selectPods(podLoki), networkingv1.PolicyTypeIngress)
		loki.Spec.WithIngress(ingressFrom(peers(
			networkingv1ac.NetworkPolicyPeer().WithPodSelector(selectPods(podCollector)),
			networkingv1ac.NetworkPolicyPeer().WithPodSelector(selectPods(podGrafana))), tcp(portLoki)...))
		query := newPolicy(ns, PolicyAllowPrometheusQuery, selectPods(podPrometheus), networkingv1.PolicyTypeIngress)
		query.Spec.WithIngress(ingressFrom(peers(networkingv1ac.NetworkPolicyPeer().WithPodSelector(selectPods(podGrafana))), tcp(portPrometheus)...))
		am := newPolicy(ns, PolicyAllowAlertmanager, selectPods(podAlertmanager), networkingv1.PolicyTypeIngress)
		am.Spec.WithIngress(ingressFrom(peers(
			networkingv1ac.NetworkPolicyPeer().WithPodSelector(selectPods(podLoki)),
			networkingv1ac.NetworkPolicyPeer().WithPodSelector(selectPods(podGrafana))), tcp(portAlertmanager)...))
		notify := newPolicy(ns, PolicyAllowAlertNotify, selectPods(podAlertmanager), networkingv1.PolicyTypeEgress)
		notify.Spec.WithEgress(egressTo(peers(internet()), tcp(443)...))
		out = append(out, within, prom, recv, loki, query, am, notify)
	case env.Ingress.Namespace:
		edge := newPolicy(ns, PolicyAllowEdge, selectPods(podIngress), networkingv1.PolicyTypeIngress)
		edge.Spec.WithIngress(
			// Clients arrive through a NodeBalancer and a NodePort, from any
			// address: this is the cluster's front door.
			ingressFrom(peers(cidrPeer("0.0.0.0/0")), tcp(80, 443)...),
			ingressFrom(peers(cidrPeer(apiServerCIDR)), tcp(portIngressWebhook)...))
		var targets []string
		for _, n := range env.Namespaces {
			if n.Ingress {
				targets = append(targets, n.Name)
			}
		}
		if len(targets) > 0 {
			to := newPolicy(ns, PolicyAllowToApplications, selectPods(podIngress), networkingv1.PolicyTypeEgress)
			to.Spec.WithEgress(egressTo(peers(networkingv1ac.NetworkPolicyPeer().WithNamespaceSelector(selectNamespaces(targets))), anyTCP()))
			out = append(out, to)
		}
		out = append(out, edge)
	case CertManagerNamespace:
		acme := newPolicy(ns, PolicyAllowACME, selectPods(podCertManager), networkingv1.PolicyTypeEgress)
		// 443: the ACME directory; 80: the HTTP-01 self-check, which fetches
		// the challenge from the domain's public address.
		acme.Spec.WithEgress(egressTo(peers(internet()), tcp(443, 80)...))
		hook := newPolicy(ns, PolicyAllowAdmissionWebhook, selectPods(podCertWebhook), networkingv1.PolicyTypeIngress)
		hook.Spec.WithIngress(ingressFrom(peers(cidrPeer(apiServerCIDR)), tcp(portCertWebhook)...))
		out = append(out, acme, hook)
	case ArgoCDNamespace:
		// Argo CD's parts (server, repo-server, application controller,
		// Redis, Dex, ApplicationSet and notifications controllers) call
		// each other on many ports: the namespace is one unit.
		same := newPolicy(ns, PolicyAllowSameNS, selectAll(), networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress)
		same.Spec.
			WithIngress(networkingv1ac.NetworkPolicyIngressRule().WithFrom(networkingv1ac.NetworkPolicyPeer().WithPodSelector(selectAll()))).
			WithEgress(networkingv1ac.NetworkPolicyEgressRule().WithTo(networkingv1ac.NetworkPolicyPeer().WithPodSelector(selectAll())))
		git := newPolicy(ns, PolicyAllowGit, selectPods(podArgoRepo), networkingv1.PolicyTypeEgress)
		git.Spec.WithEgress(egressTo(peers(internet()), tcp(443, 22)...))
		clusters := newPolicy(ns, PolicyAllowClusters, metav1ac.LabelSelector().WithMatchExpressions(
			metav1ac.LabelSelectorRequirement().WithKey("app.kubernetes.io/name").WithOperator("In").
				WithValues(podArgoCtrl["app.kubernetes.io/name"], podArgoServer["app.kubernetes.io/name"])),
			networkingv1.PolicyTypeEgress)
		// The other environments' LKE API endpoints are public addresses.
		clusters.Spec.WithEgress(egressTo(peers(internet()), tcp(443, 6443)...))
		out = append(out, same, git, clusters)
	}
	return append(out, newPolicy(ns, PolicyDefaultDeny, selectAll(), networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress))
}

// sealedSecretsPolicy isolates the sealed-secrets controller's pods, and
// only them, for ingress: the API server (kubeseal's service proxy) may
// reach its HTTP port, Prometheus its metrics. Its egress (the API server)
// is left open: its namespace, kube-system by default, is not ours to
// default-deny.
func sealedSecretsPolicy(env spec.Environment) *networkingv1ac.NetworkPolicyApplyConfiguration {
	p := newPolicy(env.Secrets.Namespace, PolicyAllowSealedSecrets, selectPods(podSealed), networkingv1.PolicyTypeIngress)
	p.Spec.WithIngress(ingressFrom(peers(cidrPeer(apiServerCIDR)), tcp(portSealedSecrets)...))
	if env.Observability.Enabled {
		p.Spec.WithIngress(ingressFrom(peers(podsIn(env.Observability.Namespace, podPrometheus)), anyTCP()))
	}
	return p
}

// ownedPolicyNamespaces lists every namespace this package writes
// NetworkPolicies in.
func ownedPolicyNamespaces(env spec.Environment) []string {
	out := append(applicationNamespaces(env), platformNamespaces(env)...)
	if env.Secrets.SealedSecrets && !slices.Contains(out, env.Secrets.Namespace) {
		out = append(out, env.Secrets.Namespace)
	}
	return out
}
