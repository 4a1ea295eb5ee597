package network

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	networkingv1ac "k8s.io/client-go/applyconfigurations/networking/v1"
	rbacv1ac "k8s.io/client-go/applyconfigurations/rbac/v1"

	"github.com/org/platform/pkg/spec"
)

// Names and labels of the Kubernetes objects this package owns.
const (
	// FieldManager is the server-side apply field manager of every object
	// this package writes.
	FieldManager = "platform"
	// LabelManagedBy and ManagedByValue mark every object this package
	// writes (with LabelComponent): app.kubernetes.io/managed-by=platform.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	ManagedByValue = "platform"
	// LabelComponent and ComponentValue tell this package's objects from
	// those other platform packages apply: platform.org/component=network.
	// Pruning touches only objects with both labels and FieldManager among
	// their managers.
	LabelComponent = "platform.org/component"
	ComponentValue = "network"
	// LabelEnvironment carries the environment's name.
	LabelEnvironment = "platform.org/environment"
	// LabelTeam carries a namespace's team.
	LabelTeam = "team"
	// LabelIngress is "true" on namespaces the ingress controller may reach.
	LabelIngress = "platform.org/ingress"
	// SystemNamespace holds the CI deployer's ServiceAccount.
	SystemNamespace = "platform-system"
	// DeployerServiceAccount is the ServiceAccount CI (and GitOps) deploys
	// with; it may write workloads in every namespace of the spec, and
	// nothing else.
	DeployerServiceAccount = "ci-deployer"
	// QuotaName and LimitRangeName name each namespace's ResourceQuota and
	// LimitRange.
	QuotaName      = "platform-quota"
	LimitRangeName = "platform-limits"
	// The ClusterRoles this package writes.
	AdminClusterRole    = "platform:admin"
	ViewerClusterRole   = "platform:viewer"
	DeployerClusterRole = "platform:deployer"
)

// The NetworkPolicies of every namespace this package owns. DefaultDeny
// selects every pod for ingress and egress and allows nothing; the others
// each allow one kind of flow. Policies are additive, so a flow is allowed
// exactly when one of the allow policies names it.
const (
	PolicyDefaultDeny       = "default-deny"
	PolicyAllowDNS          = "allow-dns"
	PolicyAllowSameNS       = "allow-same-namespace"
	PolicyAllowMonitoring   = "allow-monitoring-scrape"
	PolicyAllowIngress      = "allow-ingress-controller"
	PolicyAllowDataServices = "allow-data-services"
)

// Where cluster DNS runs: CoreDNS in kube-system, labelled k8s-app=kube-dns
// (LKE, kubeadm and most distributions).
const (
	dnsNamespace = "kube-system"
	dnsPodLabel  = "k8s-app"
	dnsPodValue  = "kube-dns"
	// namespaceNameLabel is set by the API server on every namespace to its
	// name, and cannot be changed: selecting namespaces by it cannot be
	// fooled by a label someone adds.
	namespaceNameLabel = "kubernetes.io/metadata.name"
)

// object is one desired Kubernetes object: its kind, identity and apply
// configuration (which marshals to exactly the fields this package owns).
type object struct {
	kind      *kind
	namespace string
	name      string
	ac        any
}

// id names the object in changes: "namespace/apps",
// "networkpolicy/apps/default-deny".
func (o object) id() string { return objectID(o.kind, o.namespace, o.name) }

func objectID(k *kind, namespace, name string) string {
	if namespace == "" {
		return k.short + "/" + name
	}
	return k.short + "/" + namespace + "/" + name
}

