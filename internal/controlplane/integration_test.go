package controlplane

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	networkingv1ac "k8s.io/client-go/applyconfigurations/networking/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/org/platform/internal/poll"
)

func clientset(t *testing.T, cfg *rest.Config) *kubernetes.Clientset {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// alive reports whether pid names a process that has not terminated. A
// zombie (dead, waiting for its new parent to reap it) counts as gone.
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(b), ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}

// assertGone fails t unless every pid names no running process.
func assertGone(t *testing.T, pids []int) {
	t.Helper()
	for _, pid := range pids {
		if alive(pid) {
			t.Errorf("process %d still running", pid)
		}
	}
}

func TestStartUseStop(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cp := RequireNew(t, WithLogger(zaptest.NewLogger(t)))
	t.Logf("startup (etcd + kube-apiserver): %s", cp.StartupDuration())

	cfg := cp.RESTConfig()
	if cfg.Insecure || len(cfg.CAData) == 0 || !strings.HasPrefix(cfg.Host, "https://127.0.0.1:") {
		t.Fatalf("RESTConfig = host %q insecure %v CA %d bytes; want https on loopback with a CA", cfg.Host, cfg.Insecure, len(cfg.CAData))
	}
	cs := clientset(t, cfg)

	// Namespace and ConfigMap through client-go.
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "harness"}}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings"}, Data: map[string]string{"k": "v"}}
	if _, err := cs.CoreV1().ConfigMaps("harness").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create configmap: %v", err)
	}
	got, err := cs.CoreV1().ConfigMaps("harness").Get(ctx, "settings", metav1.GetOptions{})
	if err != nil || got.Data["k"] != "v" {
		t.Fatalf("get configmap = %v, %v; want data k=v", got, err)
	}

	// Server-side apply of a NetworkPolicy, twice: the second changes a field.
	for _, port := range []int32{8080, 9090} {
		np := networkingv1ac.NetworkPolicy("allow-web", "harness").WithSpec(networkingv1ac.NetworkPolicySpec().
			WithPodSelector(metav1ac.LabelSelector().WithMatchLabels(map[string]string{"app": "web"})).
			WithPolicyTypes(networkingv1.PolicyTypeIngress).
			WithIngress(networkingv1ac.NetworkPolicyIngressRule().
				WithPorts(networkingv1ac.NetworkPolicyPort().WithProtocol(corev1.ProtocolTCP).WithPort(intstr.FromInt32(port)))))
		applied, err := cs.NetworkingV1().NetworkPolicies("harness").Apply(ctx, np, metav1.ApplyOptions{FieldManager: "harness-test", Force: true})
		if err != nil {
			t.Fatalf("apply network policy (port %d): %v", port, err)
		}
		if p := applied.Spec.Ingress[0].Ports[0].Port.IntValue(); p != int(port) {
			t.Errorf("applied port = %d, want %d", p, port)
		}
		if i := slices.IndexFunc(applied.ManagedFields, func(m metav1.ManagedFieldsEntry) bool {
			return m.Manager == "harness-test" && m.Operation == metav1.ManagedFieldsOperationApply
		}); i < 0 {
			t.Errorf("managedFields = %+v, want an Apply entry of harness-test", applied.ManagedFields)
		}
	}

	// The kubeconfig works on its own, with the same CA.
	kcfg, err := clientcmd.RESTConfigFromKubeConfig(cp.Kubeconfig())
	if err != nil {
		t.Fatalf("parse kubeconfig: %v", err)
	}
	if _, err := clientset(t, kcfg).CoreV1().ConfigMaps("harness").Get(ctx, "settings", metav1.GetOptions{}); err != nil {
		t.Errorf("get configmap through the kubeconfig: %v", err)
	}

	// Without the token the API server refuses; with another CA TLS fails.
	anon := rest.AnonymousClientConfig(cfg)
	if _, err := clientset(t, anon).CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); err == nil {
		t.Error("anonymous list of namespaces succeeded; want it refused")
	}
	resp, err := http.Get(cfg.Host + "/readyz") // system roots only
	if err == nil {
		resp.Body.Close()
		t.Error("GET /readyz trusting only the system roots succeeded; want a TLS error")
	}

	pids, dir := cp.pids(), cp.dir
	if len(pids) != 2 {
		t.Fatalf("pids = %v, want etcd and kube-apiserver", pids)
	}
	began := time.Now()
	if err := cp.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	t.Logf("stop: %s", time.Since(began))
	assertGone(t, pids)
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("directory %s left after Stop (stat: %v)", dir, err)
	}
	if err := cp.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if _, err := cs.CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); err == nil {
		t.Error("API server still answers after Stop")
	}
}

