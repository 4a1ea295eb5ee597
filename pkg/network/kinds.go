package network

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	networkingv1ac "k8s.io/client-go/applyconfigurations/networking/v1"
	rbacv1ac "k8s.io/client-go/applyconfigurations/rbac/v1"
	"k8s.io/client-go/kubernetes"
)

// kind is how this package reads, applies, lists and deletes one kind of
// object through the typed client.
type kind struct {
	name       string // the Kubernetes kind: "NetworkPolicy"
	short      string // in change lines: "networkpolicy"
	namespaced bool
	get        func(ctx context.Context, api kubernetes.Interface, ns, name string) (runtime.Object, error)
	list       func(ctx context.Context, api kubernetes.Interface, opts metav1.ListOptions) ([]runtime.Object, error)
	apply      func(ctx context.Context, api kubernetes.Interface, ac any, opts metav1.ApplyOptions) (runtime.Object, error)
	// newAC returns an empty apply configuration of the kind, to decode a
	// plan's action into.
	newAC func() any
	// extract returns the fields of a live object that FieldManager owns,
	// as an apply configuration.
	extract func(obj runtime.Object) (any, error)
	delete  func(ctx context.Context, api kubernetes.Interface, ns, name string, opts metav1.DeleteOptions) error
}

// items turns a typed list's items into objects.
func items[T any, P interface {
	*T
	runtime.Object
}](in []T) []runtime.Object {
	out := make([]runtime.Object, len(in))
	for i := range in {
		out[i] = P(&in[i])
	}
	return out
}

