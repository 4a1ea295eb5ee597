package network_test

import (
	"context"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

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

// The pod labels of the platform's components, as the upstream charts set
// them (written out here rather than taken from the package, so that a
// wrong label in the package fails the table).
var (
	lPrometheus   = map[string]string{"app.kubernetes.io/name": "prometheus"}
	lAlertmanager = map[string]string{"app.kubernetes.io/name": "alertmanager"}
	lGrafana      = map[string]string{"app.kubernetes.io/name": "grafana"}
	lLoki         = map[string]string{"app.kubernetes.io/name": "loki"}
	lCollector    = map[string]string{"app.kubernetes.io/name": "opentelemetry-collector"}
	lIngress      = map[string]string{"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "controller"}
	lCertManager  = map[string]string{"app.kubernetes.io/name": "cert-manager", "app.kubernetes.io/component": "controller"}
	lCertWebhook  = map[string]string{"app.kubernetes.io/name": "webhook", "app.kubernetes.io/component": "webhook"}
	lSealed       = map[string]string{"app.kubernetes.io/name": "sealed-secrets"}
	lArgoRepo     = map[string]string{"app.kubernetes.io/name": "argocd-repo-server"}
	lArgoCtrl     = map[string]string{"app.kubernetes.io/name": "argocd-application-controller"}
	lArgoServer   = map[string]string{"app.kubernetes.io/name": "argocd-server"}
)

func is(labels, want map[string]string) bool {
	for k, v := range want {
		if labels[k] != v {
			return false
		}
	}
	return len(want) > 0
}

func inCIDR(cidr, ip string) bool {
	return netip.MustParsePrefix(cidr).Contains(netip.MustParseAddr(ip))
}

// public says whether an address is on the internet: outside the private
// ranges the pod, Service, node and VPC networks live in.
func public(ip string) bool {
	for _, c := range []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"} {
		if inCIDR(c, ip) {
			return false
		}
	}
	return true
}

// intendedFlow says, from the spec alone, whether a flow is meant to be
// allowed: the zero-trust baseline and the platform flows of the package
// documentation's table, written as code.
func intendedFlow(env spec.Environment, c network.Cell) bool {
	apps := map[string]*spec.Namespace{network.SystemNamespace: {Name: network.SystemNamespace}}
	for i := range env.Namespaces {
		apps[env.Namespaces[i].Name] = &env.Namespaces[i]
	}
	obs, ing := env.Observability.Namespace, env.Ingress.Namespace
	platform := map[string]bool{}
	if env.Observability.Enabled {
		platform[obs] = true
	}
	if env.Ingress.Enabled {
		platform[ing], platform[network.CertManagerNamespace] = true, true
	}
	if env.Name == spec.System {
		platform[network.ArgoCDNamespace] = true
	}
	tcp := c.ToProtocol == corev1.ProtocolTCP
	port := func(ports ...int) bool { return tcp && slices.Contains(ports, c.ToPort) }
	fromPrometheus := env.Observability.Enabled && c.FromNS == obs && is(c.FromLabels, lPrometheus)
	fromAPIServer := c.FromNS == "" && inCIDR(network.APIServerCIDR, c.FromIP)
	toInternet := c.ToNS == "" && public(c.ToIP)

	egress := func() bool {
		switch {
		case c.FromNS == "": // outside: no policy
			return true
		case apps[c.FromNS] == nil && !platform[c.FromNS]: // not ours
			return true
		case c.ToNS == "kube-system" && c.ToLabels["k8s-app"] == "kube-dns" && c.ToPort == 53:
			return true
		}
		if from := apps[c.FromNS]; from != nil {
			switch {
			case c.ToNS == c.FromNS:
				return true
			case env.Observability.Enabled && c.ToNS == obs && is(c.ToLabels, lCollector) && port(4317, 4318):
				return true
			case c.ToNS == "":
				for _, name := range from.DataServices {
					for _, ds := range env.DataServices {
						if ds.Name == name && port(ds.Port) && slices.ContainsFunc(ds.CIDRs, func(cidr string) bool { return inCIDR(cidr, c.ToIP) }) {
							return true
						}
					}
				}
			}
			return false
		}
		// A platform namespace.
		if c.ToNS == "" && inCIDR(network.APIServerCIDR, c.ToIP) && port(443, 6443) {
			return true
		}
		switch c.FromNS {
		case obs:
			switch {
			case c.ToNS == obs:
				return true
			case fromPrometheus && c.ToNS != "" && tcp:
				return true
			case fromPrometheus && c.ToNS == "" && inCIDR(spec.LKENodeCIDR, c.ToIP) && port(10250, 9100):
				return true
			case is(c.FromLabels, lAlertmanager) && toInternet && port(443):
				return true
			}
		case ing:
			to := apps[c.ToNS]
			return is(c.FromLabels, lIngress) && to != nil && to.Ingress && tcp
		case network.CertManagerNamespace:
			return is(c.FromLabels, lCertManager) && toInternet && port(443, 80)
		case network.ArgoCDNamespace:
			switch {
			case c.ToNS == network.ArgoCDNamespace:
				return true
			case is(c.FromLabels, lArgoRepo) && toInternet && port(443, 22):
				return true
			case (is(c.FromLabels, lArgoCtrl) || is(c.FromLabels, lArgoServer)) && toInternet && port(443, 6443):
				return true
			}
		}
		return false
	}
	ingress := func() bool {
		switch {
		case c.ToNS == "":
			return true
		case env.Secrets.SealedSecrets && c.ToNS == env.Secrets.Namespace && is(c.ToLabels, lSealed):
			return (fromAPIServer && port(8080)) || (fromPrometheus && tcp)
		case apps[c.ToNS] == nil && !platform[c.ToNS]:
			return true
		case c.FromNS == c.ToNS && apps[c.ToNS] != nil:
			return true
		case fromPrometheus && tcp:
			return true
		}
		if to := apps[c.ToNS]; to != nil {
			return env.Ingress.Enabled && to.Ingress && c.FromNS == ing && is(c.FromLabels, lIngress) && tcp
		}
		switch c.ToNS {
		case obs:
			switch {
			case is(c.ToLabels, lCollector):
				return apps[c.FromNS] != nil && port(4317, 4318)
			case is(c.ToLabels, lLoki):
				return c.FromNS == obs && (is(c.FromLabels, lCollector) || is(c.FromLabels, lGrafana)) && port(3100)
			case is(c.ToLabels, lPrometheus):
				return c.FromNS == obs && is(c.FromLabels, lGrafana) && port(9090)
			case is(c.ToLabels, lAlertmanager):
				return c.FromNS == obs && (is(c.FromLabels, lLoki) || is(c.FromLabels, lGrafana)) && port(9093)
			}
		case ing:
			return is(c.ToLabels, lIngress) && (port(80, 443) || (fromAPIServer && port(8443)))
		case network.CertManagerNamespace:
			return is(c.ToLabels, lCertWebhook) && fromAPIServer && port(10250)
		case network.ArgoCDNamespace:
			return c.FromNS == network.ArgoCDNamespace
		}
		return false
	}
	return egress() && ingress()
}

// flowTable reads the NetworkPolicies and namespaces back from the API
// server and evaluates every flow of the truth-table world with the
// package's own evaluation (cyclonus' matcher). It returns the table
// rendered for a golden file and the cells where the computed answer
// differs from intendedFlow.
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
	nsLabels := func(name string) map[string]string {
		ns, err := api.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
		switch {
		case err == nil:
			return ns.Labels
		case !apierrors.IsNotFound(err):
			t.Fatalf("get namespace %s: %v", name, err)
		}
		return nil
	}
	table, cells := network.FlowTable(env, policies, nsLabels)
	var b strings.Builder
	fmt.Fprintf(&b, "# Allowed flows in environment %q, computed by cyclonus from the NetworkPolicies read back.\n", env.Name)
	fmt.Fprintf(&b, "# Per source, every destination it may reach; every other cell is denied.\n")
	b.WriteString(table)
	var wrong []string
	for _, c := range cells {
		if want := intendedFlow(env, c); c.Allowed != want {
			wrong = append(wrong, fmt.Sprintf("%s → %s: allowed %t, intended %t", c.From, c.To, c.Allowed, want))
		}
	}
	return b.String(), wrong
}

