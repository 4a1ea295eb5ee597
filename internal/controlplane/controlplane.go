package controlplane

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/org/platform/internal/poll"
)

// FakeNodeAnnotation marks a Node for kwok to manage (with value "fake"):
// kwok makes it Ready, keeps its lease and runs the pods bound to it.
const FakeNodeAnnotation = "kwok.x-k8s.io/node"

// Addresses handed to kube-apiserver and kwok. They are data only: nothing
// connects to them (there is no kube-proxy and no kubelet port).
const (
	serviceCIDR = "10.96.0.0/16"
	podCIDR     = "10.244.0.1/16"
	nodeIP      = "127.0.0.1"
	issuer      = "https://kubernetes.default.svc.cluster.local"
)

// noProxy keeps the components' own traffic off a proxy named in the
// environment (HTTPS_PROXY): loopback, and the cluster's Service and pod
// addresses and names, which kube-apiserver dials for admission webhooks
// and its service proxy, are never the proxy's to serve.
const noProxy = "127.0.0.1,localhost,.svc,.svc.cluster.local," + serviceCIDR + ",10.244.0.0/16"

// readyInterval is how often Start polls for readiness.
const readyInterval = 50 * time.Millisecond

// ControlPlane is a running local control plane. Its methods are safe for
// concurrent use.
type ControlPlane struct {
	log      *zap.Logger
	dir      string
	grace    time.Duration
	procs    []*process // in start order
	rest     *rest.Config
	kubecfg  []byte
	startup  time.Duration
	standIns *standIns      // nil without WithStandIns
	webhooks *webhookServer // nil without WithStandIns
	egress   *egressProxy   // nil without WithStandIns
	stopOnce sync.Once
	stopErr  error
}

// Start starts a control plane and returns once kube-apiserver's /readyz
// answers ok (and, with [WithWorkloads] or [WithNodes], once pods can be
// created and the fake Nodes are Ready). ctx bounds the start only: the
// control plane runs until [ControlPlane.Stop]. The caller must call Stop,
// also when the test fails; on error nothing is left running.
//
// A start that loses a freshly picked port to another process is retried
// with new ports, twice at most.
func Start(ctx context.Context, opts ...Option) (*ControlPlane, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	bins, err := findBinaries(o)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, o.startTimeout)
	defer cancel()
	for attempt := 1; ; attempt++ {
		cp, err := start(ctx, o, bins)
		if err == nil || attempt == 3 || !addressInUse(err) {
			return cp, err
		}
		o.log.Info("port taken while starting; retrying with new ports", zap.Int("attempt", attempt), zap.Error(err))
	}
}

// binaries are the paths of the components' executables; the kwok stages
// sit next to kwok.
type binaries struct {
	etcd, apiserver, controller, scheduler, kwok string
}

func findBinaries(o options) (binaries, error) {
	var b binaries
	want := []struct {
		c   component
		dst *string
	}{{compEtcd, &b.etcd}, {compAPIServer, &b.apiserver}}
	if o.workloads {
		want = append(want, []struct {
			c   component
			dst *string
		}{{compController, &b.controller}, {compScheduler, &b.scheduler}, {compKwok, &b.kwok}}...)
	}
	for _, w := range want {
		p, err := w.c.find(o.cacheDir)
		if err != nil {
			return binaries{}, err
		}
		*w.dst = p
	}
	return b, nil
}

