package rollout_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/release"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/org/platform/internal/controlplane"
	"github.com/org/platform/internal/helmrelease"
	"github.com/org/platform/pkg/linodetest"
	"github.com/org/platform/pkg/rollout"
	"github.com/org/platform/pkg/spec"
	"github.com/org/platform/pkg/store"
)

// The three transports an apply writes through, one write counter across
// them.
const (
	viaLinode = "linode"     // the Linode API (firewall, VPC, LKE)
	viaKube   = "kubernetes" // Deps.Kubernetes: pkg/network's objects, the GitOps steps
	viaHelm   = "helm"       // Deps.Helm: the baseline releases and plain objects
)

// faultMode is how a run meets its fault at the k-th write.
type faultMode string

const (
	// cancelled: the context is cancelled at write k, which never reaches
	// the server; the process lives on (Helm may finish what does not
	// follow the context, the records are written and the lock released).
	cancelled faultMode = "cancel"
	// answerLost: the server takes write k, its answer is lost, and the
	// context is cancelled.
	answerLost faultMode = "answer lost"
	// crashed: the process dies at write k: neither it nor anything after
	// it reaches any server or the records' store, so the lock is
	// abandoned and must expire.
	crashed faultMode = "crash"
)

// layerWrite is one real write (not a read, not a dry run) of a run.
type layerWrite struct {
	via, method, path string
}

func (w layerWrite) String() string { return w.via + " " + w.method + " " + w.path }

// writeLog numbers the real writes of a rollout across its three
// transports and injects one fault at the failAt-th.
type writeLog struct {
	mu     sync.Mutex
	writes []layerWrite
	failAt int64
	mode   faultMode
	cancel func()
	dead   bool
	hit    layerWrite
}

// arm makes the k-th write from now on fail in mode, cancelling with
// cancel; k 0 disarms.
func (l *writeLog) arm(k int64, mode faultMode, cancel func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes, l.failAt, l.mode, l.cancel, l.dead, l.hit = nil, k, mode, cancel, false, layerWrite{}
}

func (l *writeLog) count() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return int64(len(l.writes))
}

func (l *writeLog) log() []layerWrite {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]layerWrite(nil), l.writes...)
}

func (l *writeLog) isDead() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dead
}

// admit numbers w and says whether to send it, and whether to lose its
// answer (then cancel once the server took it).
func (l *writeLog) admit(w layerWrite) (send, lose bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.dead {
		return false, false // a dead process sends nothing
	}
	l.writes = append(l.writes, w)
	if l.failAt == 0 || int64(len(l.writes)) != l.failAt {
		return true, false
	}
	l.hit = w
	switch l.mode {
	case answerLost:
		return true, true
	case crashed:
		l.dead = true
	}
	l.cancel()
	return false, false
}

// lost cancels the run after a write whose answer is lost.
func (l *writeLog) lost() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cancel()
}

var errNotSent = errors.New("the write never reached the server")

// wrap counts and faults the real writes of cfg's requests.
func (l *writeLog) wrap(cfg *rest.Config, via string) {
	cfg.QPS, cfg.Burst = 200, 400
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripper(func(r *http.Request) (*http.Response, error) {
			if r.Method == http.MethodGet || r.URL.Query().Get("dryRun") == "All" {
				return rt.RoundTrip(r)
			}
			send, lose := l.admit(layerWrite{via: via, method: r.Method, path: r.URL.Path})
			if !send {
				return nil, fmt.Errorf("%s %s: %w", r.Method, r.URL.Path, errNotSent)
			}
			if !lose {
				return rt.RoundTrip(r)
			}
			resp, err := rt.RoundTrip(r)
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			l.lost()
			return nil, fmt.Errorf("%s %s, answer lost: %w", r.Method, r.URL.Path, io.ErrUnexpectedEOF)
		})
	})
}

func (l *writeLog) kubeClient(_ context.Context, _ string, kubeconfig []byte) (kubernetes.Interface, error) {
	cfg, err := clientcmd.RESTConfigFromKubeConfig(kubeconfig)
	if err != nil {
		return nil, err
	}
	l.wrap(cfg, viaKube)
	return kubernetes.NewForConfig(cfg)
}

func (l *writeLog) helmClient(_ context.Context, _ string, kubeconfig []byte) (genericclioptions.RESTClientGetter, error) {
	cfg, err := clientcmd.RESTConfigFromKubeConfig(kubeconfig)
	if err != nil {
		return nil, err
	}
	l.wrap(cfg, viaHelm)
	return helmrelease.GetterFor(cfg)
}

