package network_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"sigs.k8s.io/yaml"

	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/network"
	"github.com/org/platform/pkg/network/networktest"
	"github.com/org/platform/pkg/spec"
)

// writes returns the fake clientset's write actions after the first
// since, as "verb resource ns/name"; dry-run applies change nothing and are
// not listed.
func writes(cs *fake.Clientset, since int) []string {
	var out []string
	for _, a := range cs.Actions()[since:] {
		switch a.GetVerb() {
		case "get", "list", "watch":
			continue
		}
		if networktest.IsDryRun(a) {
			continue
		}
		name := ""
		switch a := a.(type) {
		case k8stesting.PatchAction:
			name = a.GetName()
		case k8stesting.DeleteAction:
			name = a.GetName()
		case k8stesting.CreateAction:
			if m, err := metaOf(a.GetObject()); err == nil {
				name = m.GetName()
			}
		case k8stesting.UpdateAction:
			if m, err := metaOf(a.GetObject()); err == nil {
				name = m.GetName()
			}
		}
		out = append(out, fmt.Sprintf("%s %s %s/%s", a.GetVerb(), a.GetResource().Resource, a.GetNamespace(), name))
	}
	return out
}

func metaOf(o runtime.Object) (metav1.Object, error) {
	m, ok := o.(metav1.Object)
	if !ok {
		return nil, fmt.Errorf("%T has no metadata", o)
	}
	return m, nil
}

func ensureK8s(t *testing.T, api kubernetes.Interface, env spec.Environment, opts ...network.Option) network.KubernetesResult {
	t.Helper()
	res, err := network.EnsureKubernetes(t.Context(), api, env, opts...)
	if err != nil {
		t.Fatalf("EnsureKubernetes: %v", err)
	}
	return res
}

func planK8s(t *testing.T, api kubernetes.Interface, env spec.Environment, opts ...network.Option) network.KubernetesPlan {
	t.Helper()
	res, err := network.PlanKubernetes(t.Context(), api, env, opts...)
	if err != nil {
		t.Fatalf("PlanKubernetes: %v", err)
	}
	return res
}

// baselineObjects is how many objects a standard environment's baseline
// has: productionObjects, and in the system environment the argocd
// namespace and its 7 policies.
func baselineObjects(name string) int {
	if name == spec.System {
		return productionObjects + 1 + 7
	}
	return productionObjects
}

// TestEnsureKubernetesIsIdempotent applies each standard environment's
// baseline to a fake clientset, then plans and applies again: nothing to
// change, no write.
func TestEnsureKubernetesIsIdempotent(t *testing.T) {
	t.Parallel()
	for _, name := range spec.StandardNames() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cs := networktest.NewClientset()
			env := mustDefault(t, name)
			res := ensureK8s(t, cs, env)
			want := baselineObjects(name)
			if res.Count(change.Create) != want || res.Count(change.Update) != 0 {
				t.Errorf("first run: %s; want %d to create", res.Summary(), want)
			}
			if w := writes(cs, 0); len(w) != res.Count(change.Create) {
				t.Errorf("%d writes for %d objects", len(w), res.Count(change.Create))
			}
			ns, err := cs.CoreV1().Namespaces().Get(t.Context(), "apps", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			wantLabels := map[string]string{
				network.LabelManagedBy: network.ManagedByValue, network.LabelComponent: network.ComponentValue,
				network.LabelEnvironment: name, network.LabelTeam: "apps", network.LabelIngress: "true",
			}
			if fmt.Sprint(ns.Labels) != fmt.Sprint(wantLabels) {
				t.Errorf("namespace apps labels %v, want %v", ns.Labels, wantLabels)
			}

			n := len(cs.Actions())
			plan := planK8s(t, cs, env)
			// Every object was compared (one base entry each) and none differs.
			if !plan.Empty() || len(plan.Base) != res.Count(change.Create) {
				t.Errorf("second plan: %d steps, %d objects observed; want none for %d unchanged objects: %q",
					len(plan.Steps), len(plan.Base), res.Count(change.Create), plan.Result().Lines())
			}
			if again := ensureK8s(t, cs, env); again.Changed() {
				t.Errorf("second run: %s, want every object unchanged: %q", again.Summary(), again.Result.Lines())
			}
			if w := writes(cs, n); len(w) != 0 {
				t.Errorf("second run wrote %q", w)
			}
		})
	}
}

