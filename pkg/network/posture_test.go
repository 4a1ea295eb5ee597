package network_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/org/platform/internal/controlplane"
	"github.com/org/platform/pkg/network"
	"github.com/org/platform/pkg/network/networktest"
	"github.com/org/platform/pkg/spec"
)

// ours are the labels of the objects the package writes for env.
func ours(env spec.Environment) map[string]string {
	return map[string]string{network.LabelManagedBy: network.ManagedByValue, network.LabelComponent: network.ComponentValue, network.LabelEnvironment: env.Name}
}

// weaken applies, as other field managers would, the weaknesses Posture
// must find: an allow-all NetworkPolicy carrying our labels in apps, jobs'
// DNS policy opened to any destination, a cluster-admin binding for a user,
// and a Role granting impersonate; and one it must not report: a policy
// that only denies more.
func weaken(ctx context.Context, t *testing.T, api kubernetes.Interface, env spec.Environment) {
	t.Helper()
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(api.NetworkingV1().NetworkPolicies("apps").Create(ctx, &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "allow-all", Namespace: "apps", Labels: ours(env)},
		Spec: networkingv1.NetworkPolicySpec{
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
			Ingress:     []networkingv1.NetworkPolicyIngressRule{{}},
			Egress:      []networkingv1.NetworkPolicyEgressRule{{}},
		},
	}, metav1.CreateOptions{FieldManager: "someone-else"}))
	must(api.NetworkingV1().NetworkPolicies("apps").Create(ctx, &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "deny-more", Namespace: "apps"},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "quarantined"}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
		},
	}, metav1.CreateOptions{FieldManager: "someone-else"}))
	must(editPolicy("jobs", network.PolicyAllowDNS, func(np *networkingv1.NetworkPolicy) {
		np.Spec.Egress[0].To = nil // port 53 anywhere
	})(ctx, api), nil)
	// Turning jobs' default-deny ingress-only opens nothing while the
	// allow policies of type egress still isolate its pods' egress: not
	// reported.
	must(editPolicy("jobs", network.PolicyDefaultDeny, func(np *networkingv1.NetworkPolicy) {
		np.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
	})(ctx, api), nil)
	// The fake clientset has no bootstrap roles; the API server does.
	if _, err := api.RbacV1().ClusterRoles().Get(ctx, "cluster-admin", metav1.GetOptions{}); err != nil {
		must(api.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{
			ObjectMeta: metav1.ObjectMeta{Name: "cluster-admin"},
			Rules:      []rbacv1.PolicyRule{{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"*"}}},
		}, metav1.CreateOptions{}))
	}
	must(api.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "mallory-admin"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "mallory"}},
	}, metav1.CreateOptions{FieldManager: "kubectl-create"}))
	must(api.RbacV1().Roles("apps").Create(ctx, &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "impersonator", Namespace: "apps"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"serviceaccounts"}, Verbs: []string{"impersonate"}}},
	}, metav1.CreateOptions{}))
	must(api.RbacV1().RoleBindings("apps").Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "impersonators", Namespace: "apps"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "impersonator"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "contractors"}},
	}, metav1.CreateOptions{FieldManager: "kubectl-create"}))
	// A harmless binding the spec does not declare: not reported.
	must(api.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "auditors"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: network.ViewerClusterRole},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "auditors"}},
	}, metav1.CreateOptions{}))
}

