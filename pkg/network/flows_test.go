package network_test

import (
	"context"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mattfenwick/cyclonus/pkg/matcher"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/org/platform/pkg/network"
	"github.com/org/platform/pkg/spec"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (run go test -update after checking the change):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// peer is one end of a flow in the truth table: a pod (namespace and
// labels) or an address outside the cluster.
type peer struct {
	name      string // column or row heading
	namespace string // "" for an address outside the cluster
	labels    map[string]string
	ip        string
	port      int
	protocol  corev1.Protocol
}

// flowWorld is the cast of the truth table for one environment: a pod in
// every namespace that matters (the spec's, platform-system, the ingress
// controller's, the monitoring stack's, an unmanaged one), kube-dns and
// another kube-system pod, and addresses outside: the internet, each data
// service on its port and on the wrong one, and a database nobody declared.
func flowWorld(env spec.Environment) (sources, dests []peer) {
	app := map[string]string{"app": "svc"}
	namespaces := []string{}
	for _, ns := range env.Namespaces {
		namespaces = append(namespaces, ns.Name)
	}
	namespaces = append(namespaces, network.SystemNamespace, env.Ingress.Namespace, env.Observability.Namespace, "default")
	for i, ns := range namespaces {
		p := peer{name: ns, namespace: ns, labels: app, ip: fmt.Sprintf("10.244.%d.10", i+1), port: 8080, protocol: corev1.ProtocolTCP}
		sources = append(sources, p)
		dests = append(dests, p)
	}
	dns := map[string]string{"k8s-app": "kube-dns"}
	dests = append(dests,
		peer{name: "kube-dns udp/53", namespace: "kube-system", labels: dns, ip: "10.244.100.2", port: 53, protocol: corev1.ProtocolUDP},
		peer{name: "kube-dns tcp/53", namespace: "kube-system", labels: dns, ip: "10.244.100.2", port: 53, protocol: corev1.ProtocolTCP},
		peer{name: "kube-dns tcp/8080", namespace: "kube-system", labels: dns, ip: "10.244.100.2", port: 8080, protocol: corev1.ProtocolTCP},
		peer{name: "kube-system other tcp/53", namespace: "kube-system", labels: map[string]string{"k8s-app": "metrics-server"}, ip: "10.244.100.3", port: 53, protocol: corev1.ProtocolTCP},
		peer{name: "internet 8.8.8.8:443", ip: "8.8.8.8", port: 443, protocol: corev1.ProtocolTCP},
	)
	for _, ds := range env.DataServices {
		ip := hostIn(ds.CIDRs[0])
		dests = append(dests,
			peer{name: fmt.Sprintf("%s %s:%d", ds.Name, ip, ds.Port), ip: ip, port: ds.Port, protocol: corev1.ProtocolTCP},
			peer{name: fmt.Sprintf("%s %s:%d", ds.Name, ip, 22), ip: ip, port: 22, protocol: corev1.ProtocolTCP})
	}
	dests = append(dests, peer{name: "undeclared db 10.99.0.10:5432", ip: "10.99.0.10", port: 5432, protocol: corev1.ProtocolTCP})
	return sources, dests
}

// hostIn returns the tenth address of a CIDR.
func hostIn(cidr string) string {
	a := netip.MustParsePrefix(cidr).Addr()
	for range 10 {
		a = a.Next()
	}
	return a.String()
}

// intendedFlow says, from the spec alone, whether a flow is meant to be
// allowed: the brief of the zero-trust baseline written as code.
func intendedFlow(env spec.Environment, src, dst peer) bool {
	owned := map[string]*spec.Namespace{network.SystemNamespace: {Name: network.SystemNamespace}}
	for i := range env.Namespaces {
		owned[env.Namespaces[i].Name] = &env.Namespaces[i]
	}
	from := owned[src.namespace]
	if dst.namespace == "" { // outside the cluster: egress only
		if from == nil {
			return true // not ours: no policy
		}
		for _, name := range from.DataServices {
			for _, ds := range env.DataServices {
				if ds.Name != name || ds.Port != dst.port {
					continue
				}
				for _, c := range ds.CIDRs {
					if netip.MustParsePrefix(c).Contains(netip.MustParseAddr(dst.ip)) {
						return true
					}
				}
			}
		}
		return false
	}
	isDNS := dst.namespace == "kube-system" && dst.labels["k8s-app"] == "kube-dns" && dst.port == 53
	egress := from == nil || src.namespace == dst.namespace || isDNS
	to := owned[dst.namespace]
	ingress := to == nil || src.namespace == dst.namespace ||
		(env.Observability.Enabled && src.namespace == env.Observability.Namespace) ||
		(env.Ingress.Enabled && src.namespace == env.Ingress.Namespace && to.Ingress)
	return egress && ingress
}

// flowTable reads the NetworkPolicies and namespaces back from the API
// server and evaluates every flow of the world with cyclonus' matcher. It
// returns the table rendered for a golden file and the cells where the
// computed answer differs from intendedFlow.
func flowTable(ctx context.Context, t *testing.T, api kubernetes.Interface, env spec.Environment) (string, []string) {
	t.Helper()
	list, err := api.NetworkingV1().NetworkPolicies("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list NetworkPolicies: %v", err)
	}
	var policies []*networkingv1.NetworkPolicy
	for i := range list.Items {
		policies = append(policies, &list.Items[i])
	}
	if len(policies) == 0 {
		t.Fatal("no NetworkPolicies to evaluate")
	}
	pol := matcher.BuildNetworkPolicies(false, policies)

	nsLabels := func(name string) map[string]string {
		l := map[string]string{}
		ns, err := api.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
		switch {
		case err == nil:
			for k, v := range ns.Labels {
				l[k] = v
			}
		case !apierrors.IsNotFound(err):
			t.Fatalf("get namespace %s: %v", name, err)
		}
		// The API server sets this label on every namespace (a fake
		// clientset does not).
		l["kubernetes.io/metadata.name"] = name
		return l
	}
	trafficPeer := func(p peer) *matcher.TrafficPeer {
		if p.namespace == "" {
			return &matcher.TrafficPeer{IP: p.ip}
		}
		return &matcher.TrafficPeer{IP: p.ip, Internal: &matcher.InternalPeer{
			PodLabels: p.labels, NamespaceLabels: nsLabels(p.namespace), Namespace: p.namespace}}
	}

	sources, dests := flowWorld(env)
	var b strings.Builder
	fmt.Fprintf(&b, "# Allowed flows in environment %q, computed by cyclonus from the NetworkPolicies read back.\n", env.Name)
	fmt.Fprintf(&b, "# Rows are sources (a pod app=svc in each namespace); ✓ allowed, · denied.\n")
	width := 0
	for _, d := range dests {
		width = max(width, len(d.name))
	}
	for _, src := range sources {
		fmt.Fprintf(&b, "\nfrom %s:\n", src.name)
		for _, dst := range dests {
			res := pol.IsTrafficAllowed(&matcher.Traffic{
				Source: trafficPeer(src), Destination: trafficPeer(dst),
				ResolvedPort: dst.port, Protocol: dst.protocol,
			})
			mark := "·"
			if res.IsAllowed() {
				mark = "✓"
			}
			fmt.Fprintf(&b, "  %-*s %s\n", width, dst.name, mark)
		}
	}
	var wrong []string
	for _, src := range sources {
		for _, dst := range dests {
			got := pol.IsTrafficAllowed(&matcher.Traffic{
				Source: trafficPeer(src), Destination: trafficPeer(dst),
				ResolvedPort: dst.port, Protocol: dst.protocol,
			}).IsAllowed()
			if want := intendedFlow(env, src, dst); got != want {
				wrong = append(wrong, fmt.Sprintf("%s → %s: allowed %t, intended %t", src.name, dst.name, got, want))
			}
		}
	}
	return b.String(), wrong
}

