package network

import (
	"strconv"

	"github.com/org/platform/pkg/spec"
)

// The budget of one service that DefaultQuota multiplies. A service is
// assumed to run 2 replicas with room for 2 more (autoscaling or a rolling
// update's surge): 4 pods. Each container that states nothing gets the
// LimitRange defaults, 250m CPU and 256Mi requested and 500m and 512Mi as
// limits, so one service requests 4 × 250m = 1 CPU and 4 × 256Mi = 1Gi and
// is limited to 2 CPU and 2Gi. It may expose 2 Services (its own and a
// headless or metrics one) and claim 2 volumes of 10Gi.
const (
	PodsPerService        = 4
	ServicesPerService    = 2
	ClaimsPerService      = 2
	StorageGiPerService   = 20
	DefaultRequestCPU     = "250m"
	DefaultRequestMemory  = "256Mi"
	DefaultLimitCPU       = "500m"
	DefaultLimitMemory    = "512Mi"
	requestMilliCPUPerPod = 250
	requestMemoryMiPerPod = 256
	limitMilliCPUPerPod   = 500
	limitMemoryMiPerPod   = 512
)

// DefaultQuota returns the quota of one of an environment's namespaces
// when the spec does not override it: the environment's services (30 by
// default, see WithServicesPerEnvironment) are shared evenly, rounding up,
// among its namespaces, and each namespace gets the budget of its share.
//
// With 30 services in 2 namespaces, each namespace holds 15 services: 60
// pods, 30 Services, 15 CPU and 15Gi requested, 30 CPU and 30Gi as limits,
// 30 volume claims and 300Gi of storage. Quotas cap what a namespace may
// ask for; the nodes that run it come from the autoscaled node pools.
func DefaultQuota(namespaces, services int) spec.Quota {
	if namespaces < 1 {
		namespaces = 1
	}
	s := (services + namespaces - 1) / namespaces
	milli := func(m int) string {
		if m%1000 == 0 {
			return strconv.Itoa(m / 1000)
		}
		return strconv.Itoa(m) + "m"
	}
	mebi := func(mi int) string {
		if mi%1024 == 0 {
			return strconv.Itoa(mi/1024) + "Gi"
		}
		return strconv.Itoa(mi) + "Mi"
	}
	pods := s * PodsPerService
	return spec.Quota{
		Pods:                   pods,
		Services:               s * ServicesPerService,
		RequestsCPU:            milli(pods * requestMilliCPUPerPod),
		RequestsMemory:         mebi(pods * requestMemoryMiPerPod),
		LimitsCPU:              milli(pods * limitMilliCPUPerPod),
		LimitsMemory:           mebi(pods * limitMemoryMiPerPod),
		PersistentVolumeClaims: s * ClaimsPerService,
		Storage:                strconv.Itoa(s*StorageGiPerService) + "Gi",
		DefaultRequestCPU:      DefaultRequestCPU,
		DefaultRequestMemory:   DefaultRequestMemory,
		DefaultLimitCPU:        DefaultLimitCPU,
		DefaultLimitMemory:     DefaultLimitMemory,
	}
}

// quotaFor returns the effective quota of ns: DefaultQuota with every field
// the spec sets taking its place.
func quotaFor(ns spec.Namespace, namespaces, services int) spec.Quota {
	q := DefaultQuota(namespaces, services)
	o := ns.Quota
	if o == nil {
		return q
	}
	setInt := func(dst *int, v int) {
		if v > 0 {
			*dst = v
		}
	}
	setStr := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	setInt(&q.Pods, o.Pods)
	setInt(&q.Services, o.Services)
	setInt(&q.PersistentVolumeClaims, o.PersistentVolumeClaims)
	setStr(&q.RequestsCPU, o.RequestsCPU)
	setStr(&q.RequestsMemory, o.RequestsMemory)
	setStr(&q.LimitsCPU, o.LimitsCPU)
	setStr(&q.LimitsMemory, o.LimitsMemory)
	setStr(&q.Storage, o.Storage)
	setStr(&q.DefaultRequestCPU, o.DefaultRequestCPU)
	setStr(&q.DefaultRequestMemory, o.DefaultRequestMemory)
	setStr(&q.DefaultLimitCPU, o.DefaultLimitCPU)
	setStr(&q.DefaultLimitMemory, o.DefaultLimitMemory)
	return q
}
