package network

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/mattfenwick/cyclonus/pkg/matcher"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/org/platform/pkg/spec"
)

// The truth table evaluates NetworkPolicies over a small world of pods and
// addresses that stands for an environment: for every source and every
// destination (a pod or an address on one port), whether the policies
// allow the flow. cyclonus' matcher, which follows the NetworkPolicy
// specification (and is checked against real CNIs by cyclonus' own
// conformance runs), decides each cell. The zero-trust tests compare the
// table with the intended flows, and Posture compares the table of the
// live policies with that of the rendered ones.

// peer is one end of a flow: a pod (namespace and labels) or an address
// outside the cluster; as a destination, on one port.
type peer struct {
	name      string // "apps/svc", "monitoring/loki tcp/3100", "internet 8.8.8.8:443"
	namespace string // "" outside the cluster
	labels    map[string]string
	ip        string
	port      int
	protocol  corev1.Protocol
}

func (p peer) internal() bool { return p.namespace != "" }

// world lists the sources and destinations of env's truth table.
type world struct {
	sources, dests []peer
}

// svcLabels label the stand-in application pod of every namespace.
var svcLabels = map[string]string{"app": "svc"}

// Addresses of the world outside the pod network.
const (
	worldInternet  = "8.8.8.8"
	worldAPIServer = "192.168.128.1" // in apiServerCIDR
	worldNode      = "192.168.128.20"
)

// newWorld returns the cast of env's truth table: a stand-in pod (app=svc)
// in every namespace that matters (two in application namespaces, so that
// traffic within one shows) (the spec's, platform-system, each
// platform namespace, kube-system and an unmanaged one), each platform
// component's pods, kube-dns, the API server and a node, the internet on
// the ports the platform uses, and each data service on its port and on
// the wrong one. Each component is a destination on the port it serves
// and on a neighbouring one.
func newWorld(env spec.Environment) *world {
	w := &world{}
	ip := 0
	pod := func(ns, role string, labels map[string]string, ports ...string) {
		ip++
		addr := fmt.Sprintf("10.2.%d.%d", ip/200, ip%200+10)
		name := ns + "/" + role
		w.sources = append(w.sources, peer{name: name, namespace: ns, labels: labels, ip: addr})
		for _, p := range ports {
			proto, n := parsePort(p)
			w.dests = append(w.dests, peer{name: name + " " + p, namespace: ns, labels: labels, ip: addr, port: n, protocol: proto})
		}
	}
	for _, ns := range applicationNamespaces(env) {
		pod(ns, "svc", svcLabels, "tcp/8080")
		pod(ns, "worker", map[string]string{"app": "worker"}, "tcp/9000")
	}
	for _, ns := range platformNamespaces(env) {
		switch ns {
		case env.Observability.Namespace:
			pod(ns, "prometheus", podPrometheus, "tcp/9090")
			pod(ns, "alertmanager", podAlertmanager, "tcp/9093", "tcp/9094")
			pod(ns, "grafana", podGrafana, "tcp/3000")
			pod(ns, "loki", podLoki, "tcp/3100", "tcp/9095")
			pod(ns, "collector", podCollector, "tcp/4317", "tcp/4318", "tcp/8888")
		case env.Ingress.Namespace:
			pod(ns, "controller", podIngress, "tcp/80", "tcp/443", "tcp/8443", "tcp/10254")
		case CertManagerNamespace:
			pod(ns, "controller", podCertManager, "tcp/9402")
			pod(ns, "webhook", podCertWebhook, "tcp/10250", "tcp/6080")
		case ArgoCDNamespace:
			pod(ns, "repo-server", podArgoRepo, "tcp/8081")
			pod(ns, "application-controller", podArgoCtrl, "tcp/8082")
			pod(ns, "server", podArgoServer, "tcp/8080")
		}
		pod(ns, "svc", svcLabels, "tcp/8080")
	}
	pod("default", "svc", svcLabels, "tcp/8080")
	pod(dnsNamespace, "kube-dns", map[string]string{dnsPodLabel: dnsPodValue}, "udp/53", "tcp/53", "tcp/8080")
	pod(dnsNamespace, "metrics-server", map[string]string{"k8s-app": "metrics-server"}, "tcp/53")
	if env.Secrets.SealedSecrets {
		pod(env.Secrets.Namespace, "sealed-secrets", podSealed, "tcp/8080", "tcp/8081", "tcp/9999")
	}
	external := func(name, addr string, ports ...int) {
		w.sources = append(w.sources, peer{name: name, ip: addr})
		for _, p := range ports {
			w.dests = append(w.dests, peer{name: fmt.Sprintf("%s %s:%d", name, addr, p), ip: addr, port: p, protocol: corev1.ProtocolTCP})
		}
	}
	external("internet", worldInternet, 22, 80, 443, 6443, 8080)
	external("apiserver", worldAPIServer, 443, 6443)
	external("node", worldNode, 10250, 9100, 22)
	for _, ds := range env.DataServices {
		if len(ds.CIDRs) == 0 {
			continue
		}
		addr := hostIn(ds.CIDRs[0])
		w.dests = append(w.dests,
			peer{name: fmt.Sprintf("%s %s:%d", ds.Name, addr, ds.Port), ip: addr, port: ds.Port, protocol: corev1.ProtocolTCP},
			peer{name: fmt.Sprintf("%s %s:%d", ds.Name, addr, 22), ip: addr, port: 22, protocol: corev1.ProtocolTCP})
	}
	w.dests = append(w.dests, peer{name: "undeclared-db 10.99.0.10:5432", ip: "10.99.0.10", port: 5432, protocol: corev1.ProtocolTCP})
	return w
}