// TestKubernetesDrift changes objects behind the package's back, as
// another field manager, and checks the per-field plan and the fix.
func TestKubernetesDrift(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		before func(env *spec.Environment) // before the first apply
		drift  func(ctx context.Context, api kubernetes.Interface) error
		change func(env *spec.Environment)
		want   []string
		writes []string
	}{
		{
			name:   "label dropped from the spec",
			before: func(env *spec.Environment) { env.Namespaces[1].Labels = map[string]string{"tier": "batch"} },
			change: func(env *spec.Environment) { env.Namespaces[1].Labels = nil },
			want:   []string{"update namespace/jobs metadata.labels.tier: batch → (none)"},
			writes: []string{"patch namespaces /jobs"},
		},
		{
			name: "quota raised by hand",
			drift: func(ctx context.Context, api kubernetes.Interface) error {
				q, err := api.CoreV1().ResourceQuotas("apps").Get(ctx, network.QuotaName, metav1.GetOptions{})
				if err != nil {
					return err
				}
				q.Spec.Hard[corev1.ResourcePods] = resource.MustParse("999")
				_, err = api.CoreV1().ResourceQuotas("apps").Update(ctx, q, metav1.UpdateOptions{FieldManager: "kubectl-edit"})
				return err
			},
			want:   []string{"update resourcequota/apps/platform-quota spec.hard.pods: 999 → 100"},
			writes: []string{"patch resourcequotas apps/platform-quota"},
		},
		{
			name: "default deny loosened by hand",
			drift: func(ctx context.Context, api kubernetes.Interface) error {
				np, err := api.NetworkingV1().NetworkPolicies("jobs").Get(ctx, network.PolicyDefaultDeny, metav1.GetOptions{})
				if err != nil {
					return err
				}
				np.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
				_, err = api.NetworkingV1().NetworkPolicies("jobs").Update(ctx, np, metav1.UpdateOptions{FieldManager: "kubectl-edit"})
				return err
			},
			want:   []string{`update networkpolicy/jobs/default-deny spec.policyTypes: ["Ingress"] → ["Ingress","Egress"]`},
			writes: []string{"patch networkpolicies jobs/default-deny"},
		},
		{
			name: "label added by someone else is not drift",
			drift: func(ctx context.Context, api kubernetes.Interface) error {
				ns, err := api.CoreV1().Namespaces().Get(ctx, "apps", metav1.GetOptions{})
				if err != nil {
					return err
				}
				ns.Labels["cost-center"] = "42"
				_, err = api.CoreV1().Namespaces().Update(ctx, ns, metav1.UpdateOptions{FieldManager: "finops"})
				return err
			},
		},
		{
			name: "team and labels changed in the spec",
			change: func(env *spec.Environment) {
				env.Namespaces[0].Team = "web"
				env.Namespaces[1].Labels = map[string]string{"tier": "batch"}
			},
			want: []string{
				"update namespace/apps metadata.labels.team: apps → web",
				"update namespace/jobs metadata.labels.tier: (none) → batch",
			},
			writes: []string{"patch namespaces /apps", "patch namespaces /jobs"},
		},
		{
			name:   "quota override dropped from the spec",
			change: func(env *spec.Environment) { env.Namespaces[1].Quota = nil },
			want: []string{
				"update resourcequota/jobs/platform-quota spec.hard.pods: 50 → 60",
				"update resourcequota/jobs/platform-quota spec.hard[limits.cpu]: 8 → 30",
				"update resourcequota/jobs/platform-quota spec.hard[limits.memory]: 16Gi → 30Gi",
				"update resourcequota/jobs/platform-quota spec.hard[requests.cpu]: 4 → 15",
				"update resourcequota/jobs/platform-quota spec.hard[requests.memory]: 8Gi → 15Gi",
			},
			writes: []string{"patch resourcequotas jobs/platform-quota"},
		},
		{
			name:   "a data service dropped from a namespace",
			change: func(env *spec.Environment) { env.Namespaces[0].DataServices = []string{"postgres"} },
			want: []string{`update networkpolicy/apps/allow-data-services spec.egress: ` +
				`[{"ports":[{"port":5432,"protocol":"TCP"}],"to":[{"ipBlock":{"cidr":"10.30.100.0/24"}}]},{"ports":[{"port":6379,"protocol":"TCP"}],"to":[{"ipBlock":{"cidr":"10.30.101.0/24"}}]}] → ` +
				`[{"ports":[{"port":5432,"protocol":"TCP"}],"to":[{"ipBlock":{"cidr":"10.30.100.0/24"}}]}]`},
			writes: []string{"patch networkpolicies apps/allow-data-services"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cs := networktest.NewClientset()
			env := mustDefault(t, spec.Production)
			if tt.before != nil {
				tt.before(&env)
			}
			ensureK8s(t, cs, env)
			if tt.drift != nil {
				if err := tt.drift(t.Context(), cs); err != nil {
					t.Fatal(err)
				}
			}
			if tt.change != nil {
				tt.change(&env)
			}
			n := len(cs.Actions())
			plan := planK8s(t, cs, env)
			if w := writes(cs, n); len(w) != 0 {
				t.Fatalf("PlanKubernetes wrote %q", w)
			}
			if got := plan.Result().Lines(); !slices.Equal(got, tt.want) {
				t.Errorf("plan\n got %q\nwant %q", got, tt.want)
			}
			res := ensureK8s(t, cs, env)
			if got := res.Result.Lines(); !slices.Equal(got, tt.want) {
				t.Errorf("ensure\n got %q\nwant %q", got, tt.want)
			}
			if w := writes(cs, n); !slices.Equal(w, tt.writes) {
				t.Errorf("writes %q, want %q", w, tt.writes)
			}
			if after := planK8s(t, cs, env); !after.Empty() {
				t.Errorf("not converged: %q", after.Result().Lines())
			}
		})
	}
}