// pinnedFlows names, cell by cell, the flows the brief asks for (allowed)
// and their neighbours — another port, another source namespace, another
// pod — (denied), so that a mistake shared by intendedFlow and the
// policies cannot pass unnoticed.
func pinnedFlows(env spec.Environment) (allow, deny [][2]string) {
	pg, rd := env.DataServices[0], env.DataServices[1]
	pgName := fmt.Sprintf("%s %s:%d", pg.Name, hostIn(pg.CIDRs[0]), pg.Port)
	rdName := fmt.Sprintf("%s %s:%d", rd.Name, hostIn(rd.CIDRs[0]), rd.Port)
	allow = [][2]string{
		// The zero-trust baseline.
		{"apps/svc", "kube-system/kube-dns udp/53"}, {"apps/svc", "kube-system/kube-dns tcp/53"}, {"jobs/svc", "kube-system/kube-dns udp/53"},
		{"apps/svc", pgName}, {"apps/svc", rdName}, {"jobs/svc", pgName},
		// Applications → the Collector's OTLP ports.
		{"apps/svc", "monitoring/collector tcp/4317"}, {"apps/svc", "monitoring/collector tcp/4318"},
		{"jobs/svc", "monitoring/collector tcp/4317"}, {network.SystemNamespace + "/svc", "monitoring/collector tcp/4318"},
		// Prometheus → its scrape targets.
		{"monitoring/prometheus", "apps/svc tcp/8080"}, {"monitoring/prometheus", "jobs/svc tcp/8080"},
		{"monitoring/prometheus", network.SystemNamespace + "/svc tcp/8080"}, {"monitoring/prometheus", "ingress-nginx/controller tcp/10254"},
		{"monitoring/prometheus", "monitoring/loki tcp/3100"}, {"monitoring/prometheus", "node 192.168.128.20:10250"},
		{"monitoring/prometheus", "node 192.168.128.20:9100"}, {"monitoring/prometheus", "kube-system/sealed-secrets tcp/8081"},
		// The Collector → Loki; Grafana → its data sources.
		{"monitoring/collector", "monitoring/loki tcp/3100"}, {"monitoring/grafana", "monitoring/loki tcp/3100"},
		{"monitoring/grafana", "monitoring/prometheus tcp/9090"}, {"monitoring/loki", "monitoring/alertmanager tcp/9093"},
		// The ingress controller → applications with ingress; clients → it.
		{"ingress-nginx/controller", "apps/svc tcp/8080"}, {"internet", "ingress-nginx/controller tcp/443"},
		{"internet", "ingress-nginx/controller tcp/80"}, {"apiserver", "ingress-nginx/controller tcp/8443"},
		// The API server → the sealed-secrets controller, cert-manager's webhook.
		{"apiserver", "kube-system/sealed-secrets tcp/8080"}, {"apiserver", "cert-manager/webhook tcp/10250"},
		// Alertmanager → Slack and PagerDuty; cert-manager → ACME.
		{"monitoring/alertmanager", "internet 8.8.8.8:443"}, {"cert-manager/controller", "internet 8.8.8.8:443"},
		// Components → the API server.
		{"monitoring/prometheus", "apiserver 192.168.128.1:443"}, {"cert-manager/controller", "apiserver 192.168.128.1:443"},
		{"ingress-nginx/controller", "apiserver 192.168.128.1:6443"},
	}
	deny = [][2]string{
		{"apps/svc", "jobs/svc tcp/8080"}, {"jobs/svc", "apps/svc tcp/8080"}, {"apps/svc", network.SystemNamespace + "/svc tcp/8080"},
		{"apps/svc", "internet 8.8.8.8:443"}, {"jobs/svc", "internet 8.8.8.8:443"},
		{"apps/svc", "undeclared-db 10.99.0.10:5432"}, {"jobs/svc", rdName},
		{"apps/svc", fmt.Sprintf("%s %s:22", pg.Name, hostIn(pg.CIDRs[0]))},
		{"apps/svc", "kube-system/metrics-server tcp/53"}, {"apps/svc", "kube-system/kube-dns tcp/8080"},
		{"apps/svc", "monitoring/svc tcp/8080"}, {"apps/svc", "ingress-nginx/svc tcp/8080"}, {"apps/svc", "default/svc tcp/8080"},
		{"apps/svc", "apiserver 192.168.128.1:443"},
		// OTLP: another port, another pod, a source outside the spec.
		{"apps/svc", "monitoring/collector tcp/8888"}, {"apps/svc", "monitoring/loki tcp/3100"}, {"default/svc", "monitoring/collector tcp/4317"},
		// Scraping: only Prometheus' pods.
		{"monitoring/grafana", "apps/svc tcp/8080"}, {"monitoring/svc", "apps/svc tcp/8080"}, {"monitoring/collector", "jobs/svc tcp/8080"},
		{"default/svc", "apps/svc tcp/8080"}, {"monitoring/grafana", "node 192.168.128.20:10250"}, {"monitoring/prometheus", "node 192.168.128.20:22"},
		// Loki: another port, another pod, another namespace.
		{"monitoring/collector", "monitoring/loki tcp/9095"}, {"monitoring/svc", "monitoring/loki tcp/3100"},
		{"apps/svc", "monitoring/loki tcp/3100"}, {"monitoring/collector", "monitoring/prometheus tcp/9090"},
		// Ingress: namespaces without ingress, other pods of its namespace.
		{"ingress-nginx/controller", "jobs/svc tcp/8080"}, {"ingress-nginx/svc", "apps/svc tcp/8080"},
		{"ingress-nginx/controller", "monitoring/grafana tcp/3000"}, {"internet", "ingress-nginx/controller tcp/10254"},
		{"internet", "ingress-nginx/svc tcp/8080"}, {"ingress-nginx/controller", "internet 8.8.8.8:443"},
		// Sealed secrets: another port, another source.
		{"apiserver", "kube-system/sealed-secrets tcp/9999"}, {"apps/svc", "kube-system/sealed-secrets tcp/8080"},
		{"internet", "kube-system/sealed-secrets tcp/8080"}, {"internet", "cert-manager/webhook tcp/10250"},
		{"apiserver", "cert-manager/webhook tcp/6080"}, {"apiserver", "monitoring/svc tcp/8080"},
		// The internet: only Alertmanager and cert-manager's controller, on 443 (and 80 for HTTP-01).
		{"monitoring/alertmanager", "internet 8.8.8.8:80"}, {"monitoring/prometheus", "internet 8.8.8.8:443"},
		{"monitoring/grafana", "internet 8.8.8.8:443"}, {"monitoring/alertmanager", pgName},
		{"cert-manager/webhook", "internet 8.8.8.8:443"}, {"cert-manager/controller", "internet 8.8.8.8:22"},
		{"cert-manager/svc", "internet 8.8.8.8:443"}, {"cert-manager/controller", "apps/svc tcp/8080"},
	}
	return allow, deny
}

