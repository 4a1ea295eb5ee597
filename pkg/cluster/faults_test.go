package cluster_test

import (
	"context"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/org/platform/pkg/cluster"
	"github.com/org/platform/pkg/linodetest"
	"github.com/org/platform/pkg/spec"
)

// TestConvergesUnderFaults runs a creation, an update and an upgrade of the
// production cluster against a simulator failing 10 % of requests with
// every kind of fault (before commit: 429, 500, 502, 503, dropped
// connection; after commit: dropped connection, 502), for 50 seeds.
// EnsureCluster must converge each time by itself, leave exactly one
// cluster with exactly the spec's pools, and never delete a healthy pool.
// faultTimeScale runs the model clock of TestConvergesUnderFaults 10 000
// times faster than real time: an LKE cluster is ready in about 25 ms.
const faultTimeScale = 10_000

func TestConvergesUnderFaults(t *testing.T) {
	t.Parallel()
	const seeds = 50
	var (
		mu     sync.Mutex
		writes = map[linodetest.FaultKind]int{}
	)
	poolDelete := regexp.MustCompile(`/lke/clusters/\d+/pools/(\d+)$`)
	t.Run("seeds", func(t *testing.T) {
		for seed := int64(1); seed <= seeds; seed++ {
			t.Run(strconv.FormatInt(seed, 10), func(t *testing.T) {
				t.Parallel()
				srv, client := linodetest.New(t,
					// Subtests run -parallel (GOMAXPROCS) at a time: a fast
					// clock keeps 50 of them quick.
					linodetest.WithTimeScale(faultTimeScale),
					linodetest.WithSeed(seed),
					linodetest.WithFaults(linodetest.FaultConfig{Rate: 0.1, Seed: seed}),
				)
				// Reads and idempotent writes are retried by the client
				// alone (pkg/linodeclient). At 10 % faults one fails for
				// good after 1+ClientRetryCount = 4 attempts with
				// probability 0.1⁴ = 10⁻⁴, and a read failing for good
				// fails the run: over the thousands of reads of 50 seeds
				// that would break a run now and then. 10 retries: 10⁻¹¹.
				client.SetRetryCount(10)
				opts := []cluster.Option{
					cluster.WithClock(srv.Clock()),
					cluster.WithLogger(zaptest.NewLogger(t, zaptest.Level(zap.InfoLevel))),
				}
				ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
				defer cancel()

				env := mustDefault(t, spec.Production)
				phases := []struct {
					name   string
					change func(env *spec.Environment)
				}{
					{"create", func(*spec.Environment) {}},
					{"update", func(env *spec.Environment) {
						env.Cluster.Tags = append(env.Cluster.Tags, "faults")
						env.Cluster.ControlPlaneACL.IPv4 = append(env.Cluster.ControlPlaneACL.IPv4, "198.51.100.0/24")
						env.Cluster.NodePools[0].Autoscaler.Max = 12
						env.Cluster.NodePools[0].Tags = []string{"general"}
						env.Cluster.NodePools[1].Count = 3
						env.Cluster.NodePools[1].Labels["tier"] = "edge"
						env.Cluster.NodePools = append(env.Cluster.NodePools, spec.NodePool{Name: "batch", Type: "g6-standard-2", Count: 2})
					}},
					{"upgrade and shrink", func(env *spec.Environment) {
						env.Cluster.KubernetesVersion = "1.34"
						env.Cluster.Tags = env.Cluster.Tags[:len(env.Cluster.Tags)-1]
						env.Cluster.NodePools = env.Cluster.NodePools[:2]
						env.Cluster.NodePools[1].Count = 2
					}},
				}
				for _, ph := range phases {
					ph.change(&env)
					// Pools that exist, are ready and stay in the spec with
					// their type: deleting one would be a needless re-create.
					healthy := map[int]bool{}
					for _, c := range srv.Dump().Clusters {
						for name, ps := range ownedPools(c) {
							for _, np := range env.Cluster.NodePools {
								if np.Name == name && ps[0].Type == np.Type && len(ps) == 1 {
									healthy[ps[0].ID] = true
								}
							}
						}
					}
					from := len(srv.Requests())
					if _, err := cluster.EnsureCluster(ctx, client, env, cluster.Placement{}, opts...); err != nil {
						t.Fatalf("%s: %v", ph.name, err)
					}
					st := srv.Dump()
					if n := len(st.Clusters); n != 1 {
						t.Errorf("%s: %d clusters, want 1", ph.name, n)
					}
					if c := assertMatchesSpec(t, st, env); !allNodesReady(c) {
						t.Errorf("%s: nodes not ready after EnsureCluster", ph.name)
					}
					for _, r := range srv.Requests()[from:] {
						if r.Method != "DELETE" {
							continue
						}
						m := poolDelete.FindStringSubmatch(r.Path)
						if m == nil {
							t.Errorf("%s: unexpected DELETE %s", ph.name, r.Path)
							continue
						}
						if id, _ := strconv.Atoi(m[1]); healthy[id] {
							t.Errorf("%s: healthy pool %d deleted", ph.name, id)
						}
					}
				}
				plan, err := cluster.PlanCluster(ctx, client, env, cluster.Placement{}, opts...)
				if err != nil || !plan.Empty() {
					t.Errorf("PlanCluster after convergence: %v, %v", plan.Result().Lines(), err)
				}

				fc := srv.FaultCounts()
				t.Logf("seed %d: %d faults, %d on writes: %v", seed, fc.Total, fc.Writes, fc.WritesByKind)
				mu.Lock()
				for k, n := range fc.WritesByKind {
					writes[k] += n
				}
				mu.Unlock()
			})
		}
	})
	t.Logf("faults on writes across %d seeds: %v", seeds, writes)
	for _, k := range linodetest.AllFaultKinds {
		if writes[k] == 0 {
			t.Errorf("no %s fault hit a write in %d seeds; kinds seen: %v", k, seeds, slices.Sorted(maps.Keys(writes)))
		}
	}
}