// TestPruneRemovesOnlyOurs drops the jobs namespace from the spec: it is
// deleted (its contents with it), while a namespace nobody labelled, a
// NetworkPolicy with our labels written by another manager, and the
// objects of another environment stay. (Two environments never share a
// cluster; here the staging objects only prove that pruning is scoped by
// environment. The cluster-wide objects both apply are taken back.)
func TestPruneRemovesOnlyOurs(t *testing.T) {
	t.Parallel()
	cs := networktest.NewClientset()
	env := mustDefault(t, spec.Production)
	ensureK8s(t, cs, env)
	ctx := t.Context()
	ours := map[string]string{network.LabelManagedBy: network.ManagedByValue, network.LabelComponent: network.ComponentValue, network.LabelEnvironment: env.Name}
	mustCreate := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	mustCreate(cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "legacy"}}, metav1.CreateOptions{FieldManager: "kubectl-create"}))
	mustCreate(cs.NetworkingV1().NetworkPolicies("apps").Create(ctx, &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "lookalike", Namespace: "apps", Labels: ours}}, metav1.CreateOptions{FieldManager: "someone-else"}))
	other := mustDefault(t, spec.Staging)
	other.Namespaces = []spec.Namespace{{Name: "staging-apps", Team: "apps"}}
	ensureK8s(t, cs, other)

	env.Namespaces = env.Namespaces[:1]
	n := len(cs.Actions())
	plan := planK8s(t, cs, env)
	want := []string{
		"delete namespace/jobs: with everything in it",
		"update clusterrole/platform:admin metadata.labels[platform.org/environment]: staging → production",
		"update clusterrole/platform:deployer metadata.labels[platform.org/environment]: staging → production",
		"update clusterrole/platform:viewer metadata.labels[platform.org/environment]: staging → production",
		"update clusterrolebinding/platform:viewers metadata.labels[platform.org/environment]: staging → production",
		"update namespace/platform-system metadata.labels[platform.org/environment]: staging → production",
		"update networkpolicy/platform-system/allow-dns metadata.labels[platform.org/environment]: staging → production",
		"update networkpolicy/platform-system/allow-monitoring-scrape metadata.labels[platform.org/environment]: staging → production",
		"update networkpolicy/platform-system/allow-otlp metadata.labels[platform.org/environment]: staging → production",
		"update networkpolicy/platform-system/allow-same-namespace metadata.labels[platform.org/environment]: staging → production",
		"update networkpolicy/platform-system/default-deny metadata.labels[platform.org/environment]: staging → production",
		// apps now holds all 30 services: the quota fields the spec does not
		// override double.
		"update resourcequota/apps/platform-quota spec.hard.persistentvolumeclaims: 30 → 60",
		"update resourcequota/apps/platform-quota spec.hard.services: 30 → 60",
		"update resourcequota/apps/platform-quota spec.hard[requests.storage]: 300Gi → 600Gi",
		"update serviceaccount/platform-system/ci-deployer metadata.labels[platform.org/environment]: staging → production",
	}
	// The platform components' namespaces and policies are shared by the
	// two environments too: each flips its environment label, and the
	// policies that list application namespaces get production's list.
	var got []string
	platform := regexp.MustCompile(`^update (namespace/(cert-manager|ingress-nginx|monitoring) |networkpolicy/(cert-manager|ingress-nginx|monitoring|kube-system)/)`)
	for _, l := range plan.Result().Lines() {
		switch {
		case !platform.MatchString(l):
			got = append(got, l)
		case strings.HasSuffix(l, " metadata.labels[platform.org/environment]: staging → production"):
		case strings.HasPrefix(l, "update networkpolicy/monitoring/allow-otlp-receive spec.ingress: ") && strings.Contains(l, `"staging-apps"]`):
		default:
			t.Errorf("unexpected change of a platform namespace: %s", l)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("plan\n got %q\nwant %q", got, want)
	}
	ensureK8s(t, cs, env)
	var deleted []string
	for _, w := range writes(cs, n) {
		if strings.HasPrefix(w, "delete") {
			deleted = append(deleted, w)
		}
	}
	if want := []string{"delete namespaces /jobs"}; !slices.Equal(deleted, want) {
		t.Errorf("deleted %q, want %q", deleted, want)
	}
	for _, name := range []string{"legacy", "apps", "staging-apps"} {
		if _, err := cs.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{}); err != nil {
			t.Errorf("namespace %s: %v", name, err)
		}
	}
	if _, err := cs.NetworkingV1().NetworkPolicies("apps").Get(ctx, "lookalike", metav1.GetOptions{}); err != nil {
		t.Errorf("NetworkPolicy written by another manager: %v", err)
	}
}

