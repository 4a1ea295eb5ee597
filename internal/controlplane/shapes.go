package controlplane

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/org/platform/pkg/spec"
)

// Labels LKE and this project put on a pool's nodes.
const (
	// LKEPoolIDLabel is the label LKE puts on every node with its pool's id.
	LKEPoolIDLabel = "lke.linode.com/pool-id"
	// PoolLabel carries the spec's pool name on a shaped node, as
	// pkg/cluster's pool tag (platform.org/pool=<name>) does on the pool.
	PoolLabel = "platform.org/pool"
)

// podsPerNode is the kubelet's default --max-pods, which LKE keeps.
const podsPerNode = 110

// LinodeType is what a shaped node takes from a Linode type: its vCPUs and
// its memory in MB (the API's "memory" field, which counts MiB).
type LinodeType struct {
	VCPUs    int
	MemoryMB int
}

// NodeShape is one pool of fake Nodes shaped like an LKE node pool: Count
// Nodes named <Pool>-0 … <Pool>-<Count-1>, with the capacity of a Linode
// type, Labels and Taints as the spec's pool has them, and the labels LKE
// sets.
type NodeShape struct {
	// Pool is the spec's pool name (a DNS-1123 label).
	Pool string
	// Type is the Linode type id, carried in node.kubernetes.io/instance-type.
	Type string
	// Region is carried in topology.kubernetes.io/region. Optional.
	Region string
	// Count is the number of nodes (≥ 1).
	Count int
	// VCPUs and MemoryMB are the capacity of each node.
	VCPUs    int
	MemoryMB int
	// Labels and Taints are put on every node of the pool.
	Labels map[string]string
	Taints []corev1.Taint
}

// ShapesFor returns one NodeShape per node pool of env, in the spec's
// order, with each pool's capacity looked up by its type in types (for
// example from the Linode simulator's GET /linode/types). A pool whose type
// types lacks is an error naming the field.
func ShapesFor(env spec.Environment, types map[string]LinodeType) ([]NodeShape, error) {
	var shapes []NodeShape
	var errs []error
	for _, p := range env.Cluster.NodePools {
		t, ok := types[p.Type]
		if !ok {
			errs = append(errs, fmt.Errorf("cluster.nodePools[%s].type: unknown Linode type %q", p.Name, p.Type))
			continue
		}
		s := NodeShape{
			Pool: p.Name, Type: p.Type, Region: env.Cluster.Region, Count: p.Count,
			VCPUs: t.VCPUs, MemoryMB: t.MemoryMB, Labels: maps.Clone(p.Labels),
		}
		for _, tn := range p.Taints {
			s.Taints = append(s.Taints, corev1.Taint{Key: tn.Key, Value: tn.Value, Effect: corev1.TaintEffect(tn.Effect)})
		}
		shapes = append(shapes, s)
	}
	return shapes, errors.Join(errs...)
}

func (s NodeShape) validate() error {
	var errs []error
	if msgs := validation.IsDNS1123Label(s.Pool); len(msgs) > 0 {
		errs = append(errs, fmt.Errorf("pool: %v (got %q)", msgs, s.Pool))
	}
	if s.Count < 1 {
		errs = append(errs, fmt.Errorf("pools[%s].count: must be ≥ 1 (got %d)", s.Pool, s.Count))
	}
	if s.VCPUs < 1 {
		errs = append(errs, fmt.Errorf("pools[%s].vcpus: must be ≥ 1 (got %d)", s.Pool, s.VCPUs))
	}
	if s.MemoryMB < 1024 {
		errs = append(errs, fmt.Errorf("pools[%s].memoryMB: must be ≥ 1024 (got %d)", s.Pool, s.MemoryMB))
	}
	return errors.Join(errs...)
}

// Reserved returns what the kubelet of a node with vcpus and memoryMB keeps
// from pods: capacity minus Reserved is the node's allocatable.
//
// LKE does not publish its kubelet's kube-reserved and eviction settings.
// This is an assumption, on the conservative side: GKE's published
// formula, which the other managed offerings resemble. CPU: 6% of the
// first core, 1% of the second, 0.5% of the third and fourth, 0.25% of
// each core above four. Memory: 25% of the first 4 GiB, 20% of the next 4,
// 10% of the next 8, 6% of the next 112 and 2% above 128 GiB, plus the
// kubelet's default hard eviction threshold of 100 MiB. A g6-standard-2
// (2 vCPUs, 4 GiB) so keeps 70m CPU and 1124 MiB.
func Reserved(vcpus, memoryMB int) (cpu, memory resource.Quantity) {
	milli := 0.0
	for core := 1; core <= vcpus; core++ {
		switch {
		case core == 1:
			milli += 60
		case core == 2:
			milli += 10
		case core <= 4:
			milli += 5
		default:
			milli += 2.5
		}
	}
	tiers := []struct{ upToMiB, pct float64 }{{4096, 25}, {8192, 20}, {16384, 10}, {131072, 6}, {1 << 62, 2}}
	mem, below := 0.0, 0.0
	for _, t := range tiers {
		if float64(memoryMB) <= below {
			break
		}
		mem += (min(float64(memoryMB), t.upToMiB) - below) * t.pct / 100
		below = t.upToMiB
	}
	mem += 100
	return *resource.NewMilliQuantity(int64(milli+0.5), resource.DecimalSI),
		*resource.NewQuantity(int64(mem+0.5)*1024*1024, resource.BinarySI)
}

// nodes returns the Nodes of the shape, for kwok to manage; poolID is the
// number carried in LKEPoolIDLabel.
func (s NodeShape) nodes(poolID int) []*corev1.Node {
	capCPU := *resource.NewQuantity(int64(s.VCPUs), resource.DecimalSI)
	capMem := *resource.NewQuantity(int64(s.MemoryMB)*1024*1024, resource.BinarySI)
	resCPU, resMem := Reserved(s.VCPUs, s.MemoryMB)
	allocCPU, allocMem := capCPU.DeepCopy(), capMem.DeepCopy()
	allocCPU.Sub(resCPU)
	allocMem.Sub(resMem)
	pods := *resource.NewQuantity(podsPerNode, resource.DecimalSI)
	out := make([]*corev1.Node, 0, s.Count)
	for i := range s.Count {
		name := fmt.Sprintf("%s-%d", s.Pool, i)
		labels := maps.Clone(s.Labels)
		if labels == nil {
			labels = map[string]string{}
		}
		maps.Copy(labels, map[string]string{
			"kubernetes.io/hostname":           name,
			"kubernetes.io/os":                 "linux",
			"kubernetes.io/arch":               "amd64",
			"type":                             "kwok",
			LKEPoolIDLabel:                     strconv.Itoa(poolID),
			PoolLabel:                          s.Pool,
			"node.kubernetes.io/instance-type": s.Type,
		})
		if s.Region != "" {
			labels["topology.kubernetes.io/region"] = s.Region
		}
		out = append(out, &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{
				Name:        name,
				Annotations: map[string]string{FakeNodeAnnotation: "fake"},
				Labels:      labels,
			},
			Spec: corev1.NodeSpec{Taints: slices.Clone(s.Taints)},
			Status: corev1.NodeStatus{
				Capacity:    corev1.ResourceList{corev1.ResourceCPU: capCPU, corev1.ResourceMemory: capMem, corev1.ResourcePods: pods},
				Allocatable: corev1.ResourceList{corev1.ResourceCPU: allocCPU, corev1.ResourceMemory: allocMem, corev1.ResourcePods: pods},
			},
		})
	}
	return out
}
