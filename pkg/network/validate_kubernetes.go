package network

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/org/platform/pkg/spec"
)

// Label keys and namespace names this package sets itself, which the spec
// may not set.
var reservedLabelKeys = []string{LabelManagedBy, LabelEnvironment, LabelTeam, LabelComponent, LabelIngress}

// checkKubernetes adds what the Kubernetes objects need beyond
// spec.Validate.
func checkKubernetes(env spec.Environment, o *options) spec.FieldErrors {
	var errs spec.FieldErrors
	keys := spec.EntryKeysOf(env.Namespaces, func(ns spec.Namespace) string { return ns.Name })
	for i, ns := range env.Namespaces {
		np := "namespaces[" + keys[i] + "]"
		if ns.Name == SystemNamespace {
			errs = append(errs, fieldErr(np+".name", "%q is where the platform keeps its CI deployer; choose another name", SystemNamespace))
		}
		if slices.Contains(platformNamespaces(env), ns.Name) {
			errs = append(errs, fieldErr(np+".name", "%q is where a platform component runs, with its own policies; choose another name", ns.Name))
		}
		if ns.Ingress && !env.Ingress.Enabled {
			errs = append(errs, fieldErr(np+".ingress", "needs ingress.enabled: with no ingress controller there is nothing to admit"))
		}
		for _, k := range slices.Sorted(maps.Keys(ns.Labels)) {
			if slices.Contains(reservedLabelKeys, k) {
				errs = append(errs, fieldErr(np+".labels["+k+"]", "is set by the platform; use team or ingress instead"))
			}
		}
		errs = append(errs, checkQuota(np+".quota", quotaFor(ns, len(env.Namespaces), o.services))...)
	}
	for _, s := range []struct{ path, name string }{
		{"ingress.namespace", env.Ingress.Namespace},
		{"observability.namespace", env.Observability.Namespace},
	} {
		if s.name == SystemNamespace {
			errs = append(errs, fieldErr(s.path, "%q is where the platform keeps its CI deployer; choose another name", SystemNamespace))
		}
	}
	dsNames := make([]string, len(env.DataServices))
	for i, ds := range env.DataServices {
		dsNames[i] = ds.Name
	}
	dsKeys := spec.EntryKeys(dsNames)
	for i, ds := range env.DataServices {
		for j, c := range ds.CIDRs {
			if p, err := netip.ParsePrefix(c); err == nil && p.Masked() != p {
				errs = append(errs, fieldErr(fmt.Sprintf("dataServices[%s].cidrs[%d]", dsKeys[i], j),
					"must be in canonical form (%s, not %s)", p.Masked(), p))
			}
		}
	}
	return errs
}

// checkQuota checks the effective quota of one namespace: every quantity
// parses, and each LimitRange default request is at most its default limit
// (the API server refuses the LimitRange otherwise).
func checkQuota(path string, q spec.Quota) spec.FieldErrors {
	var errs spec.FieldErrors
	parse := func(field, v string) (resource.Quantity, bool) {
		qty, err := resource.ParseQuantity(v)
		if err != nil {
			errs = append(errs, fieldErr(path+"."+field, "must be a Kubernetes quantity such as \"500m\" or \"8Gi\" (got %q)", v))
			return resource.Quantity{}, false
		}
		return qty, true
	}
	for _, f := range []struct{ field, v string }{
		{"requestsCPU", q.RequestsCPU}, {"requestsMemory", q.RequestsMemory},
		{"limitsCPU", q.LimitsCPU}, {"limitsMemory", q.LimitsMemory}, {"storage", q.Storage},
	} {
		parse(f.field, f.v)
	}
	for _, pair := range []struct{ reqField, req, limField, lim string }{
		{"defaultRequestCPU", q.DefaultRequestCPU, "defaultLimitCPU", q.DefaultLimitCPU},
		{"defaultRequestMemory", q.DefaultRequestMemory, "defaultLimitMemory", q.DefaultLimitMemory},
	} {
		req, ok1 := parse(pair.reqField, pair.req)
		lim, ok2 := parse(pair.limField, pair.lim)
		if ok1 && ok2 && req.Cmp(lim) > 0 {
			errs = append(errs, fieldErr(path+"."+pair.reqField, "must be ≤ %s (%s > %s)", pair.limField, pair.req, pair.lim))
		}
	}
	return errs
}