// checkWeaknesses checks the findings weaken's changes must produce, and
// only those.
func checkWeaknesses(t *testing.T, findings []network.Finding) {
	t.Helper()
	byObject := map[string]network.Finding{}
	var objects []string
	for _, f := range findings {
		byObject[f.Object] = f
		objects = append(objects, f.Object)
	}
	want := []string{
		"networkpolicy/apps/allow-all",
		"networkpolicy/jobs/allow-dns",
		"clusterrolebinding/mallory-admin",
		"rolebinding/apps/impersonators",
	}
	if !slices.Equal(objects, want) {
		t.Fatalf("findings on %q, want %q:\n%s", objects, want, report(findings))
	}
	all := byObject["networkpolicy/apps/allow-all"]
	for _, f := range []string{
		"default/svc → apps/svc tcp/8080",                // another namespace in
		"internet → apps/svc tcp/8080",                   // the internet in
		"kube-system/metrics-server → apps/svc tcp/8080", // a pod of kube-system
		"apps/svc → default/svc tcp/8080",                // out to another namespace…
		"apps/svc → internet 8.8.8.8:443",                // …and to the internet
		"apps/svc → undeclared-db 10.99.0.10:5432",       // a database nobody declared
	} {
		if !slices.Contains(all.Flows, f) {
			t.Errorf("allow-all: flow %s not reported", f)
		}
	}
	// Where the other end is isolated by its own policies, the allow-all
	// opens nothing: Grafana's egress and jobs' ingress still deny.
	for _, f := range all.Flows {
		if f == "monitoring/grafana → apps/svc tcp/8080" || f == "apps/svc → jobs/svc tcp/8080" {
			t.Errorf("allow-all: reports %s, which the other end's policies deny", f)
		}
		if strings.HasPrefix(f, "apps/svc → kube-system/kube-dns udp/53") || strings.HasPrefix(f, "apps/svc → apps/worker") {
			t.Errorf("allow-all: reports %s, which the baseline already allows", f)
		}
	}
	if all.Kind != network.FindingNetworkPolicy || all.Namespace != "apps" || !strings.Contains(all.Detail, "someone-else") {
		t.Errorf("allow-all finding %+v", all)
	}
	dns := byObject["networkpolicy/jobs/allow-dns"]
	if want := []string{"jobs/svc → kube-system/metrics-server tcp/53", "jobs/worker → kube-system/metrics-server tcp/53"}; !slices.Equal(dns.Flows, want) {
		t.Errorf("DNS policy opened: flows %q, want %q", dns.Flows, want)
	}
	if !strings.HasPrefix(dns.Detail, "differs from the rendered policy") || !strings.Contains(dns.Detail, "kubectl-edit") {
		t.Errorf("DNS policy opened: detail %q", dns.Detail)
	}
	if g := byObject["clusterrolebinding/mallory-admin"].Grants; !slices.Equal(g, []string{"all verbs on all resources (ClusterRole cluster-admin) to User mallory"}) {
		t.Errorf("mallory-admin grants %q", g)
	}
	if g := byObject["rolebinding/apps/impersonators"].Grants; !slices.Equal(g, []string{`impersonate on serviceaccounts (apiGroups "") (Role impersonator) to Group contractors`}) {
		t.Errorf("impersonators grants %q", g)
	}
	b, err := json.Marshal(findings[0])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"kind":"networkpolicy"`) || !strings.Contains(string(b), `"flows":[`) {
		t.Errorf("JSON %s", b)
	}
}

func report(findings []network.Finding) string {
	var lines []string
	for _, f := range findings {
		lines = append(lines, f.String())
	}
	return strings.Join(lines, "\n")
}

// TestPostureOnFake: the baseline as rendered has no finding; each
// weakness weaken makes is found, with the flows it opens or what it
// grants; Posture only reads.
func TestPostureOnFake(t *testing.T) {
	t.Parallel()
	for _, name := range spec.StandardNames() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cs := networktest.NewClientset()
			env := mustDefault(t, name)
			ensureK8s(t, cs, env)
			n := len(cs.Actions())
			findings, err := network.Posture(t.Context(), cs, env)
			if err != nil {
				t.Fatal(err)
			}
			if len(findings) != 0 {
				t.Errorf("the rendered baseline has findings:\n%s", report(findings))
			}
			for _, a := range cs.Actions()[n:] {
				if a.GetVerb() != "list" && a.GetVerb() != "get" {
					t.Errorf("Posture sent %s %s", a.GetVerb(), a.GetResource().Resource)
				}
			}
			if name != spec.Production {
				return
			}
			weaken(t.Context(), t, cs, env)
			n = len(cs.Actions())
			findings, err = network.Posture(t.Context(), cs, env)
			if err != nil {
				t.Fatal(err)
			}
			checkWeaknesses(t, findings)
			if got := len(cs.Actions()) - n; got != 6 {
				t.Errorf("Posture sent %d requests, want 6 lists", got)
			}
			golden(t, "posture-production.golden", report(findings)+"\n")
		})
	}
}

// TestPostureSeesWhatTheWorldLacks: a policy opening an odd port to pods
// of an odd label, from an odd network, is reported although the
// standard world has no such pod, port or network.
func TestPostureSeesWhatTheWorldLacks(t *testing.T) {
	t.Parallel()
	cs := networktest.NewClientset()
	env := mustDefault(t, spec.Production)
	ensureK8s(t, cs, env)
	port := intstr.FromInt32(7777)
	if _, err := cs.NetworkingV1().NetworkPolicies("jobs").Create(t.Context(), &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "debug-port", Namespace: "jobs"},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "batch-runner"}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{
				From:  []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "198.51.100.0/24"}}},
				Ports: []networkingv1.NetworkPolicyPort{{Port: &port}},
			}},
		},
	}, metav1.CreateOptions{FieldManager: "someone-else"}); err != nil {
		t.Fatal(err)
	}
	findings, err := network.Posture(t.Context(), cs, env)
	if err != nil {
		t.Fatal(err)
	}
	want := "address 198.51.100.10 → jobs/app=batch-runner tcp/7777"
	if len(findings) != 1 || !slices.Contains(findings[0].Flows, want) {
		t.Errorf("findings:\n%s\nwant one on networkpolicy/jobs/debug-port opening %s", report(findings), want)
	}
}

// TestPostureRefusesBadInput: a spec that fails validation is refused
// before any request.
func TestPostureRefusesBadInput(t *testing.T) {
	t.Parallel()
	cs := networktest.NewClientset()
	env := mustDefault(t, spec.Production)
	env.Namespaces[0].Name = network.CertManagerNamespace
	if _, err := network.Posture(t.Context(), cs, env); err == nil || !strings.Contains(err.Error(), "namespaces[cert-manager].name") {
		t.Errorf("Posture with a namespace named cert-manager: %v", err)
	}
	if n := len(cs.Actions()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

// TestPostureOnAPIServer runs Posture against a real kube-apiserver, with
// its bootstrap RBAC (cluster-admin for system:masters, the controllers'
// bindings, some of which escalate or bind): nothing is reported on the
// bare cluster nor after the baseline is applied; the weaknesses weaken
// makes are, exactly; and Posture sends no request but GETs (its lists).
func TestPostureOnAPIServer(t *testing.T) {
	cp := controlplane.RequireNew(t) // cluster-wide bindings are created
	api, wc := realClient(t, cp)
	ctx := t.Context()
	env := mustDefault(t, spec.Production)

	posture := func(t *testing.T) []network.Finding {
		t.Helper()
		wc.take()
		findings, err := network.Posture(ctx, api, env)
		if err != nil {
			t.Fatal(err)
		}
		if w, _ := wc.takeAll(); len(w) != 0 {
			t.Errorf("Posture sent %q", w)
		}
		return findings
	}
	if f := posture(t); len(f) != 0 {
		t.Errorf("a bare API server has findings:\n%s", report(f))
	}
	crbs, err := api.RbacV1().ClusterRoleBindings().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var bootstrap []string
	for _, b := range crbs.Items {
		if b.Labels["kubernetes.io/bootstrapping"] == "rbac-defaults" {
			bootstrap = append(bootstrap, b.Name)
		}
	}
	for _, name := range []string{"cluster-admin", "system:controller:clusterrole-aggregation-controller"} {
		if !slices.Contains(bootstrap, name) {
			t.Errorf("bootstrap binding %s missing: the check above proves less than it says (have %q)", name, bootstrap)
		}
	}
	ensureK8s(t, api, env)
	if f := posture(t); len(f) != 0 {
		t.Errorf("the applied baseline has findings:\n%s", report(f))
	}
	weaken(ctx, t, api, env)
	findings := posture(t)
	checkWeaknesses(t, findings)
	golden(t, "posture-production.golden", report(findings)+"\n")

	// A subject added to a bootstrap binding is reported.
	b, err := api.RbacV1().ClusterRoleBindings().Get(ctx, "cluster-admin", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b.Subjects = append(b.Subjects, rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "eve"})
	if _, err := api.RbacV1().ClusterRoleBindings().Update(ctx, b, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	var grants []string
	for _, f := range posture(t) {
		if f.Object == "clusterrolebinding/cluster-admin" {
			grants = f.Grants
		}
	}
	if want := []string{"all verbs on all resources (ClusterRole cluster-admin) to Group system:masters, User eve"}; !slices.Equal(grants, want) {
		t.Errorf("cluster-admin with eve added: grants %q, want %q", grants, want)
	}
}
