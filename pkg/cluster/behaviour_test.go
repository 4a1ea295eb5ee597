package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/linode/linodego"

	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/cluster"
	"github.com/org/platform/pkg/linodetest"
	"github.com/org/platform/pkg/spec"
)

func TestInvalidSpecSendsNoRequest(t *testing.T) {
	t.Parallel()
	srv, client, opts := sim(t)
	env := mustDefault(t, spec.Development)
	env.Cluster.Region = ""
	env.Cluster.KubernetesVersion = "latest"
	env.Cluster.NodePools[0].Count = 0
	env.Cluster.NodePools = append(env.Cluster.NodePools,
		spec.NodePool{Name: "bad_name", Count: 1},
		spec.NodePool{Name: "a-pool-name-much-longer-than-the-tag-allows", Type: "g6-standard-2", Count: 1},
	)
	want := []string{
		"cluster.region",
		"cluster.kubernetesVersion",
		"cluster.nodePools[general].count",
		"cluster.nodePools[bad_name].name",
		"cluster.nodePools[bad_name].type",
		"cluster.nodePools[a-pool-name-much-longer-than-the-tag-allows].name",
	}
	calls := []struct {
		name string
		fn   func() error
	}{
		{"EnsureCluster", func() error {
			_, err := cluster.EnsureCluster(t.Context(), client, env, cluster.Placement{}, opts...)
			return err
		}},
		{"PlanCluster", func() error {
			_, err := cluster.PlanCluster(t.Context(), client, env, cluster.Placement{}, opts...)
			return err
		}},
	}
	for _, call := range calls {
		err := call.fn()
		if !errors.Is(err, spec.ErrInvalid) {
			t.Fatalf("%s: %v, want an error wrapping spec.ErrInvalid", call.name, err)
		}
		var fes spec.FieldErrors
		if !errors.As(err, &fes) {
			t.Fatalf("%s: %T is not spec.FieldErrors", call.name, err)
		}
		var paths []string
		for _, fe := range fes {
			paths = append(paths, fe.Path)
		}
		for _, p := range want {
			if !slices.Contains(paths, p) {
				t.Errorf("%s: no error for %s; got %v", call.name, p, paths)
			}
		}
	}
	_, err := cluster.EnsureCluster(t.Context(), client, mustDefault(t, spec.Development), cluster.Placement{}, cluster.WithPollInterval(0))
	if err == nil || !strings.Contains(err.Error(), "WithPollInterval") {
		t.Errorf("a bad option: %v, want an error naming it", err)
	}
	if n := srv.Counts(); n.Mutating+n.Reading+n.Other != 0 {
		t.Errorf("an invalid spec or option sent requests: %+v", n)
	}
}

func TestPoolsNotOursAreNeverTouched(t *testing.T) {
	t.Parallel()
	srv, client, opts := sim(t)
	env := mustDefault(t, spec.Development)
	res := ensure(t, client, env, opts)
	foreign, err := client.CreateLKENodePool(t.Context(), res.ID, linodego.LKENodePoolCreateOptions{
		Count: 1, Type: "g6-standard-1", Tags: []string{"someone-else"},
	})
	if err != nil {
		t.Fatal(err)
	}

	srv.ResetCounts()
	if res := ensure(t, client, env, opts); res.Changed() || srv.Counts().Mutating != 0 {
		t.Fatalf("a foreign pool caused %v (%d writes)", res.Result.Lines(), srv.Counts().Mutating)
	}
	// Replace our only pool: ours goes, the foreign one stays.
	env.Cluster.NodePools = []spec.NodePool{{Name: "batch", Type: "g6-standard-2", Count: 1}}
	res = ensure(t, client, env, opts)
	want := []string{
		"create lke/platform-development/pool/batch: g6-standard-2 ×1",
		"delete lke/platform-development/pool/general: g6-standard-2 ×3 (id *), not in the spec",
	}
	if got := res.Result.Lines(); !matchLines(got, want) {
		t.Errorf("changes %v, want %v", got, want)
	}
	c := clusterOf(t, srv.Dump(), env.Cluster.Label)
	if !slices.ContainsFunc(c.Pools, func(p *linodetest.NodePool) bool { return p.ID == foreign.ID }) {
		t.Errorf("the foreign pool %d was deleted", foreign.ID)
	}
	for _, r := range srv.Requests() {
		if r.Method == "DELETE" && strings.HasSuffix(r.Path, fmt.Sprintf("/pools/%d", foreign.ID)) {
			t.Errorf("DELETE sent for the foreign pool: %s", r.Path)
		}
	}
}

