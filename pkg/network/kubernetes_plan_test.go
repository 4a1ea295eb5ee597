package network_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/org/platform/internal/reconcile"
	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/network"
	"github.com/org/platform/pkg/network/networktest"
	"github.com/org/platform/pkg/spec"
)

// kubePlanJSON writes the plan as JSON and reads it back, as a plan saved
// for review and applied by another process would be.
func kubePlanJSON(t *testing.T, p network.KubernetesPlan) network.KubernetesPlan {
	t.Helper()
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var back network.KubernetesPlan
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	return back
}

// applyPlan carries out exactly the plan's steps.
func applyPlan(ctx context.Context, t *testing.T, api kubernetes.Interface, p network.KubernetesPlan) change.Result {
	t.Helper()
	res, err := reconcile.Apply(ctx, p.Plan, &change.Outputs{}, func(ctx context.Context, s change.Step, out *change.Outputs) error {
		return network.ApplyKubernetesStep(ctx, api, s, out)
	})
	if err != nil {
		t.Fatalf("apply the plan read back: %v", err)
	}
	return res
}

func stepIDs(p network.KubernetesPlan) []string {
	var ids []string
	for _, s := range p.Steps {
		ids = append(ids, s.ID)
	}
	return ids
}

// TestPlanKubernetesNew plans each standard environment for a cluster
// that does not exist yet: every object the spec asks for is a create, in
// the same steps PlanKubernetes finds for an empty cluster, and applying
// that plan read back from JSON leaves nothing to do.
func TestPlanKubernetesNew(t *testing.T) {
	t.Parallel()
	for _, name := range spec.StandardNames() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := mustDefault(t, name)
			plan, err := network.PlanKubernetesNew(env)
			if err != nil {
				t.Fatal(err)
			}
			if want := baselineObjects(name); len(plan.Steps) != want || plan.Result().Count(change.Create) != want {
				t.Errorf("%d steps, %s; want %d creates", len(plan.Steps), plan.Result().Summary(), want)
			}
			ids := map[string]bool{}
			for _, s := range plan.Steps {
				if s.Kind != network.StepKubernetesApply || s.Op != change.Create || s.Env != name || s.Layer != change.LayerKubernetes {
					t.Errorf("step %s: %s %s in %s/%s, want a k8s.apply create in %s", s.ID, s.Kind, s.Op, s.Env, s.Layer, name)
				}
				if ids[s.ID] {
					t.Errorf("step ID %s twice", s.ID)
				}
				ids[s.ID] = true
				if v := plan.Base[s.Object+" fields"]; v != "absent" {
					t.Errorf("base of %s = %q, want absent", s.Object, v)
				}
			}
			for _, id := range []string{
				name + "/kubernetes/namespace/apps",
				name + "/kubernetes/networkpolicy/apps/default-deny",
				name + "/kubernetes/clusterrole/platform:admin",
			} {
				if !ids[id] {
					t.Errorf("no step %s", id)
				}
			}

			cs := networktest.NewClientset()
			observed := planK8s(t, cs, env)
			if got, want := stepIDs(observed), stepIDs(plan); !slices.Equal(got, want) {
				t.Errorf("PlanKubernetes on an empty cluster\n got %q\nwant %q", got, want)
			}
			applyPlan(t.Context(), t, cs, kubePlanJSON(t, plan))
			if after := planK8s(t, cs, env); !after.Empty() {
				t.Errorf("after applying the new-cluster plan: %q", after.Result().Lines())
			}
		})
	}
}

