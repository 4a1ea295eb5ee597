package controlplane

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/org/platform/internal/poll"
	"github.com/org/platform/pkg/spec"
)

func TestReserved(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		vcpus, mem  int
		cpu, memory string
	}{
		{1, 1024, "60m", "356Mi"},       // 25% of 1 GiB + 100 MiB
		{2, 4096, "70m", "1124Mi"},      // g6-standard-2: 60+10; 1024+100
		{4, 8192, "80m", "1943Mi"},      // g6-standard-4: 60+10+5+5; 1024+819.2+100
		{8, 16384, "90m", "2762Mi"},     // g6-standard-8: …+4×2.5; …+819.2 (10% of 8 GiB)
		{16, 32768, "110m", "3745Mi"},   // g6-standard-16: 80+12×2.5; 2662.4+983.04 (6% of 16 GiB)+100
		{2, 4096 + 1, "70m", "1124Mi"},  // 20% of one MiB rounds away
		{32, 65536, "150m", "5712Mi"},   // 80+28×2.5; 2662.4+2949.12 (6% of 48 GiB)+100
		{50, 262144, "195m", "12265Mi"}, // 80+46×2.5; 2662.4+6881.28+2621.44 (2% above 128 GiB)+100
	} {
		t.Run(fmt.Sprintf("%dx%d", tt.vcpus, tt.mem), func(t *testing.T) {
			t.Parallel()
			cpu, mem := Reserved(tt.vcpus, tt.mem)
			if cpu.Cmp(resource.MustParse(tt.cpu)) != 0 || mem.Cmp(resource.MustParse(tt.memory)) != 0 {
				t.Errorf("Reserved(%d, %d) = %s, %s; want %s, %s", tt.vcpus, tt.mem, cpu.String(), mem.String(), tt.cpu, tt.memory)
			}
		})
	}
}

func TestShapesFor(t *testing.T) {
	t.Parallel()
	env, err := spec.Default(spec.Production)
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]LinodeType{"g6-dedicated-4": {VCPUs: 4, MemoryMB: 8192}, "g6-dedicated-2": {VCPUs: 2, MemoryMB: 4096}}
	shapes, err := ShapesFor(env, types)
	if err != nil {
		t.Fatal(err)
	}
	if len(shapes) != 2 {
		t.Fatalf("got %d shapes, want one per pool (2)", len(shapes))
	}
	ing := shapes[1]
	if ing.Pool != "ingress" || ing.Count != 2 || ing.VCPUs != 2 || ing.MemoryMB != 4096 || ing.Labels["dedicated"] != "ingress" ||
		len(ing.Taints) != 1 || ing.Taints[0].Effect != corev1.TaintEffectNoSchedule || ing.Region != env.Cluster.Region {
		t.Errorf("ingress shape = %+v", ing)
	}
	nodes := ing.nodes(2)
	if len(nodes) != 2 || nodes[1].Name != "ingress-1" {
		t.Fatalf("nodes = %d, second %q; want ingress-0, ingress-1", len(nodes), nodes[1].Name)
	}
	n := nodes[0]
	for k, v := range map[string]string{PoolLabel: "ingress", LKEPoolIDLabel: "2", "dedicated": "ingress",
		"node.kubernetes.io/instance-type": "g6-dedicated-2", "kubernetes.io/os": "linux", "topology.kubernetes.io/region": env.Cluster.Region} {
		if n.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, n.Labels[k], v)
		}
	}
	if got := n.Status.Allocatable.Memory(); got.Cmp(resource.MustParse("2972Mi")) != 0 {
		t.Errorf("allocatable memory %s, want 4096Mi − 1124Mi", got)
	}
	if got := n.Status.Allocatable.Cpu(); got.Cmp(resource.MustParse("1930m")) != 0 {
		t.Errorf("allocatable cpu %s, want 2 − 70m", got)
	}

	delete(types, "g6-dedicated-2")
	if _, err := ShapesFor(env, types); err == nil || !strings.Contains(err.Error(), "cluster.nodePools[ingress].type") {
		t.Errorf("unknown type: error %v, want one naming cluster.nodePools[ingress].type", err)
	}
	if err := WithPoolNodes(NodeShape{Pool: "x", Count: 0, VCPUs: 1, MemoryMB: 2048})(&options{}); err == nil {
		t.Error("a pool of 0 nodes was accepted")
	}
}

func TestLoadBalancerAddressesAreStable(t *testing.T) {
	t.Parallel()
	a := &lbController{used: map[netip.Addr]string{}, byKey: map[string]netip.Addr{}}
	b := &lbController{used: map[netip.Addr]string{}, byKey: map[string]netip.Addr{}}
	ipA := a.assign("ingress/ingress-nginx-controller")
	_ = b.assign("other/svc") // another Service first
	if ipB := b.assign("ingress/ingress-nginx-controller"); ipA != ipB {
		t.Errorf("the same Service got %s in one run and %s in another", ipA, ipB)
	}
	if !LoadBalancerPrefix.Contains(ipA) {
		t.Errorf("%s is outside %s", ipA, LoadBalancerPrefix)
	}
	if again := a.assign("ingress/ingress-nginx-controller"); again != ipA {
		t.Errorf("second assign %s, first %s", again, ipA)
	}
	// A collision takes the next free address.
	a.used[ipA] = "x/y"
	delete(a.byKey, "ingress/ingress-nginx-controller")
	if next := a.assign("ingress/ingress-nginx-controller"); next == ipA {
		t.Errorf("a taken address was handed out again")
	}
}