func parsePort(s string) (corev1.Protocol, int) {
	proto, n, _ := strings.Cut(s, "/")
	var port int
	fmt.Sscan(n, &port)
	return corev1.Protocol(strings.ToUpper(proto)), port
}

// hostIn returns the tenth address of a CIDR.
func hostIn(cidr string) string {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return "0.0.0.0"
	}
	a := p.Masked().Addr()
	for range 10 {
		a = a.Next()
	}
	return a.String()
}

// extend adds to the world what a policy names that the world may lack:
// a pod carrying the labels of its pod selector (and of each peer's pod
// selector, in the namespace that peer names or the policy's own), each
// port number it names on those pods and on the internet, and an address
// in each of its ipBlocks. So a policy that opens an odd port, to pods of
// an odd label, or to an odd network still shows in the table.
func (w *world) extend(np *networkingv1.NetworkPolicy) {
	have := map[string]bool{}
	for _, p := range w.sources {
		have[p.name] = true
	}
	for _, p := range w.dests {
		have[p.name] = true
	}
	var ports []int
	addPorts := func(pp []networkingv1.NetworkPolicyPort) {
		for _, p := range pp {
			if p.Port != nil && p.Port.IntValue() > 0 {
				ports = append(ports, p.Port.IntValue())
			}
		}
	}
	var selectors []struct {
		ns     string
		labels map[string]string
	}
	addPeer := func(peers []networkingv1.NetworkPolicyPeer) {
		for _, p := range peers {
			if p.IPBlock != nil {
				addr := hostIn(p.IPBlock.CIDR)
				name := "address " + addr
				if !have[name] {
					have[name] = true
					w.sources = append(w.sources, peer{name: name, ip: addr})
				}
			}
			if p.PodSelector != nil && len(p.PodSelector.MatchLabels) > 0 {
				ns := np.Namespace
				if p.NamespaceSelector != nil {
					ns = p.NamespaceSelector.MatchLabels[namespaceNameLabel]
				}
				if ns != "" {
					selectors = append(selectors, struct {
						ns     string
						labels map[string]string
					}{ns, p.PodSelector.MatchLabels})
				}
			}
		}
	}
	for _, r := range np.Spec.Ingress {
		addPorts(r.Ports)
		addPeer(r.From)
	}
	for _, r := range np.Spec.Egress {
		addPorts(r.Ports)
		addPeer(r.To)
	}
	if l := np.Spec.PodSelector.MatchLabels; len(l) > 0 {
		selectors = append(selectors, struct {
			ns     string
			labels map[string]string
		}{np.Namespace, l})
	}
	slices.Sort(ports)
	ports = slices.Compact(ports)
	ip := 0
	for _, s := range selectors {
		name := s.ns + "/" + labelString(s.labels)
		if have[name] {
			continue
		}
		have[name] = true
		ip++
		addr := fmt.Sprintf("10.2.250.%d", ip)
		w.sources = append(w.sources, peer{name: name, namespace: s.ns, labels: s.labels, ip: addr})
		for _, port := range append([]int{8080}, ports...) {
			w.dests = append(w.dests, peer{name: fmt.Sprintf("%s tcp/%d", name, port), namespace: s.ns, labels: s.labels, ip: addr, port: port, protocol: corev1.ProtocolTCP})
		}
	}
	// Every pod of the policy's namespace on the ports it names.
	for _, d := range slices.Clone(w.dests) {
		if d.namespace != np.Namespace || d.port != 8080 {
			continue
		}
		base, _, _ := strings.Cut(d.name, " ")
		for _, port := range ports {
			name := fmt.Sprintf("%s tcp/%d", base, port)
			if !have[name] {
				have[name] = true
				d := d
				d.name, d.port, d.protocol = name, port, corev1.ProtocolTCP
				w.dests = append(w.dests, d)
			}
		}
	}
	for _, r := range np.Spec.Egress {
		for _, p := range r.To {
			if p.IPBlock == nil {
				continue
			}
			addr := hostIn(p.IPBlock.CIDR)
			for _, port := range append([]int{443}, ports...) {
				name := fmt.Sprintf("address %s:%d", addr, port)
				if !have[name] {
					have[name] = true
					w.dests = append(w.dests, peer{name: name, ip: addr, port: port, protocol: corev1.ProtocolTCP})
				}
			}
		}
	}
}

