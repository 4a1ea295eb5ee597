package network

import (
	rbacv1ac "k8s.io/client-go/applyconfigurations/rbac/v1"
)

// The baseline RBAC; the package documentation describes it.

var (
	readVerbs  = []string{"get", "list", "watch"}
	writeVerbs = []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}
)

func rule(groups []string, resources []string, verbs []string) *rbacv1ac.PolicyRuleApplyConfiguration {
	return rbacv1ac.PolicyRule().WithAPIGroups(groups...).WithResources(resources...).WithVerbs(verbs...)
}

func adminRules() []*rbacv1ac.PolicyRuleApplyConfiguration {
	return []*rbacv1ac.PolicyRuleApplyConfiguration{
		rule([]string{"*"}, []string{"*"}, []string{"*"}),
		rbacv1ac.PolicyRule().WithNonResourceURLs("*").WithVerbs("*"),
	}
}

func viewerRules() []*rbacv1ac.PolicyRuleApplyConfiguration {
	return []*rbacv1ac.PolicyRuleApplyConfiguration{
		rule([]string{""}, []string{
			"configmaps", "endpoints", "events", "limitranges", "namespaces", "nodes",
			"persistentvolumeclaims", "persistentvolumes", "pods", "pods/log", "replicationcontrollers",
			"resourcequotas", "serviceaccounts", "services",
		}, readVerbs),
		rule([]string{"apps"}, []string{"daemonsets", "deployments", "replicasets", "statefulsets"}, readVerbs),
		rule([]string{"batch"}, []string{"cronjobs", "jobs"}, readVerbs),
		rule([]string{"autoscaling"}, []string{"horizontalpodautoscalers"}, readVerbs),
		rule([]string{"policy"}, []string{"poddisruptionbudgets"}, readVerbs),
		rule([]string{"networking.k8s.io"}, []string{"ingresses", "ingressclasses", "networkpolicies"}, readVerbs),
		rule([]string{"discovery.k8s.io"}, []string{"endpointslices"}, readVerbs),
		rule([]string{"events.k8s.io"}, []string{"events"}, readVerbs),
		rule([]string{"rbac.authorization.k8s.io"}, []string{"clusterrolebindings", "clusterroles", "rolebindings", "roles"}, readVerbs),
		rule([]string{"storage.k8s.io"}, []string{"storageclasses"}, readVerbs),
		rule([]string{"metrics.k8s.io"}, []string{"nodes", "pods"}, readVerbs),
	}
}

func deployerRules() []*rbacv1ac.PolicyRuleApplyConfiguration {
	return []*rbacv1ac.PolicyRuleApplyConfiguration{
		rule([]string{""}, []string{
			"configmaps", "persistentvolumeclaims", "pods", "secrets", "serviceaccounts", "services",
		}, writeVerbs),
		rule([]string{""}, []string{"events", "pods/log", "endpoints"}, readVerbs),
		rule([]string{"apps"}, []string{"daemonsets", "deployments", "replicasets", "statefulsets"}, writeVerbs),
		rule([]string{"apps"}, []string{"deployments/scale", "statefulsets/scale"}, []string{"get", "update", "patch"}),
		rule([]string{"batch"}, []string{"cronjobs", "jobs"}, writeVerbs),
		rule([]string{"autoscaling"}, []string{"horizontalpodautoscalers"}, writeVerbs),
		rule([]string{"policy"}, []string{"poddisruptionbudgets"}, writeVerbs),
		rule([]string{"networking.k8s.io"}, []string{"ingresses"}, writeVerbs),
		rule([]string{"bitnami.com"}, []string{"sealedsecrets"}, writeVerbs),
	}
}