var (
	kindNamespace = &kind{
		name: "Namespace", short: "namespace",
		get: func(ctx context.Context, api kubernetes.Interface, _, name string) (runtime.Object, error) {
			return api.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
		},
		list: func(ctx context.Context, api kubernetes.Interface, opts metav1.ListOptions) ([]runtime.Object, error) {
			l, err := api.CoreV1().Namespaces().List(ctx, opts)
			if err != nil {
				return nil, err
			}
			return items(l.Items), nil
		},
		apply: func(ctx context.Context, api kubernetes.Interface, ac any, opts metav1.ApplyOptions) (runtime.Object, error) {
			return api.CoreV1().Namespaces().Apply(ctx, ac.(*corev1ac.NamespaceApplyConfiguration), opts)
		},
		delete: func(ctx context.Context, api kubernetes.Interface, _, name string, opts metav1.DeleteOptions) error {
			return api.CoreV1().Namespaces().Delete(ctx, name, opts)
		},
		newAC: func() any { return &corev1ac.NamespaceApplyConfiguration{} },
		extract: func(obj runtime.Object) (any, error) {
			return corev1ac.ExtractNamespace(obj.(*corev1.Namespace), FieldManager)
		},
	}
	kindServiceAccount = &kind{
		name: "ServiceAccount", short: "serviceaccount", namespaced: true,
		get: func(ctx context.Context, api kubernetes.Interface, ns, name string) (runtime.Object, error) {
			return api.CoreV1().ServiceAccounts(ns).Get(ctx, name, metav1.GetOptions{})
		},
		list: func(ctx context.Context, api kubernetes.Interface, opts metav1.ListOptions) ([]runtime.Object, error) {
			l, err := api.CoreV1().ServiceAccounts("").List(ctx, opts)
			if err != nil {
				return nil, err
			}
			return items(l.Items), nil
		},
		apply: func(ctx context.Context, api kubernetes.Interface, ac any, opts metav1.ApplyOptions) (runtime.Object, error) {
			a := ac.(*corev1ac.ServiceAccountApplyConfiguration)
			return api.CoreV1().ServiceAccounts(*a.Namespace).Apply(ctx, a, opts)
		},
		delete: func(ctx context.Context, api kubernetes.Interface, ns, name string, opts metav1.DeleteOptions) error {
			return api.CoreV1().ServiceAccounts(ns).Delete(ctx, name, opts)
		},
		newAC: func() any { return &corev1ac.ServiceAccountApplyConfiguration{} },
		extract: func(obj runtime.Object) (any, error) {
			return corev1ac.ExtractServiceAccount(obj.(*corev1.ServiceAccount), FieldManager)
		},
	}
	kindResourceQuota = &kind{
		name: "ResourceQuota", short: "resourcequota", namespaced: true,
		get: func(ctx context.Context, api kubernetes.Interface, ns, name string) (runtime.Object, error) {
			return api.CoreV1().ResourceQuotas(ns).Get(ctx, name, metav1.GetOptions{})
		},
		list: func(ctx context.Context, api kubernetes.Interface, opts metav1.ListOptions) ([]runtime.Object, error) {
			l, err := api.CoreV1().ResourceQuotas("").List(ctx, opts)
			if err != nil {
				return nil, err
			}
			return items(l.Items), nil
		},
		apply: func(ctx context.Context, api kubernetes.Interface, ac any, opts metav1.ApplyOptions) (runtime.Object, error) {
			a := ac.(*corev1ac.ResourceQuotaApplyConfiguration)
			return api.CoreV1().ResourceQuotas(*a.Namespace).Apply(ctx, a, opts)
		},
		delete: func(ctx context.Context, api kubernetes.Interface, ns, name string, opts metav1.DeleteOptions) error {
			return api.CoreV1().ResourceQuotas(ns).Delete(ctx, name, opts)
		},
		newAC: func() any { return &corev1ac.ResourceQuotaApplyConfiguration{} },
		extract: func(obj runtime.Object) (any, error) {
			return corev1ac.ExtractResourceQuota(obj.(*corev1.ResourceQuota), FieldManager)
		},
	}
	kindLimitRange = &kind{
		name: "LimitRange", short: "limitrange", namespaced: true,
		get: func(ctx context.Context, api kubernetes.Interface, ns, name string) (runtime.Object, error) {
			return api.CoreV1().LimitRanges(ns).Get(ctx, name, metav1.GetOptions{})
		},
		list: func(ctx context.Context, api kubernetes.Interface, opts metav1.ListOptions) ([]runtime.Object, error) {
			l, err := api.CoreV1().LimitRanges("").List(ctx, opts)
			if err != nil {
				return nil, err
			}
			return items(l.Items), nil
		},
		apply: func(ctx context.Context, api kubernetes.Interface, ac any, opts metav1.ApplyOptions) (runtime.Object, error) {
			a := ac.(*corev1ac.LimitRangeApplyConfiguration)
			return api.CoreV1().LimitRanges(*a.Namespace).Apply(ctx, a, opts)
		},
		delete: func(ctx context.Context, api kubernetes.Interface, ns, name string, opts metav1.DeleteOptions) error {
			return api.CoreV1().LimitRanges(ns).Delete(ctx, name, opts)
		},
		newAC: func() any { return &corev1ac.LimitRangeApplyConfiguration{} },
		extract: func(obj runtime.Object) (any, error) {
			return corev1ac.ExtractLimitRange(obj.(*corev1.LimitRange), FieldManager)
		},
	}
	kindNetworkPolicy = &kind{
		name: "NetworkPolicy", short: "networkpolicy", namespaced: true,
		get: func(ctx context.Context, api kubernetes.Interface, ns, name string) (runtime.Object, error) {
			return api.NetworkingV1().NetworkPolicies(ns).Get(ctx, name, metav1.GetOptions{})
		},
		list: func(ctx context.Context, api kubernetes.Interface, opts metav1.ListOptions) ([]runtime.Object, error) {
			l, err := api.NetworkingV1().NetworkPolicies("").List(ctx, opts)
			if err != nil {
				return nil, err
			}
			return items(l.Items), nil
		},
		apply: func(ctx context.Context, api kubernetes.Interface, ac any, opts metav1.ApplyOptions) (runtime.Object, error) {
			a := ac.(*networkingv1ac.NetworkPolicyApplyConfiguration)
			return api.NetworkingV1().NetworkPolicies(*a.Namespace).Apply(ctx, a, opts)
		},
		delete: func(ctx context.Context, api kubernetes.Interface, ns, name string, opts metav1.DeleteOptions) error {
			return api.NetworkingV1().NetworkPolicies(ns).Delete(ctx, name, opts)
		},
		newAC: func() any { return &networkingv1ac.NetworkPolicyApplyConfiguration{} },
		extract: func(obj runtime.Object) (any, error) {
			return networkingv1ac.ExtractNetworkPolicy(obj.(*networkingv1.NetworkPolicy), FieldManager)
		},
	}
	kindClusterRole = &kind{
		name: "ClusterRole", short: "clusterrole",
		get: func(ctx context.Context, api kubernetes.Interface, _, name string) (runtime.Object, error) {
			return api.RbacV1().ClusterRoles().Get(ctx, name, metav1.GetOptions{})
		},
		list: func(ctx context.Context, api kubernetes.Interface, opts metav1.ListOptions) ([]runtime.Object, error) {
			l, err := api.RbacV1().ClusterRoles().List(ctx, opts)
			if err != nil {
				return nil, err
			}
			return items(l.Items), nil
		},
		apply: func(ctx context.Context, api kubernetes.Interface, ac any, opts metav1.ApplyOptions) (runtime.Object, error) {
			return api.RbacV1().ClusterRoles().Apply(ctx, ac.(*rbacv1ac.ClusterRoleApplyConfiguration), opts)
		},
		delete: func(ctx context.Context, api kubernetes.Interface, _, name string, opts metav1.DeleteOptions) error {
			return api.RbacV1().ClusterRoles().Delete(ctx, name, opts)
		},
		newAC: func() any { return &rbacv1ac.ClusterRoleApplyConfiguration{} },
		extract: func(obj runtime.Object) (any, error) {
			return rbacv1ac.ExtractClusterRole(obj.(*rbacv1.ClusterRole), FieldManager)
		},
	}
	kindClusterRoleBinding = &kind{
		name: "ClusterRoleBinding", short: "clusterrolebinding",
		get: func(ctx context.Context, api kubernetes.Interface, _, name string) (runtime.Object, error) {
			return api.RbacV1().ClusterRoleBindings().Get(ctx, name, metav1.GetOptions{})
		},
		list: func(ctx context.Context, api kubernetes.Interface, opts metav1.ListOptions) ([]runtime.Object, error) {
			l, err := api.RbacV1().ClusterRoleBindings().List(ctx, opts)
			if err != nil {
				return nil, err
			}
			return items(l.Items), nil
		},
		apply: func(ctx context.Context, api kubernetes.Interface, ac any, opts metav1.ApplyOptions) (runtime.Object, error) {
			return api.RbacV1().ClusterRoleBindings().Apply(ctx, ac.(*rbacv1ac.ClusterRoleBindingApplyConfiguration), opts)
		},
		delete: func(ctx context.Context, api kubernetes.Interface, _, name string, opts metav1.DeleteOptions) error {
			return api.RbacV1().ClusterRoleBindings().Delete(ctx, name, opts)
		},
		newAC: func() any { return &rbacv1ac.ClusterRoleBindingApplyConfiguration{} },
		extract: func(obj runtime.Object) (any, error) {
			return rbacv1ac.ExtractClusterRoleBinding(obj.(*rbacv1.ClusterRoleBinding), FieldManager)
		},
	}
	kindRoleBinding = &kind{
		name: "RoleBinding", short: "rolebinding", namespaced: true,
		get: func(ctx context.Context, api kubernetes.Interface, ns, name string) (runtime.Object, error) {
			return api.RbacV1().RoleBindings(ns).Get(ctx, name, metav1.GetOptions{})
		},
		list: func(ctx context.Context, api kubernetes.Interface, opts metav1.ListOptions) ([]runtime.Object, error) {
			l, err := api.RbacV1().RoleBindings("").List(ctx, opts)
			if err != nil {
				return nil, err
			}
			return items(l.Items), nil
		},
		apply: func(ctx context.Context, api kubernetes.Interface, ac any, opts metav1.ApplyOptions) (runtime.Object, error) {
			a := ac.(*rbacv1ac.RoleBindingApplyConfiguration)
			return api.RbacV1().RoleBindings(*a.Namespace).Apply(ctx, a, opts)
		},
		delete: func(ctx context.Context, api kubernetes.Interface, ns, name string, opts metav1.DeleteOptions) error {
			return api.RbacV1().RoleBindings(ns).Delete(ctx, name, opts)
		},
		newAC: func() any { return &rbacv1ac.RoleBindingApplyConfiguration{} },
		extract: func(obj runtime.Object) (any, error) {
			return rbacv1ac.ExtractRoleBinding(obj.(*rbacv1.RoleBinding), FieldManager)
		},
	}
)

// kinds lists every kind this package writes, in the order they are
// applied; pruning goes in reverse.
var kinds = []*kind{
	kindNamespace, kindServiceAccount, kindClusterRole, kindClusterRoleBinding,
	kindRoleBinding, kindResourceQuota, kindLimitRange, kindNetworkPolicy,
}

// kindNamed returns the kind whose Kubernetes name is name ("NetworkPolicy"),
// or nil.
func kindNamed(name string) *kind {
	for _, k := range kinds {
		if k.name == name {
			return k
		}
	}
	return nil
}