func TestWorkloads(t *testing.T) {
	t.Parallel()
	cp := RequireNew(t, WithNodes(1), WithLogger(zaptest.NewLogger(t)))
	t.Logf("startup (with controller-manager, scheduler, kwok, 1 Ready node): %s", cp.StartupDuration())
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	cs := clientset(t, cp.RESTConfig())

	node, err := cs.CoreV1().Nodes().Get(ctx, "kwok-node-0", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get fake node: %v", err)
	}
	if !nodeReady(node) || node.Annotations[FakeNodeAnnotation] != "fake" {
		t.Fatalf("node conditions %+v annotations %v; want Ready and annotated", node.Status.Conditions, node.Annotations)
	}

	labels := map[string]string{"app": "web"}
	replicas := int32(3)
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "registry.invalid/web:1"}}},
			},
		},
	}
	began := time.Now()
	if _, err := cs.AppsV1().Deployments("default").Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create deployment: %v", err)
	}
	var last string
	err = poll.Until(ctx, poll.Policy{Interval: 100 * time.Millisecond, Multiplier: 1}, func(ctx context.Context) (bool, error) {
		pods, err := cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
		if err != nil {
			last = err.Error()
			return false, nil
		}
		running := 0
		var phases []string
		for _, p := range pods.Items {
			phases = append(phases, p.Name+"="+string(p.Status.Phase)+"@"+p.Spec.NodeName)
			if p.Status.Phase == corev1.PodRunning && p.Spec.NodeName == "kwok-node-0" {
				running++
			}
		}
		sort.Strings(phases)
		last = strings.Join(phases, " ")
		return running == 3 && len(pods.Items) == 3, nil
	})
	if err != nil {
		t.Fatalf("wait for 3 Running pods: %v; pods: %s", err, last)
	}
	t.Logf("3/3 pods Running %s after creating the Deployment", time.Since(began))

	pids := cp.pids()
	if len(pids) != 5 {
		t.Fatalf("pids = %v, want 5 components", pids)
	}
	if err := cp.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	assertGone(t, pids)
}

// Pool.Kubeconfig fits pkg/linodetest's WithKubeconfigSource.
var _ func(clusterID int) ([]byte, error) = (*Pool)(nil).Kubeconfig

func TestPool(t *testing.T) {
	t.Parallel()
	pool := NewPool(WithLogger(zaptest.NewLogger(t)))
	t.Cleanup(func() { _ = pool.Close() })
	kc1, err := pool.Kubeconfig(1)
	admit(t, nil, err) // skips or fails on err, else counts the test
	kc2, err := pool.Kubeconfig(2)
	if err != nil {
		t.Fatalf("Kubeconfig(2): %v", err)
	}
	again, err := pool.Kubeconfig(1)
	if err != nil {
		t.Fatalf("Kubeconfig(1) again: %v", err)
	}
	if string(again) != string(kc1) {
		t.Error("Kubeconfig(1) changed between calls; want the same control plane")
	}
	// Concurrent first calls for one id share one start.
	var wg sync.WaitGroup
	kc3 := make([][]byte, 2)
	for i := range kc3 {
		wg.Go(func() {
			var err error
			if kc3[i], err = pool.Kubeconfig(3); err != nil {
				t.Errorf("Kubeconfig(3): %v", err)
			}
		})
	}
	wg.Wait()
	if string(kc3[0]) != string(kc3[1]) || string(kc3[0]) == string(kc1) {
		t.Error("concurrent Kubeconfig(3) calls got different control planes, or id 1's")
	}

	// Two distinct API servers: a namespace made in one is absent in the other.
	var hosts []string
	var pids []int
	for i, kc := range [][]byte{kc1, kc2} {
		cfg, err := clientcmd.RESTConfigFromKubeConfig(kc)
		if err != nil {
			t.Fatalf("parse kubeconfig %d: %v", i+1, err)
		}
		hosts = append(hosts, cfg.Host)
		cs := clientset(t, cfg)
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("only-in-%d", i+1)}}
		if _, err := cs.CoreV1().Namespaces().Create(t.Context(), ns, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create namespace in %d: %v", i+1, err)
		}
		other := fmt.Sprintf("only-in-%d", 2-i)
		if _, err := cs.CoreV1().Namespaces().Get(t.Context(), other, metav1.GetOptions{}); err == nil {
			t.Errorf("namespace %s visible in control plane %d", other, i+1)
		}
		cp, err := pool.ControlPlane(t.Context(), i+1)
		if err != nil {
			t.Fatal(err)
		}
		pids = append(pids, cp.pids()...)
	}
	cp3, err := pool.ControlPlane(t.Context(), 3)
	if err != nil {
		t.Fatal(err)
	}
	pids = append(pids, cp3.pids()...)
	if hosts[0] == hosts[1] {
		t.Errorf("ids 1 and 2 share host %s", hosts[0])
	}

	if err := pool.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	assertGone(t, pids)
	if _, err := pool.Kubeconfig(1); !errors.Is(err, ErrPoolClosed) {
		t.Errorf("Kubeconfig after Close: %v, want ErrPoolClosed", err)
	}
}