func labelString(l map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(l)) {
		parts = append(parts, k+"="+l[k])
	}
	return strings.Join(parts, ",")
}

// truthTable holds, for each source and destination of a world, whether
// the flow is allowed.
type truthTable struct {
	world   *world
	allowed [][]bool // [source][destination]
}

// evaluate computes the truth table of policies over w. nsLabels gives a
// namespace's labels; kubernetes.io/metadata.name is added to them, as the
// API server does.
func evaluate(w *world, policies []*networkingv1.NetworkPolicy, nsLabels func(ns string) map[string]string) truthTable {
	pol := matcher.BuildNetworkPolicies(false, policies)
	labelsOf := map[string]map[string]string{}
	nsl := func(ns string) map[string]string {
		if l, ok := labelsOf[ns]; ok {
			return l
		}
		l := map[string]string{}
		if nsLabels != nil {
			maps.Copy(l, nsLabels(ns))
		}
		l[namespaceNameLabel] = ns
		labelsOf[ns] = l
		return l
	}
	tp := func(p peer) *matcher.TrafficPeer {
		if !p.internal() {
			return &matcher.TrafficPeer{IP: p.ip}
		}
		return &matcher.TrafficPeer{IP: p.ip, Internal: &matcher.InternalPeer{PodLabels: p.labels, NamespaceLabels: nsl(p.namespace), Namespace: p.namespace}}
	}
	t := truthTable{world: w, allowed: make([][]bool, len(w.sources))}
	for i, src := range w.sources {
		t.allowed[i] = make([]bool, len(w.dests))
		for j, dst := range w.dests {
			if src.ip == dst.ip {
				continue // a pod to itself never crosses a policy; leave it out
			}
			t.allowed[i][j] = pol.IsTrafficAllowed(&matcher.Traffic{
				Source: tp(src), Destination: tp(dst), ResolvedPort: dst.port, Protocol: dst.protocol,
			}).IsAllowed()
		}
	}
	return t
}

// flow names one cell: "apps/svc → monitoring/collector tcp/4317".
func flow(src, dst peer) string { return src.name + " → " + dst.name }

// flows lists the allowed cells, in the world's order.
func (t truthTable) flows() []string {
	var out []string
	for i, src := range t.world.sources {
		for j, dst := range t.world.dests {
			if t.allowed[i][j] {
				out = append(out, flow(src, dst))
			}
		}
	}
	return out
}

// String renders the allowed flows per source, for a golden file: every
// cell not listed is denied.
func (t truthTable) String() string {
	var b strings.Builder
	for i, src := range t.world.sources {
		fmt.Fprintf(&b, "\nfrom %s:\n", src.name)
		n := 0
		for j, dst := range t.world.dests {
			if t.allowed[i][j] {
				fmt.Fprintf(&b, "  ✓ %s\n", dst.name)
				n++
			}
		}
		if n == 0 {
			b.WriteString("  (nothing)\n")
		}
	}
	return b.String()
}

// renderedPolicies returns the NetworkPolicies env's baseline renders, as
// the API objects they become.
func renderedPolicies(env spec.Environment, o *options) ([]*networkingv1.NetworkPolicy, error) {
	var out []*networkingv1.NetworkPolicy
	for _, obj := range desiredObjects(env, o) {
		if obj.kind != kindNetworkPolicy {
			continue
		}
		b, err := json.Marshal(obj.ac)
		if err != nil {
			return nil, fmt.Errorf("encode NetworkPolicy %s: %w", obj.id(), err)
		}
		np := &networkingv1.NetworkPolicy{}
		if err := json.Unmarshal(b, np); err != nil {
			return nil, fmt.Errorf("decode NetworkPolicy %s: %w", obj.id(), err)
		}
		out = append(out, np)
	}
	return out, nil
}