// linodeHook counts and faults the Linode writes where the simulator
// receives them: a write that "never reaches the server" is dropped before
// it commits.
func (l *writeLog) linodeHook(r linodetest.HookRequest) linodetest.HookAction {
	if r.Method == "GET" {
		return linodetest.HookAction{}
	}
	send, lose := l.admit(layerWrite{via: viaLinode, method: r.Method, path: r.Path})
	switch {
	case !send:
		return linodetest.HookAction{Fault: linodetest.FaultDropConnection}
	case lose:
		l.lost()
		return linodetest.HookAction{Fault: linodetest.FaultDropAfterCommit}
	}
	return linodetest.HookAction{}
}

// mortalStore is a records store that dies with the process.
type mortalStore struct {
	store.Store
	log *writeLog
}

var errDead = errors.New("the process died")

func (s mortalStore) check(op, key string) error {
	if s.log.isDead() {
		return fmt.Errorf("%s %s: %w", op, key, errDead)
	}
	return nil
}

func (s mortalStore) Put(ctx context.Context, key string, data []byte) error {
	if err := s.check("put", key); err != nil {
		return err
	}
	return s.Store.Put(ctx, key, data)
}

func (s mortalStore) Create(ctx context.Context, key string, data []byte) error {
	if err := s.check("create", key); err != nil {
		return err
	}
	return s.Store.Create(ctx, key, data)
}

func (s mortalStore) Get(ctx context.Context, key string) ([]byte, error) {
	if err := s.check("get", key); err != nil {
		return nil, err
	}
	return s.Store.Get(ctx, key)
}

func (s mortalStore) List(ctx context.Context, prefix string) ([]string, error) {
	if err := s.check("list", prefix); err != nil {
		return nil, err
	}
	return s.Store.List(ctx, prefix)
}

func (s mortalStore) Delete(ctx context.Context, key string) error {
	if err := s.check("delete", key); err != nil {
		return err
	}
	return s.Store.Delete(ctx, key)
}

// quietAfter is a zap core writing to t's log until t ends: a killed run
// can leave Helm's own goroutines behind, and a log line of theirs after
// the test ended would panic.
func quietAfter(t *testing.T) *zap.Logger {
	var mu sync.Mutex
	done := false
	t.Cleanup(func() { mu.Lock(); done = true; mu.Unlock() })
	sink := zapcore.AddSync(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		if !done {
			t.Log(strings.TrimSuffix(string(p), "\n"))
		}
		return len(p), nil
	}))
	enc := zapcore.NewConsoleEncoder(zap.NewDevelopmentEncoderConfig())
	return zap.New(zapcore.NewCore(enc, sink, zap.InfoLevel))
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// faultBaseline is backedBaseline with every write of the three transports
// going through l.
func faultBaseline(t *testing.T, l *writeLog, env spec.Environment) (*linodetest.Server, *controlplane.Pool, rollout.Deps) {
	t.Helper()
	lke := newLocalLKE(t, env, l.linodeHook)
	lke.deps.Logger = quietAfter(t)
	lke.deps.Kubernetes, lke.deps.Helm = l.kubeClient, l.helmClient
	return lke.srv, lke.pool, lke.deps
}

// faultPoint is one value of k with the write a fault-free run sends there.
type faultPoint struct {
	k     int64
	write layerWrite
	mode  faultMode
}

// layerRanges describes the writes as runs of one transport:
// "linode 1–3, kubernetes 4–40, …".
func layerRanges(writes []layerWrite) string {
	var parts []string
	for i := 0; i < len(writes); {
		j := i
		for j+1 < len(writes) && writes[j+1].via == writes[i].via {
			j++
		}
		parts = append(parts, fmt.Sprintf("%s %d–%d", writes[i].via, i+1, j+1))
		i = j + 1
	}
	return strings.Join(parts, ", ")
}

// pickFaults chooses the values of k: with PLATFORM_FAULT_K=all every
// Linode write, 6 Kubernetes writes and 14 Helm writes spread evenly over
// their transport, the modes in turn; in CI 3, one per transport and mode:
// the LKE cluster's create cancelled, a NetworkPolicy's apply with its
// answer lost, and the process dead a third into the Helm writes.
func pickFaults(writes []layerWrite) []faultPoint {
	by := map[string][]int64{}
	for i, w := range writes {
		by[w.via] = append(by[w.via], int64(i+1))
	}
	spread := func(ks []int64, n int) []int64 {
		if len(ks) <= n {
			return ks
		}
		var out []int64
		for i := range n {
			out = append(out, ks[i*(len(ks)-1)/(n-1)])
		}
		return out
	}
	modes := []faultMode{cancelled, answerLost, crashed}
	var out []faultPoint
	add := func(k int64, mode faultMode) {
		out = append(out, faultPoint{k: k, write: writes[k-1], mode: mode})
	}
	if os.Getenv("PLATFORM_FAULT_K") != "all" {
		lin, kube, helm := by[viaLinode], by[viaKube], by[viaHelm]
		if len(lin) > 0 {
			add(lin[len(lin)-1], cancelled) // the LKE cluster's create
		}
		if len(kube) > 0 {
			add(kube[len(kube)/2], answerLost)
		}
		if len(helm) > 0 {
			add(helm[len(helm)/3], crashed)
		}
		return out
	}
	i := 0
	for _, via := range []string{viaLinode, viaKube, viaHelm} {
		n := map[string]int{viaLinode: len(by[viaLinode]), viaKube: 6, viaHelm: 14}[via]
		for _, k := range spread(by[via], n) {
			add(k, modes[i%len(modes)])
			i++
		}
	}
	return out
}

