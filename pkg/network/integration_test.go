package network_test

import (
	"context"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/org/platform/internal/controlplane"
	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/network"
	"github.com/org/platform/pkg/spec"
)

func TestMain(m *testing.M) { os.Exit(controlplane.Main(m)) }

// productionObjects is how many objects production's baseline has: 6
// namespaces (apps, jobs, platform-system, monitoring, ingress-nginx,
// cert-manager), the deployer's ServiceAccount, 3 ClusterRoles, 2
// ClusterRoleBindings, per spec namespace a RoleBinding, a quota and a
// LimitRange (6), and 42 NetworkPolicies: apps 7, jobs 6 (no ingress),
// platform-system 5 (no data services), monitoring 11, ingress-nginx 6,
// cert-manager 6, and the sealed-secrets controller's in kube-system.
const productionObjects = 6 + 1 + 3 + 2 + 6 + 42

// writeCounter records the requests that are not reads, as
// "METHOD path": in log those that write, in dryRuns those sent with
// dryRun=All (which write nothing), and in all every one of them with its
// query.
type writeCounter struct {
	rt      http.RoundTripper
	mu      sync.Mutex
	log     []string
	dryRuns []string
	all     []string
}

func (c *writeCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		c.mu.Lock()
		line := r.Method + " " + r.URL.Path
		if slices.Equal(r.URL.Query()["dryRun"], []string{metav1.DryRunAll}) {
			c.dryRuns = append(c.dryRuns, line)
		} else {
			c.log = append(c.log, line)
		}
		c.all = append(c.all, line+"?"+r.URL.RawQuery)
		c.mu.Unlock()
	}
	return c.rt.RoundTrip(r)
}

// take returns the writes recorded since the last take, and forgets
// every request recorded so far.
func (c *writeCounter) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.log
	c.log, c.dryRuns, c.all = nil, nil, nil
	return out
}

// takeAll returns every request that is not a read, with its query, and
// the dry-runs among them, since the last take.
func (c *writeCounter) takeAll() (all, dryRuns []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	all, dryRuns = c.all, c.dryRuns
	c.log, c.dryRuns, c.all = nil, nil, nil
	return all, dryRuns
}

// realClient returns a clientset for the control plane whose writes are
// counted.
func realClient(t *testing.T, cp *controlplane.ControlPlane) (kubernetes.Interface, *writeCounter) {
	t.Helper()
	cfg := cp.RESTConfig()
	wc := &writeCounter{}
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { wc.rt = rt; return wc })
	cfg.QPS, cfg.Burst = 500, 1000
	api, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return api, wc
}

