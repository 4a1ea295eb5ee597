package network

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"go.uber.org/zap"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	rbacv1ac "k8s.io/client-go/applyconfigurations/rbac/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/org/platform/pkg/spec"
)

// Kinds of Finding.
const (
	FindingNetworkPolicy = "networkpolicy"
	FindingRBAC          = "rbac"
)

// Finding is one weakness of an environment's security posture that no
// field of the spec shows: a NetworkPolicy that opens flows beyond the
// intended ones, or a role binding the spec does not declare that grants
// what only administrators should hold.
type Finding struct {
	// Kind is FindingNetworkPolicy or FindingRBAC.
	Kind string `json:"kind"`
	// Object names the object: "networkpolicy/apps/allow-all",
	// "clusterrolebinding/ci-admin", "rolebinding/apps/impersonators".
	Object string `json:"object"`
	// Namespace is the object's namespace; empty for cluster-scoped ones.
	Namespace string `json:"namespace,omitempty"`
	// Detail says in words what is wrong.
	Detail string `json:"detail"`
	// Flows lists, for a NetworkPolicy, the flows it opens that the
	// rendered baseline denies, as "source → destination port", computed
	// by the truth table of the zero-trust tests.
	Flows []string `json:"flows,omitempty"`
	// Grants lists, for a binding, what it grants that is dangerous, and to
	// whom: "* on *.* (ClusterRole cluster-admin) to User mallory".
	Grants []string `json:"grants,omitempty"`
}

// String renders the finding for the human report: a line naming the
// object and the detail, then one indented line per flow or grant.
func (f Finding) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", f.Object, f.Detail)
	for _, l := range f.Flows {
		b.WriteString("\n    opens " + l)
	}
	for _, l := range f.Grants {
		b.WriteString("\n    grants " + l)
	}
	return b.String()
}

// Posture reports the security posture of env's cluster beyond its
// fields, read-only (it sends six LIST requests and nothing else):
//
//   - every NetworkPolicy in a namespace this package writes policies in
//     that it did not render — or that carries a rendered name but a
//     different spec, such as an allow-all policy with our labels written
//     by another field manager — and that admits flows the rendered
//     baseline denies. The flows are those of the zero-trust truth table
//     (the world of pods and addresses the tests use, extended with the
//     pods, ports and networks the policy itself names), with the policy
//     added to (or, under a rendered name, in place of) the rendered
//     policies. A policy that only restricts more is not reported.
//   - every RoleBinding and ClusterRoleBinding the spec does not declare
//     that grants all verbs on all resources, or the verbs escalate, bind
//     or impersonate (also through a wildcard verb or resource), resolved
//     through the Role or ClusterRole it references. The bindings the API
//     server bootstraps on every cluster are not reported: those labelled
//     kubernetes.io/bootstrapping=rbac-defaults, named cluster-admin or
//     system:…, whose subjects are all system identities (a User or Group
//     named system:…, or a ServiceAccount in kube-system) — cluster-admin
//     for the group system:masters, and the controllers' own bindings,
//     some of which escalate or bind by design (the ClusterRole
//     aggregation controller). A subject added to one of them is reported.
//     Bindings declared by this package (see the package documentation)
//     are not reported while they are exactly as rendered.
//
// Findings are sorted by kind and object. env is defaulted and validated
// first, as by PlanKubernetes; WithAdminGroup and WithViewerGroup must be
// those the baseline was applied with.
func Posture(ctx context.Context, kube kubernetes.Interface, env spec.Environment, opts ...Option) ([]Finding, error) {
	r, err := newKubeRun(kube, env, opts)
	if err != nil {
		return nil, err
	}
	var findings []Finding
	np, err := r.policyFindings(ctx)
	if err != nil {
		return nil, err
	}
	findings = append(findings, np...)
	rb, err := r.rbacFindings(ctx)
	if err != nil {
		return nil, err
	}
	findings = append(findings, rb...)
	slices.SortFunc(findings, func(a, b Finding) int {
		if c := strings.Compare(a.Kind, b.Kind); c != 0 {
			return c
		}
		return strings.Compare(a.Object, b.Object)
	})
	r.log.Debug("security posture read", zap.Int("findings", len(findings)))
	return findings, nil
}