func start(ctx context.Context, o options, bins binaries) (_ *ControlPlane, err error) {
	began := time.Now()
	sweepStale(o.log)
	dir, err := os.MkdirTemp("", dirPrefix)
	if err != nil {
		return nil, fmt.Errorf("create control plane directory: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("write control plane owner: %w", err)
	}
	cp := &ControlPlane{log: o.log, dir: dir, grace: o.stopGrace}
	defer func() {
		if err != nil {
			_ = cp.Stop()
		}
	}()
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	etcdPort, peerPort, apiPort := ports[0], ports[1], ports[2]
	env := append(os.Environ(), "NO_PROXY="+noProxy, "no_proxy="+noProxy)

	etcd, err := startProcess(o.log, dir, "etcd", bins.etcd, []string{
		"--data-dir=" + filepath.Join(dir, "etcd"),
		"--listen-client-url=" + loopbackURL("http", etcdPort),
		"--listen-peer-url=" + loopbackURL("http", peerPort),
		"--unsafe-no-fsync", // the data dies with the test
		"--log-level=warn",
	}, env)
	if err != nil {
		return nil, err
	}
	cp.procs = append(cp.procs, etcd)

	token, err := randomToken()
	if err != nil {
		return nil, err
	}
	saKey := filepath.Join(dir, "sa.key")
	if err := writeRSAKey(saKey); err != nil {
		return nil, err
	}
	tokens := filepath.Join(dir, "tokens.csv")
	if err := os.WriteFile(tokens, []byte(token+",admin,admin,system:masters\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write token file: %w", err)
	}
	certDir := filepath.Join(dir, "certs")
	args := []string{
		"--etcd-servers=" + loopbackURL("http", etcdPort),
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(apiPort),
		"--cert-dir=" + certDir,
		"--service-account-issuer=" + issuer,
		"--service-account-key-file=" + saKey,
		"--service-account-signing-key-file=" + saKey,
		"--token-auth-file=" + tokens,
		"--authorization-mode=RBAC",
		"--service-cluster-ip-range=" + serviceCIDR,
		"--allow-privileged=true",
		// The "kubernetes" Service would point at 127.0.0.1, which Endpoints
		// refuse; nothing in a test reaches the API server through it.
		"--endpoint-reconciler-type=none",
		"--profiling=false",
	}
	apiEnv := env
	if o.standIns {
		// Before kube-apiserver: its egress to the cluster goes through
		// the proxy to the webhook stand-in from its first call.
		flags, err := startWebhookStandIn(cp, o.log)
		if err != nil {
			return nil, err
		}
		args = append(args, flags.args...)
		apiEnv = append(slices.Clone(env), flags.env...)
	}
	api, err := startProcess(o.log, dir, "kube-apiserver", bins.apiserver, append(args, o.apiFlags...), apiEnv)
	if err != nil {
		return nil, err
	}
	cp.procs = append(cp.procs, api)

	host := "https://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(apiPort))
	ca, err := waitAPIServer(ctx, cp, host, filepath.Join(certDir, "apiserver.crt"), token)
	if err != nil {
		return nil, err
	}
	o.log.Info("kube-apiserver ready", zap.String("host", host), zap.Duration("after", time.Since(began)))
	cp.rest = &rest.Config{
		Host:            host,
		BearerToken:     token,
		TLSClientConfig: rest.TLSClientConfig{CAData: ca},
		QPS:             50,
		Burst:           100,
	}
	if cp.kubecfg, err = kubeconfig(host, ca, token); err != nil {
		return nil, err
	}
	if o.workloads {
		if err := startWorkloads(ctx, cp, o, bins, ca); err != nil {
			return nil, err
		}
	}
	cp.startup = time.Since(began)
	o.log.Info("control plane ready", zap.String("host", host), zap.Duration("startup", cp.startup),
		zap.Bool("workloads", o.workloads), zap.Int("nodes", o.nodes))
	return cp, nil
}

// waitAPIServer polls until kube-apiserver has written its serving
// certificate and answers /readyz with 200, and returns that certificate
// (PEM) as the CA to trust.
func waitAPIServer(ctx context.Context, cp *ControlPlane, host, certFile, token string) ([]byte, error) {
	var (
		ca      []byte
		client  *http.Client
		lastErr error
	)
	err := poll.Until(ctx, poll.Policy{Interval: readyInterval, Multiplier: 1}, func(ctx context.Context) (bool, error) {
		if err := cp.exited(); err != nil {
			return false, err
		}
		if client == nil {
			pemBytes, err := os.ReadFile(certFile)
			if err != nil {
				lastErr = err
				return false, nil
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pemBytes) {
				lastErr = fmt.Errorf("no certificate in %s yet", certFile)
				return false, nil // still being written
			}
			ca = pemBytes
			client = &http.Client{
				Timeout:   2 * time.Second,
				Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}},
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, host+"/readyz", nil)
		if err != nil {
			return false, fmt.Errorf("build /readyz request: %w", err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			lastErr = err
			return false, nil
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			lastErr = fmt.Errorf("/readyz: %s", resp.Status)
			return false, nil
		}
		return true, nil
	})
	if client != nil {
		client.CloseIdleConnections()
	}
	if err != nil {
		return nil, fmt.Errorf("wait for kube-apiserver at %s: %w", host, errors.Join(err, lastErr))
	}
	return ca, nil
}

// startWorkloads starts kube-controller-manager, kube-scheduler and kwok,
// waits for the default ServiceAccount, creates the fake Nodes and waits for
// them to be Ready.
func startWorkloads(ctx context.Context, cp *ControlPlane, o options, bins binaries, ca []byte) error {
	dir := cp.dir
	kubeconfigPath := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfigPath, cp.kubecfg, 0o600); err != nil {
		return fmt.Errorf("write kubeconfig: %w", err)
	}
	caFile := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(caFile, ca, 0o600); err != nil {
		return fmt.Errorf("write CA file: %w", err)
	}
	env := append(os.Environ(), "NO_PROXY="+noProxy, "no_proxy="+noProxy)
	stages, err := filepath.Glob(filepath.Join(filepath.Dir(bins.kwok), "stages", "*.yaml"))
	if err != nil || len(stages) == 0 {
		return fmt.Errorf("find kwok stages next to %s (rebuild with make controlplane): %v", bins.kwok, err)
	}
	kwokHome := filepath.Join(dir, "kwok")
	if err := os.MkdirAll(kwokHome, 0o700); err != nil {
		return fmt.Errorf("create kwok home: %w", err)
	}
	kwokArgs := []string{
		"--kubeconfig=" + kubeconfigPath,
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector=" + FakeNodeAnnotation + "=fake",
		"--node-ip=" + nodeIP,
		"--cidr=" + podCIDR,
		// Without a lease kwok's only heartbeat is the node-heartbeat
		// stage's, every 10 minutes, and the node lifecycle controller
		// marks every node NotReady (and every pod not Ready) after its
		// 40 s grace period: kwok then renews a Lease per node instead.
		"--node-lease-duration-seconds=40",
	}
	for _, s := range stages {
		kwokArgs = append(kwokArgs, "--config="+s)
	}
	for _, c := range []struct {
		name, bin string
		args      []string
		env       []string
	}{
		{"kube-controller-manager", bins.controller, []string{
			"--kubeconfig=" + kubeconfigPath,
			"--leader-elect=false",
			"--service-account-private-key-file=" + filepath.Join(dir, "sa.key"),
			"--use-service-account-credentials=false",
			"--root-ca-file=" + caFile,
			"--bind-address=127.0.0.1",
			"--secure-port=0",
		}, env},
		{"kube-scheduler", bins.scheduler, []string{
			"--kubeconfig=" + kubeconfigPath,
			"--leader-elect=false",
			"--bind-address=127.0.0.1",
			"--secure-port=0",
		}, env},
		// HOME keeps kwok from reading a ~/.kwok/kwok.yaml of the user's.
		{"kwok", bins.kwok, kwokArgs, append(env, "HOME="+kwokHome)},
	} {
		p, err := startProcess(o.log, dir, c.name, c.bin, c.args, c.env)
		if err != nil {
			return err
		}
		cp.procs = append(cp.procs, p)
	}

	cs, err := kubernetes.NewForConfig(cp.RESTConfig())
	if err != nil {
		return fmt.Errorf("create clientset: %w", err)
	}
	policy := poll.Policy{Interval: readyInterval, Multiplier: 1}
	// The ServiceAccount admission plugin refuses pods until the
	// controller-manager has made the namespace's default ServiceAccount.
	var lastErr error
	err = poll.Until(ctx, policy, func(ctx context.Context) (bool, error) {
		if err := cp.exited(); err != nil {
			return false, err
		}
		_, lastErr = cs.CoreV1().ServiceAccounts(metav1.NamespaceDefault).Get(ctx, "default", metav1.GetOptions{})
		return lastErr == nil, nil
	})
	if err != nil {
		return fmt.Errorf("wait for the default ServiceAccount: %w", errors.Join(err, lastErr))
	}
	if o.standIns {
		// Before the nodes: no pod may be scheduled before its claims can
		// be bound and its Services get an address.
		if cp.standIns, err = startStandIns(ctx, cs, o.log, cp.webhooks); err != nil {
			return err
		}
	}
	want := o.nodes
	for i := range o.nodes {
		if _, err := cs.CoreV1().Nodes().Create(ctx, fakeNode(fmt.Sprintf("kwok-node-%d", i)), metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create fake node %d: %w", i, err)
		}
	}
	for i, s := range o.shapes {
		for _, n := range s.nodes(i + 1) {
			if _, err := cs.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
				return fmt.Errorf("create node %s of pool %s: %w", n.Name, s.Pool, err)
			}
			want++
		}
	}
	if want == 0 {
		return nil
	}
	err = poll.Until(ctx, policy, func(ctx context.Context) (bool, error) {
		if err := cp.exited(); err != nil {
			return false, err
		}
		nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			lastErr = err
			return false, nil
		}
		ready := 0
		for _, n := range nodes.Items {
			if nodeReady(&n) {
				ready++
			}
		}
		lastErr = fmt.Errorf("%d of %d nodes Ready", ready, want)
		return ready >= want, nil
	})
	if err != nil {
		return fmt.Errorf("wait for fake nodes: %w", errors.Join(err, lastErr))
	}
	return nil
}