// TestKubernetesPlanReadBackAndApplied makes a plan with drift of every
// kind (a field another manager changed, an object the spec dropped, one
// it added), writes it as JSON, reads it back and applies it: the writes
// are exactly the plan's steps, and EnsureKubernetes then finds nothing
// to do.
func TestKubernetesPlanReadBackAndApplied(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cs := networktest.NewClientset()
	env := mustDefault(t, spec.Production)
	ensureK8s(t, cs, env)
	np, err := cs.NetworkingV1().NetworkPolicies("apps").Get(ctx, network.PolicyDefaultDeny, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	np.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
	if _, err := cs.NetworkingV1().NetworkPolicies("apps").Update(ctx, np, metav1.UpdateOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatal(err)
	}
	env.Namespaces = env.Namespaces[:1]                                 // jobs goes
	env.Namespaces[0].Labels = map[string]string{"tier": "web"}         // a field added
	env.Namespaces[0].DataServices = env.Namespaces[0].DataServices[:1] // a rule dropped

	plan := planK8s(t, cs, env)
	var jobsUID string
	if ns, err := cs.CoreV1().Namespaces().Get(ctx, "jobs", metav1.GetOptions{}); err == nil {
		jobsUID = string(ns.UID)
	}
	if got := plan.Base["namespace/jobs uid"]; got != jobsUID {
		t.Errorf("base of the pruned namespace %q, want its uid %q", got, jobsUID)
	}
	n := len(cs.Actions())
	res := applyPlan(ctx, t, cs, kubePlanJSON(t, plan))
	if got, want := res.Lines(), plan.Result().Lines(); !slices.Equal(got, want) {
		t.Errorf("applied\n got %q\nwant %q", got, want)
	}
	var want []string
	for _, s := range plan.Steps {
		switch s.Kind {
		case network.StepKubernetesApply:
			want = append(want, "patch "+s.Object)
		case network.StepKubernetesDelete:
			want = append(want, "delete "+s.Object)
		}
	}
	var got []string
	for _, w := range writes(cs, n) {
		verb, rest, _ := strings.Cut(w, " ")
		resource, name, _ := strings.Cut(rest, " ")
		kind := strings.TrimSuffix(resource, "s")
		if k, ok := strings.CutSuffix(resource, "ies"); ok {
			kind = k + "y"
		}
		ns, obj, _ := strings.Cut(name, "/")
		if ns == "" {
			got = append(got, verb+" "+kind+"/"+obj)
		} else {
			got = append(got, verb+" "+kind+"/"+ns+"/"+obj)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("writes\n got %q\nwant the plan's steps %q", got, want)
	}
	if len(want) < 4 {
		t.Errorf("plan %q has fewer steps than the drift made", want)
	}
	n = len(cs.Actions())
	if again := ensureK8s(t, cs, env); again.Changed() {
		t.Errorf("EnsureKubernetes after the plan was applied: %q", again.Result.Lines())
	}
	if w := writes(cs, n); len(w) != 0 {
		t.Errorf("EnsureKubernetes after the plan was applied wrote %q", w)
	}
}

// TestKubernetesPlanBase: the base records, per object, the fields we own
// — moved by another manager's edit of a field of ours, not by a label
// another manager adds, and never by the server's bookkeeping.
func TestKubernetesPlanBase(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cs := networktest.NewClientset()
	env := mustDefault(t, spec.Production)
	ensureK8s(t, cs, env)
	before := planK8s(t, cs, env)

	ns, err := cs.CoreV1().Namespaces().Get(ctx, "apps", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ns.Labels["cost-center"] = "42"
	if _, err := cs.CoreV1().Namespaces().Update(ctx, ns, metav1.UpdateOptions{FieldManager: "finops"}); err != nil {
		t.Fatal(err)
	}
	q, err := cs.CoreV1().ResourceQuotas("jobs").Get(ctx, network.QuotaName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	q.Spec.Hard[corev1.ResourcePods] = q.Spec.Hard[corev1.ResourceServices]
	if _, err := cs.CoreV1().ResourceQuotas("jobs").Update(ctx, q, metav1.UpdateOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatal(err)
	}
	after := planK8s(t, cs, env)
	moved := before.Moved(after.Base)
	if len(moved) != 1 || !strings.HasPrefix(moved[0], "resourcequota/jobs/platform-quota fields: ") {
		t.Errorf("base moved %q, want only the quota's fields", moved)
	}
}

// TestApplyKubernetesStepRefusesOtherKinds: a step of another package is
// an error, and sends nothing.
func TestApplyKubernetesStepRefusesOtherKinds(t *testing.T) {
	t.Parallel()
	cs := networktest.NewClientset()
	s, err := change.NewStep("production/linode/firewall/platform-production", change.LayerLinode, "firewall.create", change.Create, "firewall/platform-production", map[string]string{"label": "platform-production"})
	if err != nil {
		t.Fatal(err)
	}
	err = network.ApplyKubernetesStep(t.Context(), cs, s, &change.Outputs{})
	if err == nil || !strings.Contains(err.Error(), `kind "firewall.create"`) {
		t.Errorf("ApplyKubernetesStep(firewall.create) = %v, want an error naming the kind", err)
	}
	if n := len(cs.Actions()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

// TestDeleteKubernetes tears an environment's baseline down: everything of
// ours goes, namespaces last, a namespace still running pods is kept and
// reported, and a second call deletes what is left once it is drained,
// then writes nothing.
func TestDeleteKubernetes(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cs := networktest.NewClientset()
	env := mustDefault(t, spec.Development)
	ensureK8s(t, cs, env)
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "legacy"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Pods("jobs").Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "etl", Namespace: "jobs"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	n := len(cs.Actions())
	res, err := network.DeleteKubernetes(ctx, cs, env)
	if err != nil {
		t.Fatalf("DeleteKubernetes: %v", err)
	}
	if len(res.Retained) != 1 || res.Retained[0].Object != "namespace/jobs" {
		t.Errorf("Retained %q, want namespace/jobs", res.Retained)
	}
	w := writes(cs, n)
	if len(w) == 0 || w[len(w)-1] != "delete namespaces /platform-system" && w[len(w)-1] != "delete namespaces /apps" {
		t.Errorf("writes %q: want namespaces deleted last", w)
	}
	for _, x := range w {
		if !strings.HasPrefix(x, "delete ") || strings.Contains(x, " jobs/") || strings.HasSuffix(x, "/jobs") {
			t.Errorf("write %s: want only deletes, none in the namespace that runs pods", x)
		}
	}
	if left := readOurs(ctx, t, cs, env.Name); len(left) == 0 {
		t.Error("the kept namespace's objects are gone too")
	}

	if err := cs.CoreV1().Pods("jobs").Delete(ctx, "etl", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if res, err = network.DeleteKubernetes(ctx, cs, env); err != nil || len(res.Retained) != 0 {
		t.Fatalf("DeleteKubernetes once drained: %v, retained %q", err, res.Retained)
	}
	for _, o := range readOurs(ctx, t, cs, env.Name) {
		// The fake runs no namespace controller: the contents of a deleted
		// namespace stay, and nothing else may.
		md := o["metadata"].(map[string]any)
		ns, _ := md["namespace"].(string)
		if ns != "" {
			if _, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); apierrors.IsNotFound(err) {
				continue
			}
		}
		t.Errorf("left behind: %s %s/%s", o["kind"], ns, md["name"])
	}
	if _, err := cs.CoreV1().Namespaces().Get(ctx, "legacy", metav1.GetOptions{}); err != nil {
		t.Errorf("a namespace that is not ours: %v", err)
	}
	n = len(cs.Actions())
	if res, err := network.DeleteKubernetes(ctx, cs, env); err != nil || res.Changed() {
		t.Errorf("third DeleteKubernetes: %v, %q", err, res.Result.Lines())
	}
	if w := writes(cs, n); len(w) != 0 {
		t.Errorf("third DeleteKubernetes wrote %q", w)
	}
}