// mustAllow and mustDeny pin the flows the brief names, so that a mistake
// shared by intendedFlow and the policies cannot pass unnoticed.
func pinnedFlows(env spec.Environment) (allow, deny [][2]string) {
	pg, rd := env.DataServices[0], env.DataServices[1]
	pgName := fmt.Sprintf("%s %s:%d", pg.Name, hostIn(pg.CIDRs[0]), pg.Port)
	rdName := fmt.Sprintf("%s %s:%d", rd.Name, hostIn(rd.CIDRs[0]), rd.Port)
	allow = [][2]string{
		{"apps", "kube-dns udp/53"}, {"apps", "kube-dns tcp/53"}, {"jobs", "kube-dns udp/53"},
		{"apps", pgName}, {"apps", rdName}, {"jobs", pgName},
		{"monitoring", "apps"}, {"monitoring", "jobs"}, {"monitoring", network.SystemNamespace},
		{"ingress-nginx", "apps"}, {"apps", "apps"},
	}
	deny = [][2]string{
		{"apps", "jobs"}, {"jobs", "apps"}, {"apps", network.SystemNamespace},
		{"apps", "internet 8.8.8.8:443"}, {"jobs", "internet 8.8.8.8:443"},
		{"apps", "undeclared db 10.99.0.10:5432"}, {"jobs", rdName},
		{"apps", fmt.Sprintf("%s %s:22", pg.Name, hostIn(pg.CIDRs[0]))},
		{"ingress-nginx", "jobs"}, {"default", "apps"},
		{"apps", "kube-system other tcp/53"}, {"apps", "kube-dns tcp/8080"},
		{"apps", "monitoring"}, {"apps", "ingress-nginx"}, {"apps", "default"},
	}
	return allow, deny
}

// checkPinned looks the pinned flows up in the rendered table.
func checkPinned(t *testing.T, env spec.Environment, table string) {
	t.Helper()
	cells := map[[2]string]string{}
	var from string
	for _, line := range strings.Split(table, "\n") {
		if f, ok := strings.CutPrefix(line, "from "); ok {
			from = strings.TrimSuffix(f, ":")
			continue
		}
		if strings.HasPrefix(line, "  ") {
			l := strings.TrimSpace(line)
			mark := l[strings.LastIndex(l, " ")+1:]
			cells[[2]string{from, strings.TrimSpace(strings.TrimSuffix(l, mark))}] = mark
		}
	}
	allow, deny := pinnedFlows(env)
	for _, f := range allow {
		if cells[f] != "✓" {
			t.Errorf("%s → %s: want allowed, table says %q", f[0], f[1], cells[f])
		}
	}
	for _, f := range deny {
		if cells[f] != "·" {
			t.Errorf("%s → %s: want denied, table says %q", f[0], f[1], cells[f])
		}
	}
}
