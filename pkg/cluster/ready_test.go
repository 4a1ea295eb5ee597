package cluster_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linode/linodego"

	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/cluster"
	"github.com/org/platform/pkg/linodetest"
	"github.com/org/platform/pkg/spec"
)

// created returns a simulator holding a just-created, not yet ready
// development cluster.
func created(t *testing.T, opts ...linodetest.Option) (*linodetest.Server, *linodego.Client, []cluster.Option, int) {
	t.Helper()
	srv, client, copts := sim(t, opts...)
	res := ensure(t, client, mustDefault(t, spec.Development), with(copts, cluster.WithWaitReady(false)))
	if c := clusterOf(t, srv.Dump(), "platform-development"); allNodesReady(c) {
		t.Fatal("cluster ready at once; the test needs one that is not")
	}
	return srv, client, copts, res.ID
}

func TestWaitReadyReportsProgress(t *testing.T) {
	t.Parallel()
	srv, client, opts, id := created(t)
	var (
		mu       sync.Mutex
		progress []cluster.Progress
	)
	srv.ResetCounts()
	err := cluster.WaitReady(t.Context(), client, id, with(opts, cluster.WithProgress(func(p cluster.Progress) {
		mu.Lock()
		progress = append(progress, p)
		mu.Unlock()
	}))...)
	if err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
	if c := clusterOf(t, srv.Dump(), "platform-development"); !allNodesReady(c) || c.Status != "ready" {
		t.Fatal("WaitReady returned before the cluster was ready")
	}
	mu.Lock()
	defer mu.Unlock()
	var nodes []cluster.Progress
	for _, p := range progress {
		if p.ClusterID != id {
			t.Errorf("progress for cluster %d, want %d", p.ClusterID, id)
		}
		if p.Stage == cluster.StageNodes {
			nodes = append(nodes, p)
		}
	}
	if len(nodes) < 3 {
		t.Fatalf("%d node progress reports, want one per poll", len(nodes))
	}
	if first, last := nodes[0], nodes[len(nodes)-1]; first.NodesReady != 0 || last.NodesReady != 3 || last.NodesTotal != 3 || last.Elapsed < 2*time.Minute {
		t.Errorf("progress from %+v to %+v, want 0/3 to 3/3 over minutes of model time", first, last)
	}
	if !slices.IsSortedFunc(nodes, func(a, b cluster.Progress) int { return int(a.Elapsed - b.Elapsed) }) {
		t.Error("elapsed time goes backwards")
	}
	if last := progress[len(progress)-1]; last.Stage != cluster.StageKubeconfig || last.NodesReady != 1 {
		t.Errorf("last report %+v, want the kubeconfig available", last)
	}
	// Backoff keeps polling cheap: one pool list per poll.
	if n := srv.Counts().ByEndpoint["GET /lke/clusters/{clusterId}/pools"]; n != len(nodes) || n > 20 {
		t.Errorf("%d pool lists for %d polls, want one each and at most 20", n, len(nodes))
	}
}

func TestWaitReadyErrors(t *testing.T) {
	t.Parallel()
	failPools := func(r linodetest.HookRequest) linodetest.HookAction {
		if r.Route == "/lke/clusters/{clusterId}/pools" {
			return linodetest.HookAction{Fault: linodetest.FaultInternalServerError}
		}
		return linodetest.HookAction{}
	}
	tests := []struct {
		name    string
		hook    linodetest.RequestHook
		id      func(id int) int
		timeout time.Duration
		check   func(t *testing.T, err error)
	}{
		{
			name: "deadline", timeout: 30 * time.Millisecond, // 30 s of model time; nodes need minutes
			check: func(t *testing.T, err error) {
				if !errors.Is(err, change.ErrNotReady) || !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("%v, want ErrNotReady and DeadlineExceeded", err)
				}
				if !strings.Contains(err.Error(), "/3 nodes") {
					t.Errorf("%q does not say how far it got", err)
				}
			},
		},
		{
			name: "no such cluster", timeout: time.Minute, id: func(id int) int { return id + 1000 },
			check: func(t *testing.T, err error) {
				if !linodego.IsNotFound(err) {
					t.Errorf("%v, want the API's 404", err)
				}
			},
		},
		{
			name: "API failing until the deadline", timeout: 100 * time.Millisecond, hook: failPools,
			check: func(t *testing.T, err error) {
				if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "[500] Internal Server Error") {
					t.Errorf("%v, want the deadline and the last 500", err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var hook linodetest.RequestHook
			active := make(chan struct{})
			if tt.hook != nil {
				hook = func(r linodetest.HookRequest) linodetest.HookAction {
					select {
					case <-active:
						return tt.hook(r)
					default:
						return linodetest.HookAction{}
					}
				}
			}
			_, client, opts, id := created(t, linodetest.WithRequestHook(hook))
			close(active) // faults only once the cluster exists
			if tt.id != nil {
				id = tt.id(id)
			}
			ctx, cancel := context.WithTimeout(t.Context(), tt.timeout)
			defer cancel()
			start := time.Now()
			err := cluster.WaitReady(ctx, client, id, opts...)
			if err == nil {
				t.Fatal("WaitReady succeeded")
			}
			if d := time.Since(start); d > tt.timeout+2*time.Second {
				t.Errorf("WaitReady took %s with a %s deadline", d, tt.timeout)
			}
			tt.check(t, err)
		})
	}
}

func TestKubeconfigHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	srv, client, opts := sim(t)
	// linodego retries 503s itself, on the wall clock (5 ms for the test
	// client): turn that off so every wait is this package's, in model time.
	client.SetRetryCount(0)
	// Enterprise clusters answer 503 with Retry-After: 52 while they start.
	c, err := client.CreateLKECluster(t.Context(), linodego.LKEClusterCreateOptions{
		Label: "enterprise", Region: "us-east", K8sVersion: "v1.33.4+lke1", Tier: "enterprise",
		NodePools: []linodego.LKENodePoolCreateOptions{{Count: 1, Type: "g6-standard-2"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	kc, err := cluster.Kubeconfig(t.Context(), client, c.ID, with(opts, cluster.WithPollInterval(time.Second))...)
	if err != nil || !strings.Contains(string(kc), "apiVersion: v1") {
		t.Fatalf("Kubeconfig: %v", err)
	}
	var times []time.Time
	for _, r := range srv.Requests() {
		if r.Route == "/lke/clusters/{clusterId}/kubeconfig" {
			times = append(times, r.Time)
		}
	}
	if len(times) < 2 {
		t.Fatalf("%d kubeconfig requests, want the 503s first", len(times))
	}
	for i := 1; i < len(times); i++ {
		if gap := times[i].Sub(times[i-1]); gap < 52*time.Second {
			t.Errorf("kubeconfig request %d came %s after the previous one, before the Retry-After of 52 s", i, gap)
		}
	}
}