// TestZeroTrustOnFake evaluates, for every standard environment, the
// NetworkPolicies read back from a fake clientset with cyclonus: exactly
// the intended flows are allowed. Production's table is the golden file
// the integration test on a real API server must reproduce.
func TestZeroTrustOnFake(t *testing.T) {
	t.Parallel()
	for _, name := range spec.StandardNames() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cs := networktest.NewClientset()
			env := mustDefault(t, name)
			ensureK8s(t, cs, env)
			table, wrong := flowTable(t.Context(), t, cs, env)
			for _, w := range wrong {
				t.Error(w)
			}
			checkPinned(t, env, table)
			if name == spec.Production {
				golden(t, "flows-production.golden", table)
			}
		})
	}
}

// TestZeroTrustCatchesBrokenPolicies removes or widens one policy at a
// time and checks that the truth table no longer matches the intent: the
// check can fail.
func TestZeroTrustCatchesBrokenPolicies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		break_ func(ctx context.Context, api kubernetes.Interface) error
		want   string
	}{
		{"every policy of jobs deleted", func(ctx context.Context, api kubernetes.Interface) error {
			l, err := api.NetworkingV1().NetworkPolicies("jobs").List(ctx, metav1.ListOptions{})
			if err != nil || len(l.Items) == 0 {
				return fmt.Errorf("no policies to delete (%v)", err)
			}
			for _, np := range l.Items {
				if err := api.NetworkingV1().NetworkPolicies("jobs").Delete(ctx, np.Name, metav1.DeleteOptions{}); err != nil {
					return err
				}
			}
			return nil
		}, "jobs/svc → internet 8.8.8.8:443: allowed true, intended false"},
		{"all egress allowed by an extra policy", func(ctx context.Context, api kubernetes.Interface) error {
			_, err := api.NetworkingV1().NetworkPolicies("apps").Create(ctx, &networkingv1.NetworkPolicy{
				ObjectMeta: metav1.ObjectMeta{Name: "allow-all-egress", Namespace: "apps"},
				Spec: networkingv1.NetworkPolicySpec{
					PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
					Egress:      []networkingv1.NetworkPolicyEgressRule{{}},
				},
			}, metav1.CreateOptions{})
			return err
		}, "apps/svc → internet 8.8.8.8:443: allowed true, intended false"},
		{"DNS policy deleted", func(ctx context.Context, api kubernetes.Interface) error {
			return api.NetworkingV1().NetworkPolicies("apps").Delete(ctx, network.PolicyAllowDNS, metav1.DeleteOptions{})
		}, "apps/svc → kube-system/kube-dns udp/53: allowed false, intended true"},
		{"data services opened to the world", func(ctx context.Context, api kubernetes.Interface) error {
			np, err := api.NetworkingV1().NetworkPolicies("apps").Get(ctx, network.PolicyAllowDataServices, metav1.GetOptions{})
			if err != nil {
				return err
			}
			np.Spec.Egress[0].To[0].IPBlock.CIDR = "0.0.0.0/0"
			_, err = api.NetworkingV1().NetworkPolicies("apps").Update(ctx, np, metav1.UpdateOptions{})
			return err
		}, "apps/svc → undeclared-db 10.99.0.10:5432: allowed true, intended false"},
		{"OTLP receiver opened to every namespace", editPolicy("monitoring", network.PolicyAllowOTLPReceive, func(np *networkingv1.NetworkPolicy) {
			np.Spec.Ingress[0].From = []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{}}}
		}), "default/svc → monitoring/collector tcp/4317: allowed true, intended false"},
		{"Loki opened to its whole namespace", editPolicy("monitoring", network.PolicyAllowLoki, func(np *networkingv1.NetworkPolicy) {
			np.Spec.Ingress[0].From = []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{}}}
		}), "monitoring/svc → monitoring/loki tcp/3100: allowed true, intended false"},
		{"Alertmanager's notifications cut", func(ctx context.Context, api kubernetes.Interface) error {
			return api.NetworkingV1().NetworkPolicies("monitoring").Delete(ctx, network.PolicyAllowAlertNotify, metav1.DeleteOptions{})
		}, "monitoring/alertmanager → internet 8.8.8.8:443: allowed false, intended true"},
		{"ACME egress for every pod of cert-manager", editPolicy(network.CertManagerNamespace, network.PolicyAllowACME, func(np *networkingv1.NetworkPolicy) {
			np.Spec.PodSelector = metav1.LabelSelector{}
		}), "cert-manager/webhook → internet 8.8.8.8:443: allowed true, intended false"},
		{"sealed-secrets controller's policy deleted", func(ctx context.Context, api kubernetes.Interface) error {
			return api.NetworkingV1().NetworkPolicies("kube-system").Delete(ctx, network.PolicyAllowSealedSecrets, metav1.DeleteOptions{})
		}, "internet → kube-system/sealed-secrets tcp/8080: allowed true, intended false"},
		{"ingress controller reaching every namespace", editPolicy("ingress-nginx", network.PolicyAllowToApplications, func(np *networkingv1.NetworkPolicy) {
			np.Spec.Egress[0].To = []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{}}}
		}), "ingress-nginx/controller → default/svc tcp/8080: allowed true, intended false"},
		{"OTLP from applications cut", func(ctx context.Context, api kubernetes.Interface) error {
			return api.NetworkingV1().NetworkPolicies("jobs").Delete(ctx, network.PolicyAllowOTLP, metav1.DeleteOptions{})
		}, "jobs/svc → monitoring/collector tcp/4317: allowed false, intended true"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cs := networktest.NewClientset()
			env := mustDefault(t, spec.Production)
			ensureK8s(t, cs, env)
			if err := tt.break_(t.Context(), cs); err != nil {
				t.Fatal(err)
			}
			_, wrong := flowTable(t.Context(), t, cs, env)
			if !slices.Contains(wrong, tt.want) {
				t.Errorf("mismatches %q, want one to be %q", wrong, tt.want)
			}
		})
	}
}