// argoPinned are the pinned flows of the system environment's Argo CD.
func argoPinned() (allow, deny [][2]string) {
	allow = [][2]string{
		{"argocd/repo-server", "internet 8.8.8.8:443"}, {"argocd/repo-server", "internet 8.8.8.8:22"},
		{"argocd/application-controller", "internet 8.8.8.8:6443"}, {"argocd/application-controller", "internet 8.8.8.8:443"},
		{"argocd/server", "internet 8.8.8.8:6443"}, {"argocd/server", "argocd/repo-server tcp/8081"},
		{"monitoring/prometheus", "argocd/repo-server tcp/8081"},
	}
	deny = [][2]string{
		{"argocd/repo-server", "internet 8.8.8.8:6443"}, {"argocd/application-controller", "internet 8.8.8.8:22"},
		{"argocd/svc", "internet 8.8.8.8:443"}, {"argocd/repo-server", "apps/svc tcp/8080"},
		{"apps/svc", "argocd/server tcp/8080"}, {"argocd/repo-server", pgNameOf()},
	}
	return allow, deny
}

func pgNameOf() string {
	env, _ := spec.Default(spec.System)
	pg := env.DataServices[0]
	return fmt.Sprintf("%s %s:%d", pg.Name, hostIn(pg.CIDRs[0]), pg.Port)
}