// desiredObjects renders every object the spec asks for, in the order
// they are applied: namespaces first, policies that allow before the one
// that denies, so that a namespace already running pods is never cut off in
// between.
func desiredObjects(env spec.Environment, o *options) []object {
	base := map[string]string{
		LabelManagedBy:   ManagedByValue,
		LabelComponent:   ComponentValue,
		LabelEnvironment: env.Name,
	}
	labels := func(extra map[string]string) map[string]string {
		out := make(map[string]string, len(base)+len(extra))
		for k, v := range extra {
			out[k] = v
		}
		for k, v := range base {
			out[k] = v
		}
		return out
	}
	var out []object
	add := func(k *kind, namespace, name string, ac any) {
		out = append(out, object{kind: k, namespace: namespace, name: name, ac: ac})
	}

	// Namespaces.
	add(kindNamespace, "", SystemNamespace, corev1ac.Namespace(SystemNamespace).WithLabels(labels(nil)))
	for _, ns := range env.Namespaces {
		l := labels(ns.Labels)
		if ns.Team != "" {
			l[LabelTeam] = ns.Team
		}
		if ns.Ingress {
			l[LabelIngress] = "true"
		}
		add(kindNamespace, "", ns.Name, corev1ac.Namespace(ns.Name).WithLabels(l))
	}
	// The platform's components' namespaces, so that their policies can be
	// applied before their charts are installed.
	for _, name := range platformNamespaces(env) {
		add(kindNamespace, "", name, corev1ac.Namespace(name).WithLabels(labels(nil)))
	}

	// The CI deployer and RBAC.
	add(kindServiceAccount, SystemNamespace, DeployerServiceAccount,
		corev1ac.ServiceAccount(DeployerServiceAccount, SystemNamespace).WithLabels(labels(nil)))
	add(kindClusterRole, "", AdminClusterRole, rbacv1ac.ClusterRole(AdminClusterRole).WithLabels(labels(nil)).WithRules(adminRules()...))
	add(kindClusterRole, "", ViewerClusterRole, rbacv1ac.ClusterRole(ViewerClusterRole).WithLabels(labels(nil)).WithRules(viewerRules()...))
	add(kindClusterRole, "", DeployerClusterRole, rbacv1ac.ClusterRole(DeployerClusterRole).WithLabels(labels(nil)).WithRules(deployerRules()...))
	group := func(name string) *rbacv1ac.SubjectApplyConfiguration {
		return rbacv1ac.Subject().WithKind("Group").WithAPIGroup("rbac.authorization.k8s.io").WithName(name)
	}
	clusterBinding := func(name, role string, subjects ...*rbacv1ac.SubjectApplyConfiguration) {
		add(kindClusterRoleBinding, "", name, rbacv1ac.ClusterRoleBinding(name).WithLabels(labels(nil)).
			WithRoleRef(rbacv1ac.RoleRef().WithAPIGroup("rbac.authorization.k8s.io").WithKind("ClusterRole").WithName(role)).
			WithSubjects(subjects...))
	}
	// A binding's roleRef cannot change, so each binding is named after
	// the role it grants: switching an environment to GitOps-only prunes
	// one binding and creates the other.
	if env.GitOps.GitOpsOnly {
		// No human group may write: administrators read, like viewers.
		clusterBinding("platform:admins-read-only", ViewerClusterRole, group(o.adminGroup))
	} else {
		clusterBinding("platform:admins", AdminClusterRole, group(o.adminGroup))
	}
	clusterBinding("platform:viewers", ViewerClusterRole, group(o.viewerGroup))
	for _, ns := range env.Namespaces {
		add(kindRoleBinding, ns.Name, "platform:deployer", rbacv1ac.RoleBinding("platform:deployer", ns.Name).WithLabels(labels(nil)).
			WithRoleRef(rbacv1ac.RoleRef().WithAPIGroup("rbac.authorization.k8s.io").WithKind("ClusterRole").WithName(DeployerClusterRole)).
			WithSubjects(rbacv1ac.Subject().WithKind("ServiceAccount").WithAPIGroup("").WithName(DeployerServiceAccount).WithNamespace(SystemNamespace)))
	}

	// Quotas and limits.
	for _, ns := range env.Namespaces {
		q := quotaFor(ns, len(env.Namespaces), o.services)
		add(kindResourceQuota, ns.Name, QuotaName, corev1ac.ResourceQuota(QuotaName, ns.Name).WithLabels(labels(nil)).
			WithSpec(corev1ac.ResourceQuotaSpec().WithHard(corev1.ResourceList{
				corev1.ResourcePods:                   *resource.NewQuantity(int64(q.Pods), resource.DecimalSI),
				corev1.ResourceServices:               *resource.NewQuantity(int64(q.Services), resource.DecimalSI),
				corev1.ResourcePersistentVolumeClaims: *resource.NewQuantity(int64(q.PersistentVolumeClaims), resource.DecimalSI),
				corev1.ResourceRequestsCPU:            resource.MustParse(q.RequestsCPU),
				corev1.ResourceRequestsMemory:         resource.MustParse(q.RequestsMemory),
				corev1.ResourceLimitsCPU:              resource.MustParse(q.LimitsCPU),
				corev1.ResourceLimitsMemory:           resource.MustParse(q.LimitsMemory),
				corev1.ResourceRequestsStorage:        resource.MustParse(q.Storage),
			})))
		add(kindLimitRange, ns.Name, LimitRangeName, corev1ac.LimitRange(LimitRangeName, ns.Name).WithLabels(labels(nil)).
			WithSpec(corev1ac.LimitRangeSpec().WithLimits(corev1ac.LimitRangeItem().
				WithType(corev1.LimitTypeContainer).
				WithDefaultRequest(corev1.ResourceList{
					corev1.ResourceCPU:    resource.MustParse(q.DefaultRequestCPU),
					corev1.ResourceMemory: resource.MustParse(q.DefaultRequestMemory),
				}).
				WithDefault(corev1.ResourceList{
					corev1.ResourceCPU:    resource.MustParse(q.DefaultLimitCPU),
					corev1.ResourceMemory: resource.MustParse(q.DefaultLimitMemory),
				}))))
	}

	// NetworkPolicies: every namespace we own, allows first; then the
	// platform's components.
	owned := append([]spec.Namespace{{Name: SystemNamespace}}, env.Namespaces...)
	for _, ns := range owned {
		for _, np := range policies(env, ns) {
			np.WithLabels(labels(nil))
			add(kindNetworkPolicy, ns.Name, *np.Name, np)
		}
	}
	for _, ns := range platformNamespaces(env) {
		for _, np := range platformPolicies(env, ns) {
			np.WithLabels(labels(nil))
			add(kindNetworkPolicy, ns, *np.Name, np)
		}
	}
	if env.Secrets.SealedSecrets {
		np := sealedSecretsPolicy(env)
		np.WithLabels(labels(nil))
		add(kindNetworkPolicy, env.Secrets.Namespace, *np.Name, np)
	}
	return out
}