func TestRequireShares(t *testing.T) {
	t.Parallel()
	first := Require(t)
	var second *ControlPlane
	t.Run("subtest", func(t *testing.T) { second = Require(t) })
	if first != second {
		t.Errorf("Require returned %p then %p; want the package's one control plane", first, second)
	}
	cs := clientset(t, first.RESTConfig())
	// The binaries report their release (Helm checks charts' kubeVersion
	// against it), not the v0.0.0-master of a plain go build.
	v, err := cs.Discovery().ServerVersion()
	if err != nil {
		t.Fatalf("server version: %v", err)
	}
	if v.GitVersion != kubernetesVersion || v.Major != "1" || v.Minor != "37" {
		t.Errorf("server version = %s (major %q minor %q), want %s", v.GitVersion, v.Major, v.Minor, kubernetesVersion)
	}
}

// helperEnv makes the test binary, re-executed by
// TestNoLeakWhenTestBinaryDies, run a helper test that starts a control
// plane, writes its pids to the file named by the variable's value, and
// then dies as the variable helperModeEnv says.
const (
	helperEnv     = "CONTROLPLANE_TEST_HELPER_PIDS"
	helperModeEnv = "CONTROLPLANE_TEST_HELPER_MODE"
)

func TestHelperDies(t *testing.T) {
	pidFile := os.Getenv(helperEnv)
	if pidFile == "" {
		t.Skip("helper of TestNoLeakWhenTestBinaryDies")
	}
	cp := RequireNew(t)
	var b strings.Builder
	for _, pid := range cp.pids() {
		fmt.Fprintln(&b, pid)
	}
	fmt.Fprintln(&b, cp.dir)
	if err := os.WriteFile(pidFile+".tmp", []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(pidFile+".tmp", pidFile); err != nil {
		t.Fatal(err)
	}
	switch os.Getenv(helperModeEnv) {
	case "panic":
		panic("helper panics on purpose")
	default: // wait to be killed
		time.Sleep(time.Minute)
	}
}

func TestNoLeakWhenTestBinaryDies(t *testing.T) {
	t.Parallel()
	_, err := findBinaries(options{cacheDir: DefaultCacheDir()})
	admit(t, nil, err) // skips or fails on err, else counts the test
	tests := []struct {
		mode    string
		dirGone bool // the panic unwinds through t.Cleanup; SIGKILL does not
	}{{"panic", true}, {"sigkill", false}}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			pidFile := filepath.Join(t.TempDir(), "pids")
			cmd := exec.Command(os.Args[0], "-test.run=^TestHelperDies$", "-test.count=1")
			cmd.Env = append(os.Environ(), helperEnv+"="+pidFile, helperModeEnv+"="+tt.mode)
			out := &strings.Builder{}
			cmd.Stdout, cmd.Stderr = out, out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			var lines []string
			err := poll.Until(t.Context(), poll.Policy{Interval: 50 * time.Millisecond, Multiplier: 1}, func(context.Context) (bool, error) {
				b, err := os.ReadFile(pidFile)
				if err == nil {
					lines = strings.Fields(string(b))
					return true, nil
				}
				select {
				case err := <-done:
					return false, fmt.Errorf("helper exited before writing pids: %v\n%s", err, out)
				default:
					return false, nil
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			if tt.mode == "sigkill" {
				_ = cmd.Process.Kill()
			}
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatalf("helper did not exit\n%s", out)
			}
			dir := lines[len(lines)-1]
			var pids []int
			for _, l := range lines[:len(lines)-1] {
				pid, err := strconv.Atoi(l)
				if err != nil {
					t.Fatal(err)
				}
				pids = append(pids, pid)
			}
			// Pdeathsig is delivered at once, but dying takes a moment.
			waitCtx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			_ = poll.Until(waitCtx, poll.Policy{Interval: 50 * time.Millisecond, Multiplier: 1}, func(context.Context) (bool, error) {
				return !slices.ContainsFunc(pids, alive), nil
			})
			assertGone(t, pids)
			_, statErr := os.Stat(dir)
			if gone := os.IsNotExist(statErr); gone != tt.dirGone {
				t.Errorf("directory %s gone = %v, want %v", dir, gone, tt.dirGone)
			}
			if !tt.dirGone {
				// What the next Start does: sweep it.
				sweepStale(zaptest.NewLogger(t))
				if _, err := os.Stat(dir); !os.IsNotExist(err) {
					t.Errorf("sweepStale left %s (stat: %v)", dir, err)
				}
			}
		})
	}
}

func BenchmarkStart(b *testing.B) {
	var startups []time.Duration
	for b.Loop() {
		cp, err := Start(b.Context())
		if errors.Is(err, ErrBinaryMissing) {
			b.Skip(err)
		}
		if err != nil {
			b.Fatal(err)
		}
		startups = append(startups, cp.StartupDuration())
		if err := cp.Stop(); err != nil {
			b.Fatal(err)
		}
	}
	slices.Sort(startups)
	b.ReportMetric(float64(startups[len(startups)/2].Milliseconds()), "median-startup-ms")
}