func (r *kubeRun) policyFindings(ctx context.Context) ([]Finding, error) {
	rendered, err := renderedPolicies(r.env, r.o)
	if err != nil {
		return nil, err
	}
	var live *networkingv1.NetworkPolicyList
	if err := r.retry(ctx, "list NetworkPolicies", func(ctx context.Context) error {
		var err error
		live, err = r.api.NetworkingV1().NetworkPolicies("").List(ctx, metav1.ListOptions{})
		return err
	}); err != nil {
		return nil, err
	}
	nsLabels := map[string]map[string]string{}
	if err := r.retry(ctx, "list namespaces", func(ctx context.Context) error {
		l, err := r.api.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		for _, ns := range l.Items {
			nsLabels[ns.Name] = ns.Labels
		}
		return nil
	}); err != nil {
		return nil, err
	}
	labels := func(ns string) map[string]string { return nsLabels[ns] }

	owned := ownedPolicyNamespaces(r.env)
	key := func(np *networkingv1.NetworkPolicy) string { return np.Namespace + "/" + np.Name }
	ours := map[string]*networkingv1.NetworkPolicy{}
	for _, np := range rendered {
		ours[key(np)] = np
	}
	var out []Finding
	for i := range live.Items {
		np := &live.Items[i]
		if !slices.Contains(owned, np.Namespace) {
			continue
		}
		mine, named := ours[key(np)]
		if named && equality.Semantic.DeepEqual(normalPolicySpec(mine.Spec), normalPolicySpec(np.Spec)) {
			continue
		}
		// The policy set as it would be with this one policy live: the
		// rendered ones, this one in place of its namesake.
		set := []*networkingv1.NetworkPolicy{np}
		for _, p := range rendered {
			if key(p) != key(np) {
				set = append(set, p)
			}
		}
		w := newWorld(r.env)
		w.extend(np)
		before := evaluate(w, rendered, labels)
		after := evaluate(w, set, labels)
		var opened []string
		for i, src := range w.sources {
			for j, dst := range w.dests {
				if after.allowed[i][j] && !before.allowed[i][j] {
					opened = append(opened, flow(src, dst))
				}
			}
		}
		if len(opened) == 0 {
			continue
		}
		detail := fmt.Sprintf("not rendered by the platform; opens %d flow(s) the baseline denies", len(opened))
		if named {
			detail = fmt.Sprintf("differs from the rendered policy; opens %d flow(s) the baseline denies", len(opened))
		}
		if m := managers(np.ManagedFields); m != "" {
			detail += " (written by " + m + ")"
		}
		out = append(out, Finding{Kind: FindingNetworkPolicy, Object: objectID(kindNetworkPolicy, np.Namespace, np.Name),
			Namespace: np.Namespace, Detail: detail, Flows: opened})
	}
	return out, nil
}

// normalPolicySpec leaves out what the API server may fill in or order
// differently without changing what a policy admits.
func normalPolicySpec(s networkingv1.NetworkPolicySpec) networkingv1.NetworkPolicySpec {
	s = *s.DeepCopy()
	if s.PodSelector.MatchLabels != nil && len(s.PodSelector.MatchLabels) == 0 {
		s.PodSelector.MatchLabels = nil
	}
	return s
}

// managers lists the field managers of an object, sorted.
func managers(mf []metav1.ManagedFieldsEntry) string {
	var m []string
	for _, e := range mf {
		if !slices.Contains(m, e.Manager) {
			m = append(m, e.Manager)
		}
	}
	slices.Sort(m)
	return strings.Join(m, ", ")
}

// dangerousVerbs are the verbs that let a holder raise its own rights.
var dangerousVerbs = []string{"escalate", "bind", "impersonate"}

// dangerousGrants returns what rules grant that Posture reports.
func dangerousGrants(rules []rbacv1.PolicyRule) []string {
	var out []string
	for _, r := range rules {
		if len(r.Resources) == 0 {
			continue // non-resource URLs
		}
		groups := strings.Join(r.APIGroups, ",")
		if groups == "" {
			groups = `""`
		}
		what := fmt.Sprintf("%s (apiGroups %s)", strings.Join(r.Resources, ","), groups)
		all := slices.Contains(r.Verbs, rbacv1.VerbAll)
		switch {
		case all && slices.Contains(r.Resources, rbacv1.ResourceAll) && slices.Contains(r.APIGroups, rbacv1.APIGroupAll):
			out = append(out, "all verbs on all resources")
		case all:
			out = append(out, "all verbs (so escalate, bind and impersonate) on "+what)
		default:
			for _, v := range dangerousVerbs {
				if slices.Contains(r.Verbs, v) {
					out = append(out, v+" on "+what)
				}
			}
		}
	}
	return out
}

// bootstrapBinding tells the bindings the API server creates on every
// cluster, as Posture's documentation lists them.
func bootstrapBinding(m metav1.ObjectMeta, subjects []rbacv1.Subject) bool {
	if m.Labels["kubernetes.io/bootstrapping"] != "rbac-defaults" {
		return false
	}
	if m.Name != "cluster-admin" && !strings.HasPrefix(m.Name, "system:") {
		return false
	}
	for _, s := range subjects {
		switch {
		case s.Kind == rbacv1.ServiceAccountKind && s.Namespace == "kube-system":
		case (s.Kind == rbacv1.UserKind || s.Kind == rbacv1.GroupKind) && strings.HasPrefix(s.Name, "system:"):
		default:
			return false
		}
	}
	return true
}

func subjectString(s rbacv1.Subject) string {
	if s.Kind == rbacv1.ServiceAccountKind {
		return "ServiceAccount " + s.Namespace + "/" + s.Name
	}
	return s.Kind + " " + s.Name
}