// policies returns the NetworkPolicies of one application namespace (the
// spec's and platform-system), allows first and the default deny last.
func policies(env spec.Environment, ns spec.Namespace) []*networkingv1ac.NetworkPolicyApplyConfiguration {
	out := []*networkingv1ac.NetworkPolicyApplyConfiguration{dnsPolicy(ns.Name)}

	same := newPolicy(ns.Name, PolicyAllowSameNS, selectAll(), networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress)
	same.Spec.
		WithIngress(networkingv1ac.NetworkPolicyIngressRule().WithFrom(networkingv1ac.NetworkPolicyPeer().WithPodSelector(selectAll()))).
		WithEgress(networkingv1ac.NetworkPolicyEgressRule().WithTo(networkingv1ac.NetworkPolicyPeer().WithPodSelector(selectAll())))
	out = append(out, same)

	if env.Observability.Enabled {
		out = append(out, scrapePolicy(env, ns.Name), otlpPolicy(env, ns.Name))
	}
	if ns.Ingress && env.Ingress.Enabled {
		// The controller's pods, not its whole namespace, on any TCP port:
		// an Ingress may name any port of the application's Services.
		in := newPolicy(ns.Name, PolicyAllowIngress, selectAll(), networkingv1.PolicyTypeIngress)
		in.Spec.WithIngress(ingressFrom(peers(podsIn(env.Ingress.Namespace, podIngress)), anyTCP()))
		out = append(out, in)
	}
	if len(ns.DataServices) > 0 {
		ds := newPolicy(ns.Name, PolicyAllowDataServices, selectAll(), networkingv1.PolicyTypeEgress)
		for _, name := range ns.DataServices {
			i := slices.IndexFunc(env.DataServices, func(d spec.DataService) bool { return d.Name == name })
			if i < 0 {
				continue // validation reports unknown names before anything is rendered
			}
			svc := env.DataServices[i]
			rule := networkingv1ac.NetworkPolicyEgressRule().WithPorts(tcp(svc.Port)...)
			for _, c := range svc.CIDRs {
				rule.WithTo(cidrPeer(c))
			}
			ds.Spec.WithEgress(rule)
		}
		out = append(out, ds)
	}
	return append(out, newPolicy(ns.Name, PolicyDefaultDeny, selectAll(), networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress))
}