func TestDuplicatePoolIsRemoved(t *testing.T) {
	t.Parallel()
	srv, client, opts := sim(t)
	env := mustDefault(t, spec.Development)
	res := ensure(t, client, env, opts)
	orig := poolByName(t, clusterOf(t, srv.Dump(), env.Cluster.Label), "general")
	dup, err := client.CreateLKENodePool(t.Context(), res.ID, linodego.LKENodePoolCreateOptions{
		Count: 3, Type: "g6-standard-2", Tags: []string{cluster.PoolTagPrefix + "general"},
		Autoscaler: &linodego.LKENodePoolAutoscaler{Enabled: true, Min: 3, Max: 6},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{fmt.Sprintf("delete lke/platform-development/pool/general: duplicate of pool %d (id %d)", orig.ID, dup.ID)}
	plan, err := cluster.PlanCluster(t.Context(), client, env, cluster.Placement{}, opts...)
	if err != nil || !matchLines(plan.Result().Lines(), want) {
		t.Fatalf("PlanCluster: %v, %v; want %v", plan.Result().Lines(), err, want)
	}
	res = ensure(t, client, env, opts)
	if !matchLines(res.Result.Lines(), want) {
		t.Errorf("EnsureCluster: %v, want %v", res.Result.Lines(), want)
	}
	if p := poolByName(t, clusterOf(t, srv.Dump(), env.Cluster.Label), "general"); p.ID != orig.ID {
		t.Errorf("kept pool %d, want the older, ready pool %d", p.ID, orig.ID)
	}
}

// TestLostCreateResponses loses the response of the cluster's and a pool's
// creation after the API made them: the next step finds them instead of
// creating twice.
func TestLostCreateResponses(t *testing.T) {
	t.Parallel()
	var seen sync.Map
	hook := func(r linodetest.HookRequest) linodetest.HookAction {
		if r.Method != "POST" {
			return linodetest.HookAction{}
		}
		if _, again := seen.LoadOrStore(r.Route, true); again {
			return linodetest.HookAction{}
		}
		switch r.Route {
		case "/lke/clusters":
			return linodetest.HookAction{Fault: linodetest.FaultDropAfterCommit}
		case "/lke/clusters/{clusterId}/pools":
			return linodetest.HookAction{Fault: linodetest.FaultBadGatewayAfterCommit}
		}
		return linodetest.HookAction{}
	}
	srv, client, opts := sim(t, linodetest.WithRequestHook(hook))
	env := mustDefault(t, spec.Development)
	res := ensure(t, client, env, opts)
	want := []string{
		"create lke/platform-development/pool/general: g6-standard-2 ×3, autoscaler 3–6",
		"create lke/platform-development: us-east, Kubernetes 1.33, control-plane ACL",
	}
	if got := res.Result.Lines(); !matchLines(got, want) {
		t.Errorf("changes %v, want %v", got, want)
	}
	env.Cluster.NodePools = append(env.Cluster.NodePools, spec.NodePool{Name: "batch", Type: "g6-standard-2", Count: 1})
	res = ensure(t, client, env, opts)
	if got, want := res.Result.Lines(), []string{"create lke/platform-development/pool/batch: g6-standard-2 ×1"}; !matchLines(got, want) {
		t.Errorf("changes %v, want %v", got, want)
	}
	assertMatchesSpec(t, srv.Dump(), env)
	counts := srv.Counts().ByEndpoint
	if n := counts["POST /lke/clusters"]; n != 1 {
		t.Errorf("POST /lke/clusters sent %d times, want once", n)
	}
	if n := counts["POST /lke/clusters/{clusterId}/pools"]; n != 1 {
		t.Errorf("POST …/pools sent %d times, want once", n)
	}
	if n := counts["DELETE /lke/clusters/{clusterId}/pools/{poolId}"]; n != 0 {
		t.Errorf("%d pools deleted, want none", n)
	}
}

func TestTemporaryACLAddress(t *testing.T) {
	t.Parallel()
	const temp = "192.0.2.10/32"
	var (
		mu       sync.Mutex
		srvp     atomic.Pointer[linodetest.Server]
		duringOK []bool // whether the temporary address was admitted at each pool PUT
		failPUT  atomic.Bool
	)
	hook := func(r linodetest.HookRequest) linodetest.HookAction {
		if r.Method != "PUT" || r.Route != "/lke/clusters/{clusterId}/pools/{poolId}" {
			return linodetest.HookAction{}
		}
		for _, c := range srvp.Load().Dump().Clusters {
			mu.Lock()
			duringOK = append(duringOK, slices.Contains(c.ACL.IPv4, temp))
			mu.Unlock()
		}
		if failPUT.Load() {
			return linodetest.HookAction{Fault: linodetest.FaultInternalServerError}
		}
		return linodetest.HookAction{}
	}
	srv, client, opts := sim(t, linodetest.WithRequestHook(hook))
	srvp.Store(srv)
	opts = with(opts, cluster.WithTemporaryACLAddress("192.0.2.10"))
	env := mustDefault(t, spec.Production)
	aclNow := func() []string {
		return clusterOf(t, srv.Dump(), env.Cluster.Label).ACL.IPv4
	}

	ensure(t, client, env, opts)
	if got := aclNow(); !slices.Equal(got, []string{"203.0.113.0/24"}) {
		t.Errorf("ACL after create: %v, want the spec's only", got)
	}

	env.Cluster.NodePools[1].Count = 3
	res := ensure(t, client, env, opts)
	if got, want := res.Result.Lines(), []string{"update lke/platform-production/pool/ingress count: 2 → 3"}; !slices.Equal(got, want) {
		t.Errorf("changes %v, want %v (the temporary address is not a change)", got, want)
	}
	mu.Lock()
	if !slices.Equal(duringOK, []bool{true}) {
		t.Errorf("temporary address admitted during the pool PUTs: %v, want [true]", duringOK)
	}
	duringOK = nil
	mu.Unlock()
	if got := aclNow(); !slices.Equal(got, []string{"203.0.113.0/24"}) {
		t.Errorf("ACL after apply: %v, want the spec's only", got)
	}

	srv.ResetCounts()
	ensure(t, client, env, opts)
	if n := srv.Counts().Mutating; n != 0 {
		t.Errorf("a run with nothing to do sent %d writes", n)
	}

	// A failing apply narrows the ACL too.
	failPUT.Store(true)
	env.Cluster.NodePools[1].Count = 4
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	if _, err := cluster.EnsureCluster(ctx, client, env, cluster.Placement{}, opts...); err == nil {
		t.Fatal("EnsureCluster succeeded although every pool PUT failed")
	}
	if got := aclNow(); !slices.Equal(got, []string{"203.0.113.0/24"}) {
		t.Errorf("ACL after a failed apply: %v, want the spec's only", got)
	}
	mu.Lock()
	if len(duringOK) == 0 || slices.Contains(duringOK, false) {
		t.Errorf("temporary address admitted during the failing PUTs: %v", duringOK)
	}
	mu.Unlock()
}

func TestInterruptedUpgradeIsResumed(t *testing.T) {
	t.Parallel()
	srv, client, opts := sim(t)
	env := mustDefault(t, spec.Production)
	ensure(t, client, env, opts)
	// As if a run had raised the version and then died before recycling.
	srv.Mutate(func(st *linodetest.State) {
		for _, c := range st.Clusters {
			c.K8sVersion = "1.34"
			c.Tags = append(c.Tags, cluster.UpgradeTag)
		}
	})
	env.Cluster.KubernetesVersion = "1.34"
	want := []string{"update lke/platform-production nodes: upgrade to 1.34 interrupted → every node replaced on 1.34"}
	plan, err := cluster.PlanCluster(t.Context(), client, env, cluster.Placement{}, opts...)
	if err != nil || !slices.Equal(plan.Result().Lines(), want) {
		t.Fatalf("PlanCluster: %v, %v; want %v", plan.Result().Lines(), err, want)
	}
	ensure(t, client, env, opts)
	c := clusterOf(t, srv.Dump(), env.Cluster.Label)
	for _, p := range c.Pools {
		for _, n := range p.Nodes {
			if n.K8sVersion != "1.34" || n.Status != "ready" {
				t.Errorf("node %s: %s, %s; want 1.34, ready", n.ID, n.K8sVersion, n.Status)
			}
		}
	}
	if slices.Contains(c.Tags, cluster.UpgradeTag) {
		t.Error("upgrade marker left behind")
	}
}

// stateChecker reads kubelet versions from the simulator's state, lagging
// behind by a number of calls, as kubelets report late.
type stateChecker struct {
	srv   *linodetest.Server
	label string
	lag   int
	calls atomic.Int32
}

func (s *stateChecker) KubeletVersions(_ context.Context, kubeconfig []byte) (map[string]string, error) {
	n := int(s.calls.Add(1))
	if len(kubeconfig) == 0 {
		return nil, errors.New("empty kubeconfig")
	}
	out := map[string]string{}
	for _, c := range s.srv.Dump().Clusters {
		if c.Label != s.label {
			continue
		}
		for _, p := range c.Pools {
			for _, nd := range p.Nodes {
				v := nd.K8sVersion
				if n <= s.lag {
					v = "1.33"
				}
				out[nd.ID] = "v" + v + ".2+lke1"
			}
		}
	}
	return out, nil
}

func TestUpgradeWaitsForKubelets(t *testing.T) {
	t.Parallel()
	srv, client, opts := sim(t)
	env := mustDefault(t, spec.Development)
	ensure(t, client, env, opts)
	checker := &stateChecker{srv: srv, label: env.Cluster.Label, lag: 3}
	var stages sync.Map
	env.Cluster.KubernetesVersion = "1.34"
	res := ensure(t, client, env, with(opts, cluster.WithNodeVersionChecker(checker),
		cluster.WithProgress(func(p cluster.Progress) { stages.Store(p.Stage, p) })))
	if want := []string{"update lke/platform-development k8s_version: 1.33 → 1.34"}; !slices.Equal(res.Result.Lines(), want) {
		t.Errorf("changes %v, want %v", res.Result.Lines(), want)
	}
	if n := checker.calls.Load(); n < 4 {
		t.Errorf("checker called %d times; the upgrade ended before kubelets reported 1.34", n)
	}
	for _, s := range []cluster.Stage{cluster.StageUpgrade, cluster.StageKubelets} {
		p, ok := stages.Load(s)
		if !ok {
			t.Errorf("no progress reported for stage %s", s)
			continue
		}
		if pr := p.(cluster.Progress); pr.NodesReady != pr.NodesTotal || pr.NodesTotal == 0 {
			t.Errorf("last %s progress %+v, want all done", s, pr)
		}
	}
}

func TestFourEnvironmentsConcurrently(t *testing.T) {
	t.Parallel()
	srv, client, opts := sim(t)
	envs := map[string]spec.Environment{}
	for _, name := range spec.StandardNames() {
		envs[name] = mustDefault(t, name)
	}
	run := func() map[string]error {
		var wg sync.WaitGroup
		var mu sync.Mutex
		errs := map[string]error{}
		for name, env := range envs {
			wg.Go(func() {
				_, err := cluster.EnsureCluster(t.Context(), client, env, cluster.Placement{}, opts...)
				mu.Lock()
				errs[name] = err
				mu.Unlock()
			})
		}
		wg.Wait()
		return errs
	}
	for name, err := range run() {
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	st := srv.Dump()
	if len(st.Clusters) != 4 {
		t.Errorf("%d clusters, want 4", len(st.Clusters))
	}
	for _, env := range envs {
		if c := assertMatchesSpec(t, st, env); !allNodesReady(c) {
			t.Errorf("%s: nodes not ready", env.Name)
		}
	}
	srv.ResetCounts()
	for name, err := range run() {
		if err != nil {
			t.Errorf("second run, %s: %v", name, err)
		}
	}
	if n := srv.Counts(); n.Mutating != 0 || n.Reading > 12 {
		t.Errorf("second run of four sent %d writes and %d reads, want 0 and ≤ 12", n.Mutating, n.Reading)
	}
}

func TestDeleteCluster(t *testing.T) {
	t.Parallel()
	srv, client, opts := sim(t)
	env := mustDefault(t, spec.Staging)
	created := ensure(t, client, env, opts)

	res, err := cluster.DeleteCluster(t.Context(), client, env, opts...)
	if err != nil {
		t.Fatalf("DeleteCluster: %v", err)
	}
	if res.ID != created.ID || !matchLines(res.Result.Lines(), []string{"delete lke/platform-staging: us-east, Kubernetes 1.33 (id *)"}) {
		t.Errorf("DeleteCluster result %+v %v", res, res.Result.Lines())
	}
	if n := len(srv.Dump().Clusters); n != 0 {
		t.Errorf("%d clusters left", n)
	}
	// It waited for the cluster to be gone: its last request was a GET
	// answered 404.
	reqs := srv.Requests()
	if last := reqs[len(reqs)-1]; last.Method != "GET" || last.Status != 404 {
		t.Errorf("last request %s %s → %d, want a GET answered 404", last.Method, last.Path, last.Status)
	}

	srv.ResetCounts()
	res, err = cluster.DeleteCluster(t.Context(), client, env, opts...)
	if err != nil || res.Changed() || srv.Counts().Mutating != 0 {
		t.Errorf("deleting a gone cluster: %v, %v, %d writes; want success without writes", res.Result.Lines(), err, srv.Counts().Mutating)
	}

	// A cluster without our ownership tag is not ours to delete.
	if _, err := client.CreateLKECluster(t.Context(), linodego.LKEClusterCreateOptions{
		Label: "platform-staging", Region: "us-east", K8sVersion: "1.33",
		NodePools: []linodego.LKENodePoolCreateOptions{{Count: 1, Type: "g6-standard-1"}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := cluster.DeleteCluster(t.Context(), client, env, opts...); !errors.Is(err, change.ErrConflict) {
		t.Errorf("deleting a foreign cluster: %v, want ErrConflict", err)
	}
	if n := len(srv.Dump().Clusters); n != 1 {
		t.Errorf("the foreign cluster was deleted")
	}
}

func TestTwoClustersWithTheLabelAreAConflict(t *testing.T) {
	t.Parallel()
	srv, client, opts := sim(t)
	env := mustDefault(t, spec.Development)
	ensure(t, client, env, opts)
	// The API keeps labels unique; another tool (or a rename) can still
	// leave two, which only an out-of-band change can show here.
	srv.Mutate(func(st *linodetest.State) {
		for _, c := range st.Clusters {
			cp := *c
			cp.ID = c.ID + 500
			st.Clusters[cp.ID] = &cp
			break
		}
	})
	srv.ResetCounts()
	_, err := cluster.EnsureCluster(t.Context(), client, env, cluster.Placement{}, opts...)
	if !errors.Is(err, change.ErrConflict) {
		t.Fatalf("EnsureCluster: %v, want ErrConflict", err)
	}
	if n := srv.Counts(); n.Mutating != 0 || n.ByEndpoint["GET /lke/clusters"] != 1 {
		t.Errorf("requests %+v, want one filtered list and no write", n.ByEndpoint)
	}
	if f := srv.Requests()[len(srv.Requests())-1].Filter; !strings.Contains(f, `"label"`) {
		t.Errorf("the cluster list was not filtered by label: X-Filter %q", f)
	}
}

// TestFailingCreateIsNotHammered fails every cluster creation: the loop
// re-reads, pauses longer each round, and stops at its round limit or the
// deadline with the API's error.
func TestFailingCreateIsNotHammered(t *testing.T) {
	t.Parallel()
	fail := func(r linodetest.HookRequest) linodetest.HookAction {
		if r.Method == "POST" && r.Route == "/lke/clusters" {
			return linodetest.HookAction{Fault: linodetest.FaultInternalServerError}
		}
		return linodetest.HookAction{}
	}
	tests := []struct {
		name      string
		timeout   time.Duration
		opts      []cluster.Option
		wantPOSTs func(n int) bool
		wantErr   string
	}{
		{"round limit", time.Minute, []cluster.Option{cluster.WithMaxRounds(3)}, func(n int) bool { return n == 3 }, "not converged after 3 rounds (last error: create LKE cluster \"platform-development\": [500] Internal Server Error)"},
		// 200 ms is 200 s of model time: pauses of 1, 2, 4, 8, 16, 30, 30… s.
		{"deadline", 200 * time.Millisecond, nil, func(n int) bool { return n >= 5 && n <= 14 }, "[500] Internal Server Error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, client, opts := sim(t, linodetest.WithRequestHook(fail))
			ctx, cancel := context.WithTimeout(t.Context(), tt.timeout)
			defer cancel()
			_, err := cluster.EnsureCluster(ctx, client, mustDefault(t, spec.Development), cluster.Placement{}, with(opts, tt.opts...)...)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("EnsureCluster: %v, want an error saying %q", err, tt.wantErr)
			}
			if n := srv.Counts().ByEndpoint["POST /lke/clusters"]; !tt.wantPOSTs(n) {
				t.Errorf("%d POSTs", n)
			}
		})
	}
}

// TestInterruptedTypeChangeIsFinished finds the new pool of a type change
// already made (a run died while waiting for it): the old pool is deleted
// once the new one is ready, and nothing is created.
func TestInterruptedTypeChangeIsFinished(t *testing.T) {
	t.Parallel()
	srv, client, opts := sim(t)
	env := mustDefault(t, spec.Development)
	res := ensure(t, client, env, opts)
	old := poolByName(t, clusterOf(t, srv.Dump(), env.Cluster.Label), "general")
	repl, err := client.CreateLKENodePool(t.Context(), res.ID, linodego.LKENodePoolCreateOptions{
		Count: 3, Type: "g6-standard-4", Tags: []string{cluster.PoolTagPrefix + "general"},
		Autoscaler: &linodego.LKENodePoolAutoscaler{Enabled: true, Min: 3, Max: 6},
	})
	if err != nil {
		t.Fatal(err)
	}
	env.Cluster.NodePools[0].Type = "g6-standard-4"
	want := []string{fmt.Sprintf("delete lke/platform-development/pool/general: g6-standard-2 ×3 (id %d), replaced by g6-standard-4 (id %d)", old.ID, repl.ID)}
	plan, err := cluster.PlanCluster(t.Context(), client, env, cluster.Placement{}, opts...)
	if err != nil || !slices.Equal(plan.Result().Lines(), want) {
		t.Fatalf("PlanCluster: %v, %v; want %v", plan.Result().Lines(), err, want)
	}
	srv.ResetCounts()
	res = ensure(t, client, env, opts)
	if !slices.Equal(res.Result.Lines(), want) {
		t.Errorf("EnsureCluster: %v, want %v", res.Result.Lines(), want)
	}
	n := srv.Counts().ByEndpoint
	if n["POST /lke/clusters/{clusterId}/pools"] != 0 || n["DELETE /lke/clusters/{clusterId}/pools/{poolId}"] != 1 {
		t.Errorf("requests %v, want no create and one delete", n)
	}
	c := clusterOf(t, srv.Dump(), env.Cluster.Label)
	if p := poolByName(t, c, "general"); p.ID != repl.ID || !allNodesReady(c) {
		t.Errorf("kept pool %d (want %d), all ready %v", p.ID, repl.ID, allNodesReady(c))
	}
}

// TestTemporaryACLAddressLeftoverIsNarrowed: a run cut short after its
// create admitted the temporary address (the response lost, the run
// cancelled before it could observe the cluster) leaves the address in the
// ACL; the next run narrows it, with the option or without it.
func TestTemporaryACLAddressLeftoverIsNarrowed(t *testing.T) {
	t.Parallel()
	const temp = "192.0.2.10/32"
	for _, next := range []struct {
		name string
		opt  bool
	}{{"next run with the option", true}, {"next run without it", false}} {
		t.Run(next.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			// The runner is killed while its create is in flight: the create
			// commits, and nothing the dying run sends arrives any more.
			var killed atomic.Bool
			hook := func(r linodetest.HookRequest) linodetest.HookAction {
				if killed.Load() {
					return linodetest.HookAction{Fault: linodetest.FaultDropConnection}
				}
				if r.Method == "POST" && r.Route == "/lke/clusters" {
					killed.Store(true)
					cancel()
					return linodetest.HookAction{Fault: linodetest.FaultDropAfterCommit}
				}
				return linodetest.HookAction{}
			}
			srv, client, opts := sim(t, linodetest.WithRequestHook(hook))
			env := mustDefault(t, spec.Production)
			withTemp := with(opts, cluster.WithTemporaryACLAddress("192.0.2.10"))
			if _, err := cluster.EnsureCluster(ctx, client, env, cluster.Placement{}, withTemp...); err == nil {
				t.Fatal("the interrupted run succeeded")
			}
			killed.Store(false)
			c := clusterOf(t, srv.Dump(), env.Cluster.Label)
			if !slices.Contains(c.ACL.IPv4, temp) {
				t.Fatalf("ACL after the interrupted create: %v; the test needs the leftover address", c.ACL.IPv4)
			}

			runOpts := opts
			if next.opt {
				runOpts = withTemp
			}
			ensure(t, client, env, runOpts)
			if got := clusterOf(t, srv.Dump(), env.Cluster.Label).ACL.IPv4; !slices.Equal(got, []string{"203.0.113.0/24"}) {
				t.Errorf("ACL after the next run: %v, want the spec's only", got)
			}
		})
	}
}

// TestConcurrentRunsNeverDuplicate: two runs ensuring one environment at
// once end with one cluster and one pool per spec pool; a run that loses
// a race fails with change.ErrConflict or adopts, never with the API's
// raw label error, and no pool is made twice.
func TestConcurrentRunsNeverDuplicate(t *testing.T) {
	t.Parallel()
	raced := 0 // creates refused because the other run made the object first
	defer func() {
		if raced == 0 {
			t.Error("no round raced: the test did not exercise concurrent creates")
		}
		t.Logf("%d creates lost a race", raced)
	}()
	for round := range 10 {
		srv, client, opts := sim(t)
		env := mustDefault(t, spec.Staging)
		if round%2 == 1 {
			ensure(t, client, env, opts) // then race on a pool change
			env.Cluster.NodePools = append(env.Cluster.NodePools, spec.NodePool{Name: "extra", Type: "g6-standard-2", Count: 1})
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range 2 {
			wg.Go(func() {
				_, errs[i] = cluster.EnsureCluster(t.Context(), client, env, cluster.Placement{}, opts...)
			})
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil && !errors.Is(err, change.ErrConflict) {
				t.Errorf("round %d: a racing run failed with %v, want success or change.ErrConflict", round, err)
			}
			if err != nil && strings.Contains(err.Error(), "must be unique") && !errors.Is(err, change.ErrConflict) {
				t.Errorf("round %d: the API's raw label error reached the caller: %v", round, err)
			}
		}
		st := srv.Dump()
		if n := len(st.Clusters); n != 1 {
			t.Fatalf("round %d: %d clusters, want 1", round, n)
		}
		deletes := 0
		for _, r := range srv.Requests() {
			if r.Method == "DELETE" {
				deletes++
			}
			if r.Method == "POST" && r.Status == 400 {
				raced++
			}
		}
		if deletes != 0 {
			t.Errorf("round %d: %d deletes: the runs churned through duplicates", round, deletes)
		}
		// Whatever the race left, a plain run converges without duplicates.
		ensure(t, client, env, opts)
		for name, ps := range ownedPools(clusterOf(t, srv.Dump(), env.Cluster.Label)) {
			if len(ps) != 1 {
				t.Errorf("round %d: pool %q exists %d times", round, name, len(ps))
			}
		}
	}
}