// TestStandIns starts a control plane with two shaped pools and the
// stand-ins, and checks what LKE would do: a LoadBalancer Service gets an
// address, a claim of the default class is bound, and a pod using it is
// scheduled only onto the pool it tolerates and fits.
func TestStandIns(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	shapes := []NodeShape{
		{Pool: "general", Type: "g6-standard-2", Count: 2, VCPUs: 2, MemoryMB: 4096},
		{Pool: "ingress", Type: "g6-dedicated-2", Count: 1, VCPUs: 2, MemoryMB: 4096, Labels: map[string]string{"dedicated": "ingress"},
			Taints: []corev1.Taint{{Key: "dedicated", Value: "ingress", Effect: corev1.TaintEffectNoSchedule}}},
	}
	cp := RequireNew(t, WithLogger(zaptest.NewLogger(t, zaptest.Level(zap.InfoLevel))), WithPoolNodes(shapes...), WithStandIns())
	t.Logf("startup with 3 shaped nodes and the stand-ins: %s", cp.StartupDuration())
	cs, err := kubernetes.NewForConfig(cp.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: PoolLabel + "=ingress"})
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes.Items) != 1 {
		t.Fatalf("%d nodes in the ingress pool, want 1", len(nodes.Items))
	}
	if n := nodes.Items[0]; !slices.ContainsFunc(n.Spec.Taints, func(tn corev1.Taint) bool { return tn.Key == "dedicated" }) ||
		n.Status.Allocatable.Memory().Cmp(resource.MustParse("2972Mi")) != 0 {
		t.Fatalf("ingress node: taints %v, allocatable %v", n.Spec.Taints, n.Status.Allocatable)
	}

	ns := "standins"
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	svc, err := cs.CoreV1().Services(ns).Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "lb"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Selector: map[string]string{"app": "x"},
			Ports: []corev1.ServicePort{{Name: "http", Port: 80}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	claim, err := cs.CoreV1().PersistentVolumeClaims(ns).Create(ctx, &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "data"}, // no class: the default one
		Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if claim.Spec.StorageClassName == nil || *claim.Spec.StorageClassName != DefaultStorageClass {
		t.Errorf("claim without a class got class %v, want the default %s", claim.Spec.StorageClassName, DefaultStorageClass)
	}
	pod := func(name string, cpu string) *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: corev1.PodSpec{
				Containers: []corev1.Container{{Name: "c", Image: "x", Resources: corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}}}},
				Volumes: []corev1.Volume{{Name: "d", VolumeSource: corev1.VolumeSource{
					PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}}},
			},
		}
	}
	if _, err := cs.CoreV1().Pods(ns).Create(ctx, pod("fits", "1"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Pods(ns).Create(ctx, pod("too-big", "1950m"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	wait := func(what string, ok func(ctx context.Context) (bool, error)) {
		t.Helper()
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := poll.Until(ctx, poll.Policy{Interval: 50 * time.Millisecond, Multiplier: 1}, ok); err != nil {
			t.Fatalf("wait for %s: %v", what, err)
		}
	}
	wait("a LoadBalancer address", func(ctx context.Context) (bool, error) {
		s, err := cs.CoreV1().Services(ns).Get(ctx, svc.Name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		in := s.Status.LoadBalancer.Ingress
		if len(in) != 1 {
			return false, nil
		}
		ip, err := netip.ParseAddr(in[0].IP)
		return err == nil && LoadBalancerPrefix.Contains(ip), err
	})
	var bound *corev1.PersistentVolumeClaim
	wait("the claim to be Bound", func(ctx context.Context) (bool, error) {
		bound, err = cs.CoreV1().PersistentVolumeClaims(ns).Get(ctx, "data", metav1.GetOptions{})
		return err == nil && bound.Status.Phase == corev1.ClaimBound, err
	})
	if got := bound.Status.Capacity[corev1.ResourceStorage]; got.Cmp(resource.MustParse(MinVolumeSize)) != 0 {
		t.Errorf("a 1Gi claim got %s, want Linode's minimum %s", got.String(), MinVolumeSize)
	}
	wait("the pod that fits to run on the general pool", func(ctx context.Context) (bool, error) {
		p, err := cs.CoreV1().Pods(ns).Get(ctx, "fits", metav1.GetOptions{})
		return err == nil && p.Status.Phase == corev1.PodRunning && strings.HasPrefix(p.Spec.NodeName, "general-"), err
	})
	// 1950m is more than a g6-standard-2 allocates (1930m), and the
	// ingress node is tainted: the scheduler says so.
	wait("the pod that does not fit to be reported unschedulable", func(ctx context.Context) (bool, error) {
		p, err := cs.CoreV1().Pods(ns).Get(ctx, "too-big", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Reason == corev1.PodReasonUnschedulable {
				if !strings.Contains(c.Message, "Insufficient cpu") || !strings.Contains(c.Message, "untolerated taint") {
					return false, fmt.Errorf("unschedulable for another reason: %s", c.Message)
				}
				return true, nil
			}
		}
		return false, nil
	})

	// Type changed away from LoadBalancer: the address goes.
	s, err := cs.CoreV1().Services(ns).Get(ctx, svc.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s.Spec.Type = corev1.ServiceTypeClusterIP
	for i := range s.Spec.Ports {
		s.Spec.Ports[i].NodePort = 0
	}
	if _, err := cs.CoreV1().Services(ns).Update(ctx, s, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	wait("the address to be cleared", func(ctx context.Context) (bool, error) {
		s, err := cs.CoreV1().Services(ns).Get(ctx, svc.Name, metav1.GetOptions{})
		return err == nil && len(s.Status.LoadBalancer.Ingress) == 0, err
	})
}