// resourceVersions maps every object of ours to its resourceVersion.
func resourceVersions(ctx context.Context, t *testing.T, api kubernetes.Interface, envName string) map[string]string {
	t.Helper()
	out := map[string]string{}
	sel := metav1.ListOptions{LabelSelector: network.LabelComponent + "=" + network.ComponentValue + "," + network.LabelEnvironment + "=" + envName}
	rec := func(kind string, items []metav1.Object) {
		for _, m := range items {
			out[kind+"/"+m.GetNamespace()+"/"+m.GetName()] = m.GetResourceVersion()
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	ns, err := api.CoreV1().Namespaces().List(ctx, sel)
	must(err)
	rec("namespace", ptrs(ns.Items))
	sa, err := api.CoreV1().ServiceAccounts("").List(ctx, sel)
	must(err)
	rec("serviceaccount", ptrs(sa.Items))
	q, err := api.CoreV1().ResourceQuotas("").List(ctx, sel)
	must(err)
	rec("resourcequota", ptrs(q.Items))
	lr, err := api.CoreV1().LimitRanges("").List(ctx, sel)
	must(err)
	rec("limitrange", ptrs(lr.Items))
	np, err := api.NetworkingV1().NetworkPolicies("").List(ctx, sel)
	must(err)
	rec("networkpolicy", ptrs(np.Items))
	cr, err := api.RbacV1().ClusterRoles().List(ctx, sel)
	must(err)
	rec("clusterrole", ptrs(cr.Items))
	crb, err := api.RbacV1().ClusterRoleBindings().List(ctx, sel)
	must(err)
	rec("clusterrolebinding", ptrs(crb.Items))
	rb, err := api.RbacV1().RoleBindings("").List(ctx, sel)
	must(err)
	rec("rolebinding", ptrs(rb.Items))
	return out
}

func ptrs[T any, P interface {
	*T
	metav1.Object
}](items []T) []metav1.Object {
	out := make([]metav1.Object, len(items))
	for i := range items {
		out[i] = P(&items[i])
	}
	return out
}

// TestKubernetesOnAPIServer applies production's baseline to a real
// kube-apiserver (etcd behind it, RBAC authorization) and checks, in
// order: re-applying writes nothing and changes no resourceVersion; a
// quota edited by another field manager is seen by the plan and put back;
// the NetworkPolicies read back allow exactly the intended flows (cyclonus
// truth table, the same golden file as on the fake clientset); the API
// server's own authorizer grants exactly the intended permissions, and
// agrees with the rule evaluation of the unit tests; pruning deletes only
// our objects.
func TestKubernetesOnAPIServer(t *testing.T) {
	cp := controlplane.RequireNew(t) // its own: the test assumes a fresh API server, also under -count
	api, wc := realClient(t, cp)
	ctx := t.Context()
	env := mustDefault(t, spec.Production)

	t.Run("apply", func(t *testing.T) {
		res := ensureK8s(t, api, env)
		if res.Count(change.Create) != productionObjects || res.Count(change.Update) != 0 {
			t.Errorf("first apply: %s, want %d to create", res.Summary(), productionObjects)
		}
		if w := wc.take(); len(w) != productionObjects {
			t.Errorf("%d writes for %d objects: %q", len(w), productionObjects, w)
		}
		for _, w := range wc.take() {
			if !strings.HasPrefix(w, "PATCH ") {
				t.Errorf("write %s is not a server-side apply", w)
			}
		}
	})

	t.Run("re-apply changes nothing", func(t *testing.T) {
		before := resourceVersions(ctx, t, api, env.Name)
		if len(before) != productionObjects {
			t.Fatalf("%d objects of ours, want %d", len(before), productionObjects)
		}
		plan := planK8s(t, api, env)
		if !plan.Empty() || len(plan.Base) != productionObjects {
			t.Errorf("plan: %d steps, %d objects observed; want none for %d unchanged objects: %q", len(plan.Steps), len(plan.Base), productionObjects, plan.Result().Lines())
		}
		if res := ensureK8s(t, api, env); res.Changed() {
			t.Errorf("nothing should change: %q", res.Result.Lines())
		}
		if w := wc.take(); len(w) != 0 {
			t.Errorf("re-apply wrote %q", w)
		}
		after := resourceVersions(ctx, t, api, env.Name)
		for id, rv := range before {
			if after[id] != rv {
				t.Errorf("%s: resourceVersion %s → %s", id, rv, after[id])
			}
		}
	})

	t.Run("drift by another manager is corrected", func(t *testing.T) {
		q, err := api.CoreV1().ResourceQuotas("apps").Get(ctx, network.QuotaName, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		q.Spec.Hard[corev1.ResourcePods] = resource.MustParse("999")
		q.Spec.Hard[corev1.ResourceRequestsCPU] = resource.MustParse("64")
		if _, err := api.CoreV1().ResourceQuotas("apps").Update(ctx, q, metav1.UpdateOptions{FieldManager: "kubectl-edit"}); err != nil {
			t.Fatal(err)
		}
		wc.take()
		want := []string{
			"update resourcequota/apps/platform-quota spec.hard.pods: 999 → 100",
			"update resourcequota/apps/platform-quota spec.hard[requests.cpu]: 64 → 8",
		}
		plan := planK8s(t, api, env)
		if got := plan.Result().Lines(); !slices.Equal(got, want) {
			t.Errorf("plan\n got %q\nwant %q", got, want)
		}
		if w := wc.take(); len(w) != 0 {
			t.Errorf("plan wrote %q", w)
		}
		res := ensureK8s(t, api, env)
		if got := res.Result.Lines(); !slices.Equal(got, want) {
			t.Errorf("ensure\n got %q\nwant %q", got, want)
		}
		if w := wc.take(); !slices.Equal(w, []string{"PATCH /api/v1/namespaces/apps/resourcequotas/platform-quota"}) {
			t.Errorf("writes %q, want one apply of the quota", w)
		}
		q, err = api.CoreV1().ResourceQuotas("apps").Get(ctx, network.QuotaName, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if p, c := q.Spec.Hard[corev1.ResourcePods], q.Spec.Hard[corev1.ResourceRequestsCPU]; p.String() != "100" || c.String() != "8" {
			t.Errorf("quota pods %s cpu %s, want 100 and 8", p.String(), c.String())
		}
		if again := planK8s(t, api, env); !again.Empty() {
			t.Errorf("not converged: %q", again.Result().Lines())
		}
	})

	t.Run("field dropped from the spec is removed", func(t *testing.T) {
		labelled := env
		labelled.Namespaces = slices.Clone(env.Namespaces)
		labelled.Namespaces[0].Labels = map[string]string{"tier": "web"}
		ensureK8s(t, api, labelled)
		wc.take()
		plan := planK8s(t, api, env)
		want := []string{"update namespace/apps metadata.labels.tier: web → (none)"}
		if got := plan.Result().Lines(); !slices.Equal(got, want) {
			t.Errorf("plan\n got %q\nwant %q", got, want)
		}
		ensureK8s(t, api, env)
		if w := wc.take(); !slices.Equal(w, []string{"PATCH /api/v1/namespaces/apps"}) {
			t.Errorf("writes %q, want one apply of the namespace", w)
		}
		ns, err := api.CoreV1().Namespaces().Get(ctx, "apps", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if v, ok := ns.Labels["tier"]; ok {
			t.Errorf("label tier=%s still there", v)
		}
	})

	t.Run("zero trust", func(t *testing.T) {
		table, wrong := flowTable(ctx, t, api, env)
		for _, w := range wrong {
			t.Error(w)
		}
		checkPinned(t, env, table)
		golden(t, "flows-production.golden", table)
	})

	t.Run("rbac", func(t *testing.T) {
		sar := subjectAccessReview(ctx, t, api)
		table, wrong := accessMatrix(env, sar)
		for _, w := range wrong {
			t.Error(w)
		}
		golden(t, "rbac-production.golden", table)
		objs := readRBAC(ctx, t, api)
		for _, w := range subjects {
			for _, a := range accesses {
				if got, want := objs.evaluate(w, a), sar(w, a); got != want {
					t.Errorf("%s %s: rule evaluation says %t, the API server %t", w.name, a, got, want)
				}
			}
		}
		if hw := objs.humanWrites(); len(hw) != 0 {
			t.Errorf("human write access in production:\n%s", strings.Join(hw, "\n"))
		}
		wc.take()
	})

	t.Run("prune removes only ours", func(t *testing.T) {
		ours := map[string]string{network.LabelManagedBy: network.ManagedByValue, network.LabelComponent: network.ComponentValue, network.LabelEnvironment: env.Name}
		if _, err := api.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "legacy"}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := api.NetworkingV1().NetworkPolicies("apps").Create(ctx, &networkingv1.NetworkPolicy{
			ObjectMeta: metav1.ObjectMeta{Name: "lookalike", Namespace: "apps", Labels: ours},
			Spec:       networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}},
		}, metav1.CreateOptions{FieldManager: "someone-else"}); err != nil {
			t.Fatal(err)
		}
		pruned := env
		pruned.Namespaces = env.Namespaces[:1]
		pruned.Namespaces[0].DataServices = []string{"postgres"}
		wc.take()
		res := ensureK8s(t, api, pruned)
		var deletes []string
		for _, w := range wc.take() {
			if strings.HasPrefix(w, "DELETE") {
				deletes = append(deletes, w)
			}
		}
		if want := []string{"DELETE /api/v1/namespaces/jobs"}; !slices.Equal(deletes, want) {
			t.Errorf("deletes %q, want %q; changes %q", deletes, want, res.Result.Lines())
		}
		// No namespace controller runs here: jobs stays Terminating.
		if ns, err := api.CoreV1().Namespaces().Get(ctx, "jobs", metav1.GetOptions{}); err == nil && ns.DeletionTimestamp == nil {
			t.Error("namespace jobs is not being deleted")
		} else if err != nil && !apierrors.IsNotFound(err) {
			t.Fatal(err)
		}
		if _, err := api.CoreV1().Namespaces().Get(ctx, "legacy", metav1.GetOptions{}); err != nil {
			t.Errorf("unlabelled namespace: %v", err)
		}
		if _, err := api.NetworkingV1().NetworkPolicies("apps").Get(ctx, "lookalike", metav1.GetOptions{}); err != nil {
			t.Errorf("NetworkPolicy of another manager: %v", err)
		}
		if again := ensureK8s(t, api, pruned); again.Changed() {
			t.Errorf("after pruning: %q", again.Result.Lines())
		}
		if w := wc.take(); len(w) != 0 {
			t.Errorf("second run after pruning wrote %q", w)
		}
	})
}

// TestRBACDevelopmentOnAPIServer applies development's baseline to a
// control plane of its own: there administrators may write, and the API
// server's authorizer agrees with the intended matrix.
func TestRBACDevelopmentOnAPIServer(t *testing.T) {
	cp := controlplane.RequireNew(t)
	api, _ := realClient(t, cp)
	env := mustDefault(t, spec.Development)
	ensureK8s(t, api, env)
	sar := subjectAccessReview(t.Context(), t, api)
	table, wrong := accessMatrix(env, sar)
	for _, w := range wrong {
		t.Error(w)
	}
	golden(t, "rbac-development.golden", table)
}

// TestKubernetesPlanAsDataOnAPIServer checks on a real kube-apiserver that
// planning sends only reads and dry-run applies (every other request the
// server sees during PlanKubernetes carries dryRun=All), that a plan
// written as JSON, read back and applied step by step reaches the state
// EnsureKubernetes keeps (a later Ensure writes nothing), that another
// field manager's edit shows up in the plan field by field and the applied
// plan corrects it, and that DeleteKubernetes takes everything of ours.
func TestKubernetesPlanAsDataOnAPIServer(t *testing.T) {
	cp := controlplane.RequireNew(t)
	api, wc := realClient(t, cp)
	ctx := t.Context()
	env := mustDefault(t, spec.Production)

	// planOnly plans and checks that nothing but dry-runs was sent.
	planOnly := func(t *testing.T) network.KubernetesPlan {
		t.Helper()
		wc.take()
		plan := planK8s(t, api, env)
		all, dry := wc.takeAll()
		for _, r := range all {
			if !strings.Contains(r, "?dryRun=All") && !strings.Contains(r, "&dryRun=All") {
				t.Errorf("PlanKubernetes sent %s, which is not a dry-run", r)
			}
		}
		if len(dry) == 0 {
			t.Error("PlanKubernetes sent no dry-run apply: the check above proves nothing")
		}
		return plan
	}
	// applyRead applies the plan read back from JSON and returns the
	// writes it sent.
	applyRead := func(t *testing.T, plan network.KubernetesPlan) []string {
		t.Helper()
		wc.take()
		applyPlan(ctx, t, api, kubePlanJSON(t, plan))
		return wc.take()
	}

	t.Run("plan, save, apply", func(t *testing.T) {
		plan := planOnly(t)
		if n := plan.Result().Count(change.Create); n != productionObjects || len(plan.Steps) != productionObjects {
			t.Fatalf("plan on an empty cluster: %d steps, %d creates; want %d", len(plan.Steps), n, productionObjects)
		}
		w := applyRead(t, plan)
		if len(w) != len(plan.Steps) {
			t.Errorf("%d writes for %d steps: %q", len(w), len(plan.Steps), w)
		}
		for _, x := range w {
			if !strings.HasPrefix(x, "PATCH ") {
				t.Errorf("write %s is not a server-side apply", x)
			}
		}
		if res := ensureK8s(t, api, env); res.Changed() {
			t.Errorf("EnsureKubernetes after the plan was applied: %q", res.Result.Lines())
		}
		if w := wc.take(); len(w) != 0 {
			t.Errorf("EnsureKubernetes after the plan was applied wrote %q", w)
		}
		if again := planOnly(t); !again.Empty() || len(again.Base) != productionObjects {
			t.Errorf("plan after apply: %d steps, %d objects observed; want 0 and %d", len(again.Steps), len(again.Base), productionObjects)
		}
	})

	t.Run("foreign manager's edit is planned per field and corrected", func(t *testing.T) {
		np, err := api.NetworkingV1().NetworkPolicies("jobs").Get(ctx, network.PolicyDefaultDeny, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		np.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
		np.Labels["cost-center"] = "42" // not ours: not drift
		if _, err := api.NetworkingV1().NetworkPolicies("jobs").Update(ctx, np, metav1.UpdateOptions{FieldManager: "kubectl-edit"}); err != nil {
			t.Fatal(err)
		}
		plan := planOnly(t)
		want := []string{`update networkpolicy/jobs/default-deny spec.policyTypes: ["Ingress"] → ["Ingress","Egress"]`}
		if got := plan.Result().Lines(); !slices.Equal(got, want) {
			t.Errorf("plan\n got %q\nwant %q", got, want)
		}
		if w := applyRead(t, plan); !slices.Equal(w, []string{"PATCH /apis/networking.k8s.io/v1/namespaces/jobs/networkpolicies/default-deny"}) {
			t.Errorf("writes %q, want one apply of the policy", w)
		}
		np, err = api.NetworkingV1().NetworkPolicies("jobs").Get(ctx, network.PolicyDefaultDeny, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(np.Spec.PolicyTypes) != 2 || np.Labels["cost-center"] != "42" {
			t.Errorf("after the plan: policyTypes %v, labels %v; want both types and the other manager's label kept", np.Spec.PolicyTypes, np.Labels)
		}
		if again := planOnly(t); !again.Empty() {
			t.Errorf("not converged: %q", again.Result().Lines())
		}
	})

	t.Run("delete", func(t *testing.T) {
		wc.take()
		res, err := network.DeleteKubernetes(ctx, api, env)
		if err != nil {
			t.Fatalf("DeleteKubernetes: %v", err)
		}
		w := wc.take()
		for _, x := range w {
			if !strings.HasPrefix(x, "DELETE ") {
				t.Errorf("DeleteKubernetes sent %s", x)
			}
		}
		if n := res.Count(change.Delete); n != len(w) || n == 0 {
			t.Errorf("%d deletes reported, %d sent: %q", n, len(w), w)
		}
		if last := w[len(w)-1]; !strings.HasPrefix(last, "DELETE /api/v1/namespaces/") || strings.Count(last, "/") != 4 {
			t.Errorf("last delete %s, want a namespace", last)
		}
		for _, id := range []string{network.AdminClusterRole, network.ViewerClusterRole, network.DeployerClusterRole} {
			if _, err := api.RbacV1().ClusterRoles().Get(ctx, id, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				t.Errorf("ClusterRole %s after DeleteKubernetes: %v", id, err)
			}
		}
		// No namespace controller runs here: our namespaces stay Terminating.
		for _, ns := range []string{"apps", "jobs", network.SystemNamespace} {
			if n, err := api.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); err == nil && n.DeletionTimestamp == nil {
				t.Errorf("namespace %s is not being deleted", ns)
			}
		}
		if again, err := network.DeleteKubernetes(ctx, api, env); err != nil || again.Changed() {
			t.Errorf("second DeleteKubernetes: %v, %q", err, again.Result.Lines())
		}
		if w := wc.take(); len(w) != 0 {
			t.Errorf("second DeleteKubernetes wrote %q", w)
		}
	})
}