// fakeNode returns a Node for kwok to manage.
func fakeNode(name string) *corev1.Node {
	res := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("32"),
		corev1.ResourceMemory: resource.MustParse("256Gi"),
		corev1.ResourcePods:   resource.MustParse("110"),
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Annotations: map[string]string{FakeNodeAnnotation: "fake"},
			Labels: map[string]string{
				"kubernetes.io/hostname": name,
				"kubernetes.io/os":       "linux",
				"kubernetes.io/arch":     "amd64",
				"type":                   "kwok",
			},
		},
		Status: corev1.NodeStatus{Capacity: res, Allocatable: res},
	}
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// exited returns the error of the first component found to have exited.
func (c *ControlPlane) exited() error {
	for _, p := range c.procs {
		if err := p.exitedErr(); err != nil {
			return err
		}
	}
	return nil
}

// RESTConfig returns a new copy of a client configuration for the API
// server: its loopback https address, the serving certificate as the only
// trusted CA, and the admin's bearer token (group system:masters). QPS 50,
// burst 100.
func (c *ControlPlane) RESTConfig() *rest.Config { return rest.CopyConfig(c.rest) }

// Kubeconfig returns a kubeconfig holding the same as [ControlPlane.RESTConfig],
// with context, cluster and user all named "controlplane".
func (c *ControlPlane) Kubeconfig() []byte { return append([]byte(nil), c.kubecfg...) }