// editPolicy returns a change of one live NetworkPolicy, written back
// with Update as another field manager would.
func editPolicy(ns, name string, edit func(np *networkingv1.NetworkPolicy)) func(ctx context.Context, api kubernetes.Interface) error {
	return func(ctx context.Context, api kubernetes.Interface) error {
		np, err := api.NetworkingV1().NetworkPolicies(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		edit(np)
		_, err = api.NetworkingV1().NetworkPolicies(ns).Update(ctx, np, metav1.UpdateOptions{FieldManager: "kubectl-edit"})
		return err
	}
}

// TestRBACOnFake evaluates the baseline RBAC read back from a fake
// clientset: the permission matrix is the intended one, and in production
// (GitOps-only) no human group may write anything.
func TestRBACOnFake(t *testing.T) {
	t.Parallel()
	for _, name := range []string{spec.Development, spec.Production} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cs := networktest.NewClientset()
			env := mustDefault(t, name)
			ensureK8s(t, cs, env)
			objs := readRBAC(t.Context(), t, cs)
			table, wrong := accessMatrix(env, objs.evaluate)
			for _, w := range wrong {
				t.Error(w)
			}
			golden(t, "rbac-"+name+".golden", table)
			hw := objs.humanWrites()
			if env.GitOps.GitOpsOnly && len(hw) != 0 {
				t.Errorf("human write access in a GitOps-only environment:\n%s", strings.Join(hw, "\n"))
			}
			if !env.GitOps.GitOpsOnly && len(hw) == 0 {
				t.Error("administrators cannot write outside GitOps-only environments; the check above could not fail")
			}
		})
	}
}