// hostIn returns the tenth address of a CIDR, as the truth-table world
// places its data services.
func hostIn(cidr string) string {
	a := netip.MustParsePrefix(cidr).Addr()
	for range 10 {
		a = a.Next()
	}
	return a.String()
}

// cellsOf parses a rendered table into its allowed cells.
func cellsOf(table string) map[[2]string]bool {
	allowed := map[[2]string]bool{}
	var from string
	for _, line := range strings.Split(table, "\n") {
		if f, ok := strings.CutPrefix(line, "from "); ok {
			from = strings.TrimSuffix(f, ":")
			continue
		}
		if to, ok := strings.CutPrefix(line, "  ✓ "); ok {
			allowed[[2]string{from, to}] = true
		}
	}
	return allowed
}

// checkPinned looks the pinned flows up in the rendered table. Each
// pinned cell must be a cell of the world (with no policy at all, every
// cell is allowed: that table lists them all), or it would pin nothing.
func checkPinned(t *testing.T, env spec.Environment, table string) {
	t.Helper()
	open, _ := network.FlowTable(env, nil, nil)
	world, allowed := cellsOf(open), cellsOf(table)
	allow, deny := pinnedFlows(env)
	if env.Name == spec.System {
		a, d := argoPinned()
		allow, deny = append(allow, a...), append(deny, d...)
	}
	for _, f := range append(slices.Clone(allow), deny...) {
		if !world[f] {
			t.Errorf("pinned flow %s → %s is not a cell of the world", f[0], f[1])
		}
	}
	for _, f := range allow {
		if !allowed[f] {
			t.Errorf("%s → %s: want allowed, the table denies it", f[0], f[1])
		}
	}
	for _, f := range deny {
		if allowed[f] {
			t.Errorf("%s → %s: want denied, the table allows it", f[0], f[1])
		}
	}
}