// StartupDuration is the time Start took, from its call to everything
// asked for being ready.
func (c *ControlPlane) StartupDuration() time.Duration { return c.startup }

// Stop stops the components in reverse order of start (SIGTERM to each
// process group, SIGKILL after the grace period), waits for them to exit and
// removes the control plane's directory. Calls after the first return the
// first's result.
func (c *ControlPlane) Stop() error {
	c.stopOnce.Do(func() {
		began := time.Now()
		var errs []error
		if c.standIns != nil {
			c.standIns.stop()
		}
		for i := len(c.procs) - 1; i >= 0; i-- {
			p, t := c.procs[i], time.Now()
			if err := p.stop(c.grace); err != nil {
				errs = append(errs, err)
			}
			c.log.Debug("stopped", zap.String("component", p.name), zap.Duration("took", time.Since(t)))
		}
		if c.egress != nil {
			c.egress.close()
		}
		if c.webhooks != nil {
			c.webhooks.close()
		}
		if err := os.RemoveAll(c.dir); err != nil {
			errs = append(errs, fmt.Errorf("remove control plane directory: %w", err))
		}
		c.stopErr = errors.Join(errs...)
		c.log.Info("control plane stopped", zap.Duration("took", time.Since(began)), zap.Error(c.stopErr))
	})
	return c.stopErr
}

// pids returns the process ids of the components, in start order.
func (c *ControlPlane) pids() []int {
	out := make([]int, len(c.procs))
	for i, p := range c.procs {
		out[i] = p.pid()
	}
	return out
}

// dirPrefix starts the name of every control plane's temporary directory;
// ownerFile in it holds the pid of the process that started it.
const (
	dirPrefix = "controlplane-"
	ownerFile = "owner.pid"
)

// sweepStale removes the temporary directories of control planes whose
// owning process died without stopping them (killed test binaries: their
// components died with them, by Pdeathsig, but the directory stayed, with
// etcd's 64 MB write-ahead log in it).
func sweepStale(log *zap.Logger) {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*"))
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, ownerFile))
		if err != nil {
			continue // not ours, or not yet written
		}
		pid, err := strconv.Atoi(string(b))
		if err != nil || pid <= 0 || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			continue // owner alive (or not ours to judge)
		}
		if err := os.RemoveAll(d); err == nil {
			log.Info("removed stale control plane directory", zap.String("dir", d), zap.Int("owner", pid))
		}
	}
}

// freePorts returns n distinct loopback ports that were free a moment ago.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("pick a free port: %w", err)
		}
		defer l.Close() // held until all are picked, so they differ
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func loopbackURL(scheme string, port int) string {
	return scheme + "://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}

func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate token: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// serviceAccountKey generates, once per process, a 2048-bit RSA key in
// PKCS#1 PEM for signing and verifying service-account tokens. Control planes
// of one test binary share it, which saves every start after the first the
// key generation (up to half a second on a busy machine); a service-account
// token of one still names objects, by UID, that the others do not have, so
// they refuse it.
var serviceAccountKey = sync.OnceValues(func() ([]byte, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generate service-account key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), nil
})

// writeRSAKey writes the process's service-account key to path.
func writeRSAKey(path string) error {
	b, err := serviceAccountKey()
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return fmt.Errorf("write service-account key: %w", err)
	}
	return nil
}

// kubeconfig renders a kubeconfig for host, trusting ca, as the token's user.
func kubeconfig(host string, ca []byte, token string) ([]byte, error) {
	const name = "controlplane"
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[name] = &clientcmdapi.Cluster{Server: host, CertificateAuthorityData: ca}
	cfg.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name}
	cfg.CurrentContext = name
	b, err := clientcmd.Write(*cfg)
	if err != nil {
		return nil, fmt.Errorf("render kubeconfig: %w", err)
	}
	return b, nil
}