// TestRenderedObjects records every object applied for production, read
// back and stripped of server bookkeeping, in a golden file a reviewer can
// read.
func TestRenderedObjects(t *testing.T) {
	t.Parallel()
	cs := networktest.NewClientset()
	env := mustDefault(t, spec.Production)
	ensureK8s(t, cs, env)
	var docs []string
	for _, obj := range readOurs(t.Context(), t, cs, env.Name) {
		b, err := yaml.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, string(b))
	}
	golden(t, "objects-production.golden.yaml", strings.Join(docs, "---\n"))
}

// readOurs lists every object the package applied for the environment,
// sorted by kind, namespace and name, without server bookkeeping.
func readOurs(ctx context.Context, t *testing.T, api kubernetes.Interface, envName string) []map[string]any {
	t.Helper()
	sel := metav1.ListOptions{LabelSelector: network.LabelComponent + "=" + network.ComponentValue + "," + network.LabelEnvironment + "=" + envName}
	var out []map[string]any
	add := func(kind string, list runtime.Object, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(list)
		if err != nil {
			t.Fatal(err)
		}
		items, _ := u["items"].([]any)
		for _, it := range items {
			m := it.(map[string]any)
			m["kind"] = kind
			md := m["metadata"].(map[string]any)
			for _, k := range []string{"managedFields", "resourceVersion", "uid", "creationTimestamp", "generation"} {
				delete(md, k)
			}
			delete(m, "status")
			out = append(out, m)
		}
	}
	l1, e1 := api.CoreV1().Namespaces().List(ctx, sel)
	add("Namespace", l1, e1)
	l2, e2 := api.CoreV1().ServiceAccounts("").List(ctx, sel)
	add("ServiceAccount", l2, e2)
	l3, e3 := api.RbacV1().ClusterRoles().List(ctx, sel)
	add("ClusterRole", l3, e3)
	l4, e4 := api.RbacV1().ClusterRoleBindings().List(ctx, sel)
	add("ClusterRoleBinding", l4, e4)
	l5, e5 := api.RbacV1().RoleBindings("").List(ctx, sel)
	add("RoleBinding", l5, e5)
	l6, e6 := api.CoreV1().ResourceQuotas("").List(ctx, sel)
	add("ResourceQuota", l6, e6)
	l7, e7 := api.CoreV1().LimitRanges("").List(ctx, sel)
	add("LimitRange", l7, e7)
	l8, e8 := api.NetworkingV1().NetworkPolicies("").List(ctx, sel)
	add("NetworkPolicy", l8, e8)
	key := func(m map[string]any) string {
		md := m["metadata"].(map[string]any)
		ns, _ := md["namespace"].(string)
		return m["kind"].(string) + "/" + ns + "/" + md["name"].(string)
	}
	slices.SortStableFunc(out, func(a, b map[string]any) int { return strings.Compare(key(a), key(b)) })
	return out
}