// faultLayersConcurrency is how many runs of TestFaultAtEveryLayer go at
// once: a run mostly waits (Helm on kwok, an abandoned lock to expire), a
// third of a core each.
const faultLayersConcurrency = 3

// TestFaultAtEveryLayer provisions development with its whole baseline,
// with records (so the environment's lock is taken), and faults it at the
// k-th write across all three transports — the Linode API, the Kubernetes
// client of the network and GitOps steps, the Helm client of the releases
// and plain objects — before the server takes the write, with its answer
// lost, or with the process dying there. A re-run with records on the same
// store converges (a fresh plan is empty) with one of everything: one
// cluster, firewall and VPC, and per Helm release one deployed revision and
// none pending. The lock is released by the cancelled run, or, abandoned by
// a dead one, expires and is taken over by the re-run; either way it is
// free after the re-run.
//
// In CI it tries 3 values of k, one per transport; PLATFORM_FAULT_K=all
// (make faults) tries every Linode write and 20 more spread over the other
// two transports.
func TestFaultAtEveryLayer(t *testing.T) {
	env := baselineEnv(t)
	envs := []spec.Environment{env}

	// The writes of a fault-free Ensure, in apply order.
	var writes []layerWrite
	var releases []string
	t.Run("fault-free", func(t *testing.T) {
		clean := &writeLog{}
		_, _, deps := faultBaseline(t, clean, env)
		start := time.Now()
		plan, err := rollout.Plan(t.Context(), deps, envs...)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range plan.Environments[0].Steps {
			if s.Kind == helmrelease.StepRelease {
				releases = append(releases, s.Object)
			}
		}
		if _, err := rollout.Ensure(t.Context(), deps, envs, rollout.WithSimulationSelfApproval()); err != nil {
			t.Fatal(err)
		}
		writes = clean.log()
		t.Logf("a fault-free Ensure of %s with its baseline: %d writes in %s: %s",
			env.Name, len(writes), time.Since(start).Round(time.Second), layerRanges(writes))
	})
	if t.Failed() {
		return
	}
	points := pickFaults(writes)
	if os.Getenv("PLATFORM_FAULT_K") == "all" && len(points) < 20 {
		t.Errorf("only %d values of k: the sweep asks for 20 or more", len(points))
	}
	var list []string
	for _, p := range points {
		list = append(list, fmt.Sprintf("k=%d %s (%s)", p.k, p.write, p.mode))
	}
	t.Logf("trying %d values of k, %d at a time:\n  %s", len(points), faultLayersConcurrency, strings.Join(list, "\n  "))

	start := time.Now()
	summary := make([]string, len(points))
	sem := make(chan struct{}, faultLayersConcurrency)
	var wg sync.WaitGroup
	for i, p := range points {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			t.Run(fmt.Sprintf("%s at write %d (%s)", p.mode, p.k, p.write.via), func(t *testing.T) {
				summary[i] = runFaultAt(t, env, releases, p)
			})
		})
	}
	wg.Wait()
	for i, p := range points {
		if summary[i] == "" {
			summary[i] = fmt.Sprintf("k=%d %s (%s): FAILED", p.k, p.write, p.mode)
		}
	}
	t.Logf("%d values of k in %s:\n  %s", len(points), time.Since(start).Round(time.Second), strings.Join(summary, "\n  "))
}

