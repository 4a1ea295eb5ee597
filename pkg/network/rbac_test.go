package network_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/org/platform/pkg/network"
	"github.com/org/platform/pkg/spec"
)

// who is a subject asking for access.
type who struct {
	name   string
	user   string
	groups []string
}

// access is one request of the permission matrix.
type access struct {
	verb, group, resource, namespace string
}

func (a access) String() string {
	r := a.resource
	if a.group != "" {
		r += "." + a.group
	}
	if a.namespace != "" {
		return fmt.Sprintf("%s %s in %s", a.verb, r, a.namespace)
	}
	return fmt.Sprintf("%s %s", a.verb, r)
}

func (a access) write() bool {
	return !slices.Contains([]string{"get", "list", "watch"}, a.verb)
}

var subjects = []who{
	{"admin", "alice", []string{network.DefaultAdminGroup, "system:authenticated"}},
	{"viewer", "victor", []string{network.DefaultViewerGroup, "system:authenticated"}},
	{"deployer", "system:serviceaccount:" + network.SystemNamespace + ":" + network.DeployerServiceAccount,
		[]string{"system:serviceaccounts", "system:serviceaccounts:" + network.SystemNamespace, "system:authenticated"}},
	{"outsider", "mallory", []string{"system:authenticated"}},
}

var accesses = []access{
	{"create", "apps", "deployments", "apps"},
	{"patch", "apps", "deployments", "jobs"},
	{"delete", "", "pods", "apps"},
	{"list", "", "pods", "apps"},
	{"get", "", "secrets", "apps"},
	{"create", "", "secrets", "apps"},
	{"update", "networking.k8s.io", "networkpolicies", "apps"},
	{"delete", "networking.k8s.io", "networkpolicies", "apps"},
	{"update", "", "resourcequotas", "apps"},
	{"create", "rbac.authorization.k8s.io", "rolebindings", "apps"},
	{"create", "apps", "deployments", "kube-system"},
	{"create", "apps", "deployments", network.SystemNamespace},
	{"delete", "", "namespaces", ""},
	{"create", "rbac.authorization.k8s.io", "clusterrolebindings", ""},
	{"list", "", "nodes", ""},
	{"get", "", "secrets", "kube-system"},
}

// intendedAccess is the baseline RBAC of the brief written as code.
func intendedAccess(env spec.Environment, w who, a access) bool {
	switch w.name {
	case "admin":
		if !env.GitOps.GitOpsOnly {
			return true
		}
		return viewerMay(a)
	case "viewer":
		return viewerMay(a)
	case "deployer":
		inSpec := slices.ContainsFunc(env.Namespaces, func(ns spec.Namespace) bool { return ns.Name == a.namespace })
		workload := slices.Contains([]string{"deployments", "pods", "secrets"}, a.resource)
		return inSpec && workload
	}
	return false
}

func viewerMay(a access) bool {
	return !a.write() && a.resource != "secrets"
}

// accessMatrix renders, for each subject and request, whether decide
// allows it, and lists where it differs from intendedAccess.
func accessMatrix(env spec.Environment, decide func(who, access) bool) (string, []string) {
	var b strings.Builder
	var wrong []string
	fmt.Fprintf(&b, "# Effective permissions in environment %q (✓ allowed, · denied).\n", env.Name)
	for _, w := range subjects {
		fmt.Fprintf(&b, "\n%s (%s):\n", w.name, w.user)
		for _, a := range accesses {
			got := decide(w, a)
			mark := "·"
			if got {
				mark = "✓"
			}
			fmt.Fprintf(&b, "  %-56s %s\n", a, mark)
			if want := intendedAccess(env, w, a); got != want {
				wrong = append(wrong, fmt.Sprintf("%s: %s: allowed %t, intended %t", w.name, a, got, want))
			}
		}
	}
	return b.String(), wrong
}

// rbacObjects is every Role, ClusterRole and binding the API server holds.
type rbacObjects struct {
	clusterRoles        []rbacv1.ClusterRole
	roles               []rbacv1.Role
	clusterRoleBindings []rbacv1.ClusterRoleBinding
	roleBindings        []rbacv1.RoleBinding
}