// TestDefaultQuota checks the arithmetic of the default quota: 30 services
// shared by the namespaces, rounding up, at 4 pods per service with 250m
// and 256Mi requested and 500m and 512Mi as limits per pod.
func TestDefaultQuota(t *testing.T) {
	t.Parallel()
	tests := []struct {
		namespaces, services int
		want                 spec.Quota
	}{
		{2, 30, spec.Quota{Pods: 60, Services: 30, RequestsCPU: "15", RequestsMemory: "15Gi", LimitsCPU: "30", LimitsMemory: "30Gi", PersistentVolumeClaims: 30, Storage: "300Gi"}},
		{1, 30, spec.Quota{Pods: 120, Services: 60, RequestsCPU: "30", RequestsMemory: "30Gi", LimitsCPU: "60", LimitsMemory: "60Gi", PersistentVolumeClaims: 60, Storage: "600Gi"}},
		{4, 30, spec.Quota{Pods: 32, Services: 16, RequestsCPU: "8", RequestsMemory: "8Gi", LimitsCPU: "16", LimitsMemory: "16Gi", PersistentVolumeClaims: 16, Storage: "160Gi"}},
		{7, 10, spec.Quota{Pods: 8, Services: 4, RequestsCPU: "2", RequestsMemory: "2Gi", LimitsCPU: "4", LimitsMemory: "4Gi", PersistentVolumeClaims: 4, Storage: "40Gi"}},
		{3, 1, spec.Quota{Pods: 4, Services: 2, RequestsCPU: "1", RequestsMemory: "1Gi", LimitsCPU: "2", LimitsMemory: "2Gi", PersistentVolumeClaims: 2, Storage: "20Gi"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d services in %d namespaces", tt.services, tt.namespaces), func(t *testing.T) {
			t.Parallel()
			tt.want.DefaultRequestCPU, tt.want.DefaultRequestMemory = "250m", "256Mi"
			tt.want.DefaultLimitCPU, tt.want.DefaultLimitMemory = "500m", "512Mi"
			if got := network.DefaultQuota(tt.namespaces, tt.services); got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestPruneKeepsNamespacesWithPods drops a namespace from the spec while a
// pod still runs in it: neither the namespace nor its policies are pruned,
// and the result names it; once the pod is gone, the next run prunes it.
func TestPruneKeepsNamespacesWithPods(t *testing.T) {
	t.Parallel()
	cs := networktest.NewClientset()
	env := mustDefault(t, spec.Development)
	ensureK8s(t, cs, env)
	ctx := t.Context()
	if _, err := cs.CoreV1().Pods("jobs").Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "etl", Namespace: "jobs"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	env.Namespaces = env.Namespaces[:1] // "jobs" goes
	n := len(cs.Actions())
	res, err := network.EnsureKubernetes(ctx, cs, env)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Retained) != 1 || res.Retained[0].Object != "namespace/jobs" {
		t.Errorf("Retained = %q, want namespace/jobs", res.Retained)
	}
	for _, w := range writes(cs, n) {
		if strings.HasPrefix(w, "delete") {
			t.Errorf("pruned while a pod runs: %s", w)
		}
	}
	if _, err := cs.NetworkingV1().NetworkPolicies("jobs").Get(ctx, "default-deny", metav1.GetOptions{}); err != nil {
		t.Errorf("default-deny of the kept namespace: %v", err)
	}

	if err := cs.CoreV1().Pods("jobs").Delete(ctx, "etl", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	n = len(cs.Actions())
	res, err = network.EnsureKubernetes(ctx, cs, env)
	if err != nil {
		t.Fatal(err)
	}
	var deleted []string
	for _, w := range writes(cs, n) {
		if strings.HasPrefix(w, "delete") {
			deleted = append(deleted, w)
		}
	}
	if len(res.Retained) != 0 || !slices.Equal(deleted, []string{"delete namespaces /jobs"}) {
		t.Errorf("after the pod left: retained %q, deleted %q", res.Retained, deleted)
	}
}