// runFaultAt is one value of k of TestFaultAtEveryLayer.
func runFaultAt(t *testing.T, env spec.Environment, releases []string, p faultPoint) string {
	envs := []spec.Environment{env}
	l := &writeLog{}
	srv, pool, deps := faultBaseline(t, l, env)
	local, err := store.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	st := mortalStore{Store: local, log: l}
	start := time.Now()

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	l.arm(p.k, p.mode, cancel)
	_, runErr := rollout.Ensure(ctx, deps, envs, rollout.WithSimulationSelfApproval(),
		rollout.WithRecords(rollout.Records{Store: st, Owner: "fault-sweep run", LockTTL: 3 * time.Second}))
	n := l.count()
	l.mu.Lock()
	hit := l.hit
	l.mu.Unlock()
	l.arm(0, "", func() {})
	if n < p.k {
		t.Fatalf("only %d writes: the fault at %d was never injected (run error %v)", n, p.k, runErr)
	}
	if runErr == nil {
		t.Fatalf("the run faulted at write %d (%s) succeeded", p.k, hit)
	}
	if hit != p.write {
		t.Logf("write %d was %s (the fault-free run's was %s)", p.k, hit, p.write)
	}
	faulted := time.Since(start)

	// The lock: a run that lived released it; a dead one left it.
	lock := "released by the cancelled run"
	if probe, err := store.Acquire(t.Context(), local, env.Name, "fault-sweep probe"); err == nil {
		if p.mode == crashed {
			t.Errorf("a dead run's lock was released: the crash was not one")
		}
		if err := probe.Release(t.Context()); err != nil {
			t.Fatal(err)
		}
	} else if held := (*store.HeldError)(nil); errors.As(err, &held) {
		if p.mode != crashed {
			t.Errorf("the run lived but left its lock held: %v", err)
		}
		lock = fmt.Sprintf("abandoned (expires %s)", held.Holder.ExpiresAt.Format(time.TimeOnly))
	} else {
		t.Fatal(err)
	}

	// The re-run, on the same store: it waits for an abandoned lock to
	// expire (TTL 3 s plus the store's 30 s grace) and takes it over.
	restart := time.Now()
	_, err = rollout.Ensure(t.Context(), deps, envs, rollout.WithSimulationSelfApproval(),
		rollout.WithRecords(rollout.Records{Store: local, Owner: "fault-sweep re-run", LockTTL: 3 * time.Second, LockWait: 2 * time.Minute}))
	if err != nil {
		t.Fatalf("re-run after the fault at write %d (%s; run error %v): %v", p.k, hit, runErr, err)
	}
	if p.mode == crashed {
		lock += fmt.Sprintf(", expired: the re-run took it over after %s", time.Since(restart).Round(time.Second))
	}
	rerun := time.Since(restart)

	fresh, err := rollout.Plan(t.Context(), deps, envs...)
	if err != nil {
		t.Fatal(err)
	}
	if !fresh.Empty() {
		t.Errorf("after the re-run the plan is not empty:\n%s", fresh)
	}
	assertOneOfEach(t, srv, envs)
	assertOneDeployed(t, pool, fresh.Environments[0].ClusterID.Value, releases)
	if probe, err := store.Acquire(t.Context(), local, env.Name, "fault-sweep probe"); err != nil {
		t.Errorf("the re-run left the lock held: %v", err)
	} else if err := probe.Release(t.Context()); err != nil {
		t.Fatal(err)
	}
	out := fmt.Sprintf("k=%d %s (%s): run error %q; lock %s; faulted run %s, re-run %s",
		p.k, hit, p.mode, firstLine(runErr), lock, faulted.Round(time.Second), rerun.Round(time.Second))
	t.Log(out)
	if t.Failed() {
		return ""
	}
	return out
}

// assertOneDeployed checks that every release has exactly one deployed
// revision and none pending.
func assertOneDeployed(t *testing.T, pool *controlplane.Pool, clusterID int, releases []string) {
	t.Helper()
	kc, err := pool.Kubeconfig(clusterID)
	if err != nil {
		t.Fatal(err)
	}
	getter, err := helmrelease.NewGetter(kc)
	if err != nil {
		t.Fatal(err)
	}
	for _, obj := range releases {
		parts := strings.Split(obj, "/") // release/<namespace>/<name>
		cfg := new(action.Configuration)
		if err := cfg.Init(getter, parts[1], "secret", func(string, ...any) {}); err != nil {
			t.Fatal(err)
		}
		h, err := action.NewHistory(cfg).Run(parts[2])
		if err != nil {
			t.Errorf("history of %s: %v", obj, err)
			continue
		}
		deployed, pending := 0, 0
		var statuses []string
		for _, r := range h {
			statuses = append(statuses, fmt.Sprintf("%d %s", r.Version, r.Info.Status))
			switch {
			case r.Info.Status == release.StatusDeployed:
				deployed++
			case r.Info.Status.IsPending():
				pending++
			}
		}
		if deployed != 1 || pending != 0 {
			t.Errorf("%s: %d deployed and %d pending revisions, want 1 and 0: %v", obj, deployed, pending, statuses)
		}
	}
}

func firstLine(err error) string {
	if err == nil {
		return ""
	}
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}
