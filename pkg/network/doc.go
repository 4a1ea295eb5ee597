// Package network provisions the network of one platform environment: on
// Linode, its Cloud Firewall and its VPC; in its Kubernetes cluster, the
// namespaces the spec lists with their quotas, the baseline RBAC and
// zero-trust NetworkPolicies.
//
// Every entry point takes the environment spec and follows the project's
// shape: Plan* only reads and returns the changes; Ensure* plans, then
// writes only what drifted, and a second call with the same spec sends no
// write at all.
//
//   - EnsureFirewall / PlanFirewall (FirewallAPI, a few linodego methods):
//     the firewall is found by label and adopted, or created; its rules are
//     replaced with one PUT when they differ. The id it returns goes to
//     pkg/cluster, which attaches it to the node pools — this package never
//     writes pools.
//   - EnsureVPC / PlanVPC (VPCAPI): the VPC and its subnets, matched by
//     label; subnets with LKE nodes attached are never deleted.
//   - EnsureKubernetes / PlanKubernetes (kubernetes.Interface):
//     server-side apply as field manager "platform"; objects it applied
//     that the spec no longer wants are pruned, and only those.
//   - CrossEnvironmentExposures computes whether the nodes of one
//     environment can reach the nodes or the control plane of another
//     through the firewalls and control-plane ACLs the specs describe.
//
// # Faults
//
// Reads, PUTs and DELETEs that fail transiently are retried within the
// caller's context (honouring Retry-After); a POST that creates is never
// resent blindly: the object is looked up by label again and adopted if a
// lost response had in fact created it. Timeouts come from ctx.
//
// # Input
//
// A spec is validated (spec.Environment.Validate, for the sections the
// call uses, plus this package's own checks) before the first request:
// bad input returns spec.FieldErrors naming each field from the YAML root,
// such as
//
//	network.firewall.inbound[https].ports: "70000" is outside 1–65535
//
// and sends nothing.
//
// # Logging
//
// Pass a *zap.Logger with WithLogger; the default logs nothing.
package network