func (r *kubeRun) rbacFindings(ctx context.Context) ([]Finding, error) {
	var (
		crbs  *rbacv1.ClusterRoleBindingList
		rbs   *rbacv1.RoleBindingList
		crs   *rbacv1.ClusterRoleList
		roles *rbacv1.RoleList
	)
	for _, l := range []struct {
		what string
		do   func(ctx context.Context) error
	}{
		{"list ClusterRoleBindings", func(ctx context.Context) (err error) {
			crbs, err = r.api.RbacV1().ClusterRoleBindings().List(ctx, metav1.ListOptions{})
			return err
		}},
		{"list RoleBindings", func(ctx context.Context) (err error) {
			rbs, err = r.api.RbacV1().RoleBindings("").List(ctx, metav1.ListOptions{})
			return err
		}},
		{"list ClusterRoles", func(ctx context.Context) (err error) {
			crs, err = r.api.RbacV1().ClusterRoles().List(ctx, metav1.ListOptions{})
			return err
		}},
		{"list Roles", func(ctx context.Context) (err error) {
			roles, err = r.api.RbacV1().Roles("").List(ctx, metav1.ListOptions{})
			return err
		}},
	} {
		if err := r.retry(ctx, l.what, l.do); err != nil {
			return nil, err
		}
	}
	clusterRules := map[string][]rbacv1.PolicyRule{}
	for _, cr := range crs.Items {
		clusterRules[cr.Name] = cr.Rules
	}
	roleRules := map[string][]rbacv1.PolicyRule{}
	for _, ro := range roles.Items {
		roleRules[ro.Namespace+"/"+ro.Name] = ro.Rules
	}
	declared := r.declaredBindings()

	var out []Finding
	check := func(k *kind, m metav1.ObjectMeta, ref rbacv1.RoleRef, subjects []rbacv1.Subject) {
		id := objectID(k, m.Namespace, m.Name)
		if d, ok := declared[id]; ok && d.ref == ref && slices.Equal(d.subjects, subjects) {
			return
		}
		if bootstrapBinding(m, subjects) {
			return
		}
		if r.o.declared[id] || r.o.releases[m.Annotations["meta.helm.sh/release-namespace"]+"/"+m.Annotations["meta.helm.sh/release-name"]] {
			return // declared by the release's manifest, compared by its plan
		}
		var rules []rbacv1.PolicyRule
		var found bool
		switch ref.Kind {
		case "ClusterRole":
			rules, found = clusterRules[ref.Name]
		case "Role":
			rules, found = roleRules[m.Namespace+"/"+ref.Name]
		}
		if !found {
			return // a binding to a missing role grants nothing, yet
		}
		grants := dangerousGrants(rules)
		if len(grants) == 0 {
			return
		}
		var who []string
		for _, s := range subjects {
			who = append(who, subjectString(s))
		}
		var lines []string
		for _, g := range grants {
			lines = append(lines, fmt.Sprintf("%s (%s %s) to %s", g, ref.Kind, ref.Name, strings.Join(who, ", ")))
		}
		detail := "not declared by the spec"
		if _, ok := declared[id]; ok {
			detail = "differs from the declared binding"
		}
		if mgr := managers(m.ManagedFields); mgr != "" {
			detail += " (written by " + mgr + ")"
		}
		out = append(out, Finding{Kind: FindingRBAC, Object: id, Namespace: m.Namespace, Detail: detail, Grants: lines})
	}
	for _, b := range crbs.Items {
		check(kindClusterRoleBinding, b.ObjectMeta, b.RoleRef, b.Subjects)
	}
	for _, b := range rbs.Items {
		check(kindRoleBinding, b.ObjectMeta, b.RoleRef, b.Subjects)
	}
	return out, nil
}

type declaredBinding struct {
	ref      rbacv1.RoleRef
	subjects []rbacv1.Subject
}

// declaredBindings are the bindings the baseline renders, by object id.
func (r *kubeRun) declaredBindings() map[string]declaredBinding {
	out := map[string]declaredBinding{}
	conv := func(ref *rbacv1ac.RoleRefApplyConfiguration, subs []rbacv1ac.SubjectApplyConfiguration) declaredBinding {
		d := declaredBinding{ref: rbacv1.RoleRef{APIGroup: *ref.APIGroup, Kind: *ref.Kind, Name: *ref.Name}}
		for _, s := range subs {
			sub := rbacv1.Subject{Kind: *s.Kind, Name: *s.Name}
			if s.APIGroup != nil {
				sub.APIGroup = *s.APIGroup
			}
			if s.Namespace != nil {
				sub.Namespace = *s.Namespace
			}
			d.subjects = append(d.subjects, sub)
		}
		return d
	}
	for _, o := range r.desired {
		switch ac := o.ac.(type) {
		case *rbacv1ac.ClusterRoleBindingApplyConfiguration:
			out[o.id()] = conv(ac.RoleRef, ac.Subjects)
		case *rbacv1ac.RoleBindingApplyConfiguration:
			out[o.id()] = conv(ac.RoleRef, ac.Subjects)
		}
	}
	return out
}