func readRBAC(ctx context.Context, t *testing.T, api kubernetes.Interface) rbacObjects {
	t.Helper()
	var o rbacObjects
	crs, err := api.RbacV1().ClusterRoles().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := api.RbacV1().Roles("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	crbs, err := api.RbacV1().ClusterRoleBindings().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rbs, err := api.RbacV1().RoleBindings("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	o.clusterRoles, o.roles, o.clusterRoleBindings, o.roleBindings = crs.Items, rs.Items, crbs.Items, rbs.Items
	return o
}

// evaluate decides a request the way the RBAC authorizer does for these
// objects (without aggregation or resourceNames, which the baseline does
// not use): allowed when a binding that applies names the subject and its
// role has a rule matching verb, API group and resource.
func (o rbacObjects) evaluate(w who, a access) bool {
	named := func(subjects []rbacv1.Subject, bindingNS string) bool {
		for _, s := range subjects {
			switch s.Kind {
			case rbacv1.UserKind:
				if s.Name == w.user {
					return true
				}
			case rbacv1.GroupKind:
				if slices.Contains(w.groups, s.Name) {
					return true
				}
			case rbacv1.ServiceAccountKind:
				ns := s.Namespace
				if ns == "" {
					ns = bindingNS
				}
				if w.user == "system:serviceaccount:"+ns+":"+s.Name {
					return true
				}
			}
		}
		return false
	}
	rulesOf := func(ref rbacv1.RoleRef, ns string) []rbacv1.PolicyRule {
		if ref.Kind == "ClusterRole" {
			for _, r := range o.clusterRoles {
				if r.Name == ref.Name {
					return r.Rules
				}
			}
			return nil
		}
		for _, r := range o.roles {
			if r.Name == ref.Name && r.Namespace == ns {
				return r.Rules
			}
		}
		return nil
	}
	has := func(list []string, v string) bool { return slices.Contains(list, "*") || slices.Contains(list, v) }
	allows := func(rules []rbacv1.PolicyRule) bool {
		for _, r := range rules {
			if has(r.Verbs, a.verb) && has(r.APIGroups, a.group) && has(r.Resources, a.resource) && len(r.ResourceNames) == 0 {
				return true
			}
		}
		return false
	}
	for _, b := range o.clusterRoleBindings {
		if named(b.Subjects, "") && allows(rulesOf(b.RoleRef, "")) {
			return true
		}
	}
	for _, b := range o.roleBindings {
		if a.namespace != "" && b.Namespace == a.namespace && named(b.Subjects, b.Namespace) && allows(rulesOf(b.RoleRef, b.Namespace)) {
			return true
		}
	}
	return false
}

// humanWrites lists every write any non-system group is granted by any
// binding: none may exist in a GitOps-only environment.
func (o rbacObjects) humanWrites() []string {
	var out []string
	check := func(binding string, subjects []rbacv1.Subject, ref rbacv1.RoleRef, ns string) {
		for _, s := range subjects {
			if s.Kind != rbacv1.GroupKind && s.Kind != rbacv1.UserKind || strings.HasPrefix(s.Name, "system:") {
				continue
			}
			var rules []rbacv1.PolicyRule
			for _, r := range o.clusterRoles {
				if ref.Kind == "ClusterRole" && r.Name == ref.Name {
					rules = r.Rules
				}
			}
			for _, r := range o.roles {
				if ref.Kind == "Role" && r.Name == ref.Name && r.Namespace == ns {
					rules = r.Rules
				}
			}
			for _, r := range rules {
				for _, v := range r.Verbs {
					if !slices.Contains([]string{"get", "list", "watch"}, v) {
						out = append(out, fmt.Sprintf("%s %q may %s %v %v via %s", s.Kind, s.Name, v, r.APIGroups, r.Resources, binding))
					}
				}
			}
		}
	}
	for _, b := range o.clusterRoleBindings {
		check("clusterrolebinding/"+b.Name, b.Subjects, b.RoleRef, "")
	}
	for _, b := range o.roleBindings {
		check("rolebinding/"+b.Namespace+"/"+b.Name, b.Subjects, b.RoleRef, b.Namespace)
	}
	return out
}

// subjectAccessReview asks the API server itself.
func subjectAccessReview(ctx context.Context, t *testing.T, api kubernetes.Interface) func(who, access) bool {
	return func(w who, a access) bool {
		t.Helper()
		sar, err := api.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{
			Spec: authorizationv1.SubjectAccessReviewSpec{
				User: w.user, Groups: w.groups,
				ResourceAttributes: &authorizationv1.ResourceAttributes{
					Namespace: a.namespace, Verb: a.verb, Group: a.group, Resource: a.resource,
				},
			},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("SubjectAccessReview %s %s: %v", w.name, a, err)
		}
		return sar.Status.Allowed
	}
}
