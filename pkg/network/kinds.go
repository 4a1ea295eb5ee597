package network

import (
	"context"

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
	apply      func(ctx context.Context, api kubernetes.Interface, ac any, opts metav1.ApplyOptions) error
	delete     func(ctx context.Context, api kubernetes.Interface, ns, name string, opts metav1.DeleteOptions) error
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
		apply: func(ctx context.Context, api kubernetes.Interface, ac any, opts metav1.ApplyOptions) error {
			_, err := api.CoreV1().Namespaces().Apply(ctx, ac.(*corev1ac.NamespaceApplyConfiguration), opts)
			return err
		},
		delete: func(ctx context.Context, api kubernetes.Interface, _, name string, opts metav1.DeleteOptions) error {
			return api.CoreV1().Namespaces().Delete(ctx, name, opts)
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
		apply: func(ctx context.Context, api kubernetes.Interface, ac any, opts metav1.ApplyOptions) error {
			a := ac.(*corev1ac.ServiceAccountApplyConfiguration)
			_, err := api.CoreV1().ServiceAccounts(*a.Namespace).Apply(ctx, a, opts)
			return err
		},
		delete: func(ctx context.Context, api kubernetes.Interface, ns, name string, opts metav1.DeleteOptions) error {
			return api.CoreV1().ServiceAccounts(ns).Delete(ctx, name, opts)
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
		apply: func(ctx context.Context, api kubernetes.Interface, ac any, opts metav1.ApplyOptions) error {
			a := ac.(*corev1ac.ResourceQuotaApplyConfiguration)
			_, err := api.CoreV1().ResourceQuotas(*a.Namespace).Apply(ctx, a, opts)
			return err
		},
		delete: func(ctx context.Context, api kubernetes.Interface, ns, name string, opts metav1.DeleteOptions) error {
			return api.CoreV1().ResourceQuotas(ns).Delete(ctx, name, opts)
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
		apply: func(ctx context.Context, api kubernetes.Interface, ac any, opts metav1.ApplyOptions) error {
			a := ac.(*corev1ac.LimitRangeApplyConfiguration)
			_, err := api.CoreV1().LimitRanges(*a.Namespace).Apply(ctx, a, opts)
			return err
		},
		delete: func(ctx context.Context, api kubernetes.Interface, ns, name string, opts metav1.DeleteOptions) error {
			return api.CoreV1().LimitRanges(ns).Delete(ctx, name, opts)
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
		apply: func(ctx context.Context, api kubernetes.Interface, ac any, opts metav1.ApplyOptions) error {
			a := ac.(*networkingv1ac.NetworkPolicyApplyConfiguration)
			_, err := api.NetworkingV1().NetworkPolicies(*a.Namespace).Apply(ctx, a, opts)
			return err
		},
		delete: func(ctx context.Context, api kubernetes.Interface, ns, name string, opts metav1.DeleteOptions) error {
			return api.NetworkingV1().NetworkPolicies(ns).Delete(ctx, name, opts)
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
		apply: func(ctx context.Context, api kubernetes.Interface, ac any, opts metav1.ApplyOptions) error {
			_, err := api.RbacV1().ClusterRoles().Apply(ctx, ac.(*rbacv1ac.ClusterRoleApplyConfiguration), opts)
			return err
		},
		delete: func(ctx context.Context, api kubernetes.Interface, _, name string, opts metav1.DeleteOptions) error {
			return api.RbacV1().ClusterRoles().Delete(ctx, name, opts)
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
		apply: func(ctx context.Context, api kubernetes.Interface, ac any, opts metav1.ApplyOptions) error {
			_, err := api.RbacV1().ClusterRoleBindings().Apply(ctx, ac.(*rbacv1ac.ClusterRoleBindingApplyConfiguration), opts)
			return err
		},
		delete: func(ctx context.Context, api kubernetes.Interface, _, name string, opts metav1.DeleteOptions) error {
			return api.RbacV1().ClusterRoleBindings().Delete(ctx, name, opts)
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
		apply: func(ctx context.Context, api kubernetes.Interface, ac any, opts metav1.ApplyOptions) error {
			a := ac.(*rbacv1ac.RoleBindingApplyConfiguration)
			_, err := api.RbacV1().RoleBindings(*a.Namespace).Apply(ctx, a, opts)
			return err
		},
		delete: func(ctx context.Context, api kubernetes.Interface, ns, name string, opts metav1.DeleteOptions) error {
			return api.RbacV1().RoleBindings(ns).Delete(ctx, name, opts)
		},
	}
)

// kinds lists every kind this package writes, in the order they are
// applied; pruning goes in reverse.
var kinds = []*kind{
	kindNamespace, kindServiceAccount, kindClusterRole, kindClusterRoleBinding,
	kindRoleBinding, kindResourceQuota, kindLimitRange, kindNetworkPolicy,
}
