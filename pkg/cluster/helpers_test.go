package cluster_test

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/linode/linodego"
	"go.uber.org/zap/zaptest"

	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/cluster"
	"github.com/org/platform/pkg/linodetest"
	"github.com/org/platform/pkg/spec"
)

// sim starts a simulator (contract validation on) and returns it with the
// options that make this package share its clock and log to the test.
func sim(t *testing.T, opts ...linodetest.Option) (*linodetest.Server, *linodego.Client, []cluster.Option) {
	t.Helper()
	srv, client := linodetest.New(t, opts...)
	return srv, client, []cluster.Option{cluster.WithClock(srv.Clock()), cluster.WithLogger(zaptest.NewLogger(t))}
}

func mustDefault(t testing.TB, name string) spec.Environment {
	t.Helper()
	env, err := spec.Default(name)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func with(base []cluster.Option, more ...cluster.Option) []cluster.Option {
	return append(slices.Clone(base), more...)
}

// ensure runs EnsureCluster without placement and fails the test on error.
func ensure(t *testing.T, client cluster.LKEAPI, env spec.Environment, opts []cluster.Option) cluster.Result {
	t.Helper()
	return ensureAt(t, client, env, cluster.Placement{}, opts)
}

// ensureAt runs EnsureCluster and fails the test on error.
func ensureAt(t *testing.T, client cluster.LKEAPI, env spec.Environment, p cluster.Placement, opts []cluster.Option) cluster.Result {
	t.Helper()
	res, err := cluster.EnsureCluster(t.Context(), client, env, p, opts...)
	if err != nil {
		t.Fatalf("EnsureCluster: %v", err)
	}
	return res
}

// applySaved writes plan to JSON, reads it back, applies it with
// ApplyCluster and waits for readiness as EnsureCluster does. It fails the
// test when a write reaches the simulator that is not a request of one of
// the plan's steps (waiting and a replace's pool reads are reads).
func applySaved(t *testing.T, srv *linodetest.Server, client cluster.LKEAPI, plan cluster.Plan, opts []cluster.Option) change.Result {
	t.Helper()
	b, err := json.Marshal(plan)
	if err != nil {
		t.Fatal(err)
	}
	var back cluster.Plan
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("read back the saved plan: %v", err)
	}
	first := len(srv.Requests())
	res, err := cluster.ApplyCluster(t.Context(), client, back, nil, opts...)
	if err != nil {
		t.Fatalf("ApplyCluster: %v", err)
	}
	if res.ID != 0 {
		if err := cluster.WaitReady(t.Context(), client, res.ID, opts...); err != nil {
			t.Fatalf("WaitReady: %v", err)
		}
	}
	allowed := stepRoutes(back)
	for _, r := range srv.Requests()[first:] {
		if r.Method == "GET" {
			continue
		}
		if !allowed[r.Method+" "+r.Route] {
			t.Errorf("apply sent %s %s, which no step of the plan asks for (steps: %v)", r.Method, r.Path, allowed)
		}
	}
	return res.Result
}

// stepRoutes maps a plan's step kinds to the write requests they send.
func stepRoutes(p cluster.Plan) map[string]bool {
	routes := map[string][]string{
		"lke.cluster.create": {"POST /lke/clusters"},
		"lke.cluster.update": {"PUT /lke/clusters/{clusterId}"},
		"lke.acl.update":     {"PUT /lke/clusters/{clusterId}/control_plane_acl"},
		"lke.pool.create":    {"POST /lke/clusters/{clusterId}/pools"},
		"lke.pool.update":    {"PUT /lke/clusters/{clusterId}/pools/{poolId}"},
		"lke.pool.delete":    {"DELETE /lke/clusters/{clusterId}/pools/{poolId}"},
		"lke.pool.replace":   {"POST /lke/clusters/{clusterId}/pools", "DELETE /lke/clusters/{clusterId}/pools/{poolId}"},
		"lke.pool.retire":    {"DELETE /lke/clusters/{clusterId}/pools/{poolId}"},
		"lke.upgrade":        {"PUT /lke/clusters/{clusterId}", "POST /lke/clusters/{clusterId}/recycle"},
	}
	out := map[string]bool{}
	for _, s := range p.Steps {
		for _, r := range routes[s.Kind] {
			out[r] = true
		}
	}
	return out
}

// matchLines reports whether got matches the patterns want one to one, in
// order; "*" in a pattern matches any text.
func matchLines(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	w := slices.Clone(want)
	slices.Sort(w)
	for i := range got {
		re := "^" + strings.ReplaceAll(regexp.QuoteMeta(w[i]), `\*`, ".*") + "$"
		if !regexp.MustCompile(re).MatchString(got[i]) {
			return false
		}
	}
	return true
}

// clusterOf returns the only cluster labelled label in the state.
func clusterOf(t *testing.T, st *linodetest.State, label string) *linodetest.Cluster {
	t.Helper()
	var found []*linodetest.Cluster
	for _, c := range st.Clusters {
		if c.Label == label {
			found = append(found, c)
		}
	}
	if len(found) != 1 {
		t.Fatalf("state holds %d clusters labelled %q, want 1", len(found), label)
	}
	return found[0]
}

// ownedPools returns the pools of c carrying our ownership tag, by name.
func ownedPools(c *linodetest.Cluster) map[string][]*linodetest.NodePool {
	out := map[string][]*linodetest.NodePool{}
	for _, p := range c.Pools {
		for _, tag := range p.Tags {
			if name, ok := strings.CutPrefix(tag, cluster.PoolTagPrefix); ok {
				out[name] = append(out[name], p)
			}
		}
	}
	return out
}

// poolByName returns the only owned pool named name.
func poolByName(t *testing.T, c *linodetest.Cluster, name string) *linodetest.NodePool {
	t.Helper()
	ps := ownedPools(c)[name]
	if len(ps) != 1 {
		t.Fatalf("cluster %q has %d pools named %q, want 1", c.Label, len(ps), name)
	}
	return ps[0]
}

// assertMatchesSpec checks that the state holds exactly one cluster for env
// with exactly the spec's pools, each once, of the spec's type.
func assertMatchesSpec(t *testing.T, st *linodetest.State, env spec.Environment) *linodetest.Cluster {
	t.Helper()
	c := clusterOf(t, st, env.Cluster.Label)
	owned := ownedPools(c)
	if len(owned) != len(env.Cluster.NodePools) {
		t.Errorf("cluster %q has owned pools %v, want %d", c.Label, keys(owned), len(env.Cluster.NodePools))
	}
	for _, np := range env.Cluster.NodePools {
		ps := owned[np.Name]
		if len(ps) != 1 {
			t.Errorf("cluster %q has %d pools named %q, want 1", c.Label, len(ps), np.Name)
			continue
		}
		if ps[0].Type != np.Type {
			t.Errorf("pool %q is %s, want %s", np.Name, ps[0].Type, np.Type)
		}
		if np.Autoscaler == nil && ps[0].Count != np.Count {
			t.Errorf("pool %q has count %d, want %d", np.Name, ps[0].Count, np.Count)
		}
	}
	if c.K8sVersion != env.Cluster.KubernetesVersion {
		t.Errorf("cluster %q runs %s, want %s", c.Label, c.K8sVersion, env.Cluster.KubernetesVersion)
	}
	return c
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func allNodesReady(c *linodetest.Cluster) bool {
	for _, p := range c.Pools {
		if len(p.Nodes) != p.Count {
			return false
		}
		for _, n := range p.Nodes {
			if n.Status != "ready" {
				return false
			}
		}
	}
	return true
}
