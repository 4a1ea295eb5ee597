package cluster_test

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/linode/linodego"

	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/cluster"
	"github.com/org/platform/pkg/linodetest"
	"github.com/org/platform/pkg/spec"
)

func TestEnsureIsIdempotent(t *testing.T) {
	t.Parallel()
	for _, name := range spec.StandardNames() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, client, opts := sim(t)
			env := mustDefault(t, name)

			first := ensure(t, client, env, opts)
			if first.Op() != change.Create || first.ID == 0 {
				t.Fatalf("first EnsureCluster: op %s, id %d, want a created cluster", first.Op(), first.ID)
			}
			st := srv.Dump()
			c := assertMatchesSpec(t, st, env)
			if !allNodesReady(c) || c.Status != "ready" {
				t.Fatalf("EnsureCluster returned before the cluster was ready")
			}

			reversed := env
			reversed.Cluster.NodePools = slices.Clone(env.Cluster.NodePools)
			slices.Reverse(reversed.Cluster.NodePools)
			for _, tc := range []struct {
				name string
				env  spec.Environment
			}{{"same spec", env}, {"pools reordered", reversed}} {
				srv.ResetCounts()
				res := ensure(t, client, tc.env, opts)
				n := srv.Counts()
				if res.Changed() || res.ID != first.ID {
					t.Errorf("%s: second EnsureCluster changed %v (id %d, want %d)", tc.name, res.Result.Lines(), res.ID, first.ID)
				}
				if n.Mutating != 0 || n.Reading > 3 {
					t.Errorf("%s: second EnsureCluster sent %d writes and %d reads (%v), want 0 and ≤ 3", tc.name, n.Mutating, n.Reading, n.ByEndpoint)
				}
			}
		})
	}
}

// deleteSnapshot is the simulator's state when a pool DELETE arrived.
type deleteSnapshot struct {
	path  string
	state *linodetest.State
}

// recorder snapshots the state at every pool DELETE, so tests can say what
// was ready at that moment.
type recorder struct {
	mu      sync.Mutex
	srv     *linodetest.Server
	deletes []deleteSnapshot
}

func (r *recorder) hook(req linodetest.HookRequest) linodetest.HookAction {
	if req.Method == "DELETE" && req.Route == "/lke/clusters/{clusterId}/pools/{poolId}" {
		r.mu.Lock()
		srv := r.srv
		r.mu.Unlock()
		st := srv.Dump()
		r.mu.Lock()
		r.deletes = append(r.deletes, deleteSnapshot{path: req.Path, state: st})
		r.mu.Unlock()
	}
	return linodetest.HookAction{}
}

func TestDriftIsPlannedAndFixed(t *testing.T) {
	t.Parallel()
	const obj = "lke/platform-production"
	find := func(st *linodetest.State) *linodetest.Cluster {
		for _, c := range st.Clusters {
			if c.Label == "platform-production" {
				return c
			}
		}
		panic("no cluster platform-production")
	}
	pool := func(c *linodetest.Cluster, name string) *linodetest.NodePool {
		ps := ownedPools(c)[name]
		if len(ps) == 0 {
			panic("no pool " + name)
		}
		return ps[0]
	}
	poolSpec := func(env *spec.Environment, name string) *spec.NodePool {
		for i := range env.Cluster.NodePools {
			if env.Cluster.NodePools[i].Name == name {
				return &env.Cluster.NodePools[i]
			}
		}
		panic("no pool spec " + name)
	}
	oob := func(fn func(c *linodetest.Cluster)) func(*testing.T, *linodetest.Server, *linodego.Client) {
		return func(_ *testing.T, srv *linodetest.Server, _ *linodego.Client) {
			srv.Mutate(func(st *linodetest.State) { fn(find(st)) })
		}
	}
	tests := []struct {
		name   string
		setup  func(env *spec.Environment) // the spec the cluster is created from
		change func(env *spec.Environment) // the spec afterwards
		mutate func(t *testing.T, srv *linodetest.Server, client *linodego.Client)
		place  func(t *testing.T, client *linodego.Client) cluster.Placement
		want   []string
		check  func(t *testing.T, before, after *linodetest.State, deletes []deleteSnapshot)
	}{
		{
			name:   "cluster tag added out of band",
			mutate: oob(func(c *linodetest.Cluster) { c.Tags = append(c.Tags, "rogue") }),
			want:   []string{"update " + obj + " tags: env-production, platform, platform.org/env=production, rogue → env-production, platform, platform.org/env=production"},
		},
		{
			name:   "cluster tag added to the spec",
			change: func(env *spec.Environment) { env.Cluster.Tags = append(env.Cluster.Tags, "team-core") },
			want:   []string{"update " + obj + " tags: env-production, platform, platform.org/env=production → env-production, platform, platform.org/env=production, team-core"},
		},
		{
			name:   "kubernetes version",
			change: func(env *spec.Environment) { env.Cluster.KubernetesVersion = "1.34" },
			want:   []string{"update " + obj + " k8s_version: 1.33 → 1.34"},
			check: func(t *testing.T, before, after *linodetest.State, _ []deleteSnapshot) {
				old := map[string]bool{}
				for _, p := range find(before).Pools {
					for _, n := range p.Nodes {
						old[n.ID] = true
					}
				}
				c := find(after)
				for _, p := range c.Pools {
					for _, n := range p.Nodes {
						if old[n.ID] || n.K8sVersion != "1.34" || n.Status != "ready" {
							t.Errorf("after the upgrade node %s: replaced %v, version %s, %s", n.ID, !old[n.ID], n.K8sVersion, n.Status)
						}
					}
				}
				if slices.Contains(c.Tags, cluster.UpgradeTag) {
					t.Errorf("the upgrade marker %q is left on the cluster", cluster.UpgradeTag)
				}
			},
		},
		{
			name:   "pool count raised in the spec",
			change: func(env *spec.Environment) { poolSpec(env, "ingress").Count = 4 },
			want:   []string{"update " + obj + "/pool/ingress count: 2 → 4"},
		},
		{
			name: "pool count changed out of band",
			mutate: func(t *testing.T, srv *linodetest.Server, _ *linodego.Client) {
				c := find(srv.Dump())
				if err := srv.SetPoolCount(c.ID, pool(c, "ingress").ID, 3); err != nil {
					t.Fatal(err)
				}
			},
			want: []string{"update " + obj + "/pool/ingress count: 3 → 2"},
		},
		{
			name: "pool labels",
			mutate: oob(func(c *linodetest.Cluster) {
				pool(c, "ingress").Labels = map[string]string{"dedicated": "ingress", "extra": "x"}
			}),
			want: []string{"update " + obj + "/pool/ingress labels: dedicated=ingress, extra=x → dedicated=ingress"},
		},
		{
			name:   "pool taints",
			mutate: oob(func(c *linodetest.Cluster) { pool(c, "ingress").Taints = nil }),
			want:   []string{"update " + obj + "/pool/ingress taints: (none) → dedicated=ingress:NoSchedule"},
		},
		{
			name:   "pool tags",
			change: func(env *spec.Environment) { poolSpec(env, "ingress").Tags = []string{"edge"} },
			want:   []string{"update " + obj + "/pool/ingress tags: platform.org/pool=ingress → edge, platform.org/pool=ingress"},
		},
		{
			name:   "autoscaler bounds",
			change: func(env *spec.Environment) { poolSpec(env, "general").Autoscaler.Max = 12 },
			want:   []string{"update " + obj + "/pool/general autoscaler: 3–10 → 3–12"},
		},
		{
			name:   "autoscaler turned off out of band",
			mutate: oob(func(c *linodetest.Cluster) { pool(c, "general").Autoscaler.Enabled = false }),
			want:   []string{"update " + obj + "/pool/general autoscaler: off → 3–10"},
		},
		{
			name:   "autoscaler turned off in the spec",
			change: func(env *spec.Environment) { poolSpec(env, "general").Autoscaler = nil },
			want:   []string{"update " + obj + "/pool/general autoscaler: 3–10 → off"},
		},
		{
			name: "autoscaled pool resized by the autoscaler is not drift",
			mutate: func(t *testing.T, srv *linodetest.Server, _ *linodego.Client) {
				c := find(srv.Dump())
				if err := srv.SetPoolCount(c.ID, pool(c, "general").ID, 5); err != nil {
					t.Fatal(err)
				}
			},
			want: nil,
			check: func(t *testing.T, _, after *linodetest.State, _ []deleteSnapshot) {
				if p := pool(find(after), "general"); p.Count != 5 || len(p.Nodes) != 5 {
					t.Errorf("the autoscaler's count was overwritten: count %d, %d nodes, want 5", p.Count, len(p.Nodes))
				}
			},
		},
		{
			name: "firewall",
			place: func(t *testing.T, client *linodego.Client) cluster.Placement {
				fw, err := client.CreateFirewall(t.Context(), linodego.FirewallCreateOptions{
					Label: "platform-production",
					Rules: linodego.FirewallRuleSet{InboundPolicy: "DROP", OutboundPolicy: "ACCEPT"},
				})
				if err != nil {
					t.Fatal(err)
				}
				return cluster.Placement{FirewallID: change.Known(fw.ID)}
			},
			want: []string{
				"update " + obj + "/pool/general firewall_id: (none) → *",
				"update " + obj + "/pool/ingress firewall_id: (none) → *",
			},
			check: func(t *testing.T, _, after *linodetest.State, _ []deleteSnapshot) {
				for _, p := range find(after).Pools {
					if p.FirewallID == 0 {
						t.Errorf("pool %d has no firewall", p.ID)
					}
				}
			},
		},
		{
			name: "pool added",
			change: func(env *spec.Environment) {
				env.Cluster.NodePools = append(env.Cluster.NodePools, spec.NodePool{Name: "batch", Type: "g6-standard-2", Count: 1})
			},
			want: []string{"create " + obj + "/pool/batch: g6-standard-2 ×1"},
		},
		{
			name: "pool removed",
			change: func(env *spec.Environment) {
				env.Cluster.NodePools = slices.DeleteFunc(env.Cluster.NodePools, func(p spec.NodePool) bool { return p.Name == "ingress" })
			},
			want: []string{"delete " + obj + "/pool/ingress: g6-dedicated-2 ×2 (id *), not in the spec"},
		},
		{
			name:   "pool type",
			change: func(env *spec.Environment) { poolSpec(env, "general").Type = "g6-dedicated-8" },
			want:   []string{"replace " + obj + "/pool/general type: g6-dedicated-4 → g6-dedicated-8"},
			check: func(t *testing.T, before, after *linodetest.State, deletes []deleteSnapshot) {
				old := pool(find(before), "general")
				if len(deletes) != 1 || !strings.HasSuffix(deletes[0].path, "/pools/"+itoa(old.ID)) {
					t.Fatalf("pool DELETEs %v, want one, of the old pool %d", deletes, old.ID)
				}
				// At the moment the old pool was deleted, the new pool had
				// all its nodes, every one ready.
				at := find(deletes[0].state)
				ready := 0
				for _, p := range ownedPools(at)["general"] {
					if p.Type != "g6-dedicated-8" {
						continue
					}
					for _, n := range p.Nodes {
						if n.Status == "ready" {
							ready++
						}
					}
					if len(p.Nodes) != p.Count || ready != p.Count {
						t.Errorf("old pool deleted while the new one had %d/%d nodes ready", ready, p.Count)
					}
				}
				if ready < len(old.Nodes) {
					t.Errorf("capacity gap: %d new nodes ready when the old pool of %d went", ready, len(old.Nodes))
				}
				if p := pool(find(after), "general"); p.Type != "g6-dedicated-8" {
					t.Errorf("pool general is %s", p.Type)
				}
			},
		},
		{
			name:   "pools reordered",
			change: func(env *spec.Environment) { slices.Reverse(env.Cluster.NodePools) },
			want:   nil,
		},
		{
			name: "acl addresses in the spec",
			change: func(env *spec.Environment) {
				env.Cluster.ControlPlaneACL.IPv4 = []string{"198.51.100.0/24"}
			},
			want: []string{"update " + obj + " control_plane_acl.addresses: 203.0.113.0/24 → 198.51.100.0/24"},
		},
		{
			name:   "acl address added out of band",
			mutate: oob(func(c *linodetest.Cluster) { c.ACL.IPv4 = append(c.ACL.IPv4, "192.0.2.1/32") }),
			want:   []string{"update " + obj + " control_plane_acl.addresses: 192.0.2.1/32, 203.0.113.0/24 → 203.0.113.0/24"},
		},
		{
			name:   "high availability turned on",
			setup:  func(env *spec.Environment) { env.Cluster.HighAvailability = false },
			change: func(env *spec.Environment) { env.Cluster.HighAvailability = true },
			want:   []string{"update " + obj + " high_availability: false → true"},
		},
		{
			name:  "acl turned on",
			setup: func(env *spec.Environment) { env.Cluster.ControlPlaneACL = spec.ControlPlaneACL{} },
			change: func(env *spec.Environment) {
				env.Cluster.ControlPlaneACL = spec.ControlPlaneACL{Enabled: true, IPv4: []string{"203.0.113.0/24"}}
			},
			want: []string{
				"update " + obj + " control_plane_acl: disabled → enabled",
				"update " + obj + " control_plane_acl.addresses: (none) → 203.0.113.0/24",
			},
		},
	}
	for _, tt := range tests {
		// Each case twice: EnsureCluster, and a plan saved as JSON, read
		// back and applied with ApplyCluster, which must reach the same
		// state sending only the plan's steps.
		for _, saved := range []bool{false, true} {
			name := tt.name
			if saved {
				name += "/saved plan"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				rec := &recorder{}
				srv, client, opts := sim(t, linodetest.WithRequestHook(rec.hook))
				rec.mu.Lock()
				rec.srv = srv
				rec.mu.Unlock()

				env := mustDefault(t, spec.Production)
				if tt.setup != nil {
					tt.setup(&env)
				}
				ensure(t, client, env, opts)
				if tt.mutate != nil {
					tt.mutate(t, srv, client)
				}
				if tt.change != nil {
					tt.change(&env)
				}
				var place cluster.Placement
				if tt.place != nil {
					place = tt.place(t, client)
				}
				before := srv.Dump()
				rec.mu.Lock()
				rec.deletes = nil
				rec.mu.Unlock()

				srv.ResetCounts()
				plan, err := cluster.PlanCluster(t.Context(), client, env, place, opts...)
				if err != nil {
					t.Fatalf("PlanCluster: %v", err)
				}
				if n := srv.Counts().Mutating; n != 0 {
					t.Fatalf("PlanCluster sent %d writes", n)
				}
				if got := plan.Result().Lines(); !matchLines(got, tt.want) {
					t.Fatalf("PlanCluster found\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
				}

				srv.ResetCounts()
				var made change.Result
				if saved {
					made = applySaved(t, srv, client, plan, opts)
				} else {
					made = ensureAt(t, client, env, place, opts).Result
				}
				if got := made.Lines(); !matchLines(got, tt.want) {
					t.Errorf("made\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
				}
				if len(tt.want) == 0 && srv.Counts().Mutating != 0 {
					t.Errorf("%d writes sent with nothing to change", srv.Counts().Mutating)
				}
				after := srv.Dump()
				c := assertMatchesSpec(t, after, env)
				if !allNodesReady(c) {
					t.Errorf("returned with nodes not ready")
				}

				again, err := cluster.PlanCluster(t.Context(), client, env, place, opts...)
				if err != nil || !again.Empty() {
					t.Errorf("PlanCluster after the fix: %v, %v; want no changes", again.Result().Lines(), err)
				}
				srv.ResetCounts()
				if res := ensureAt(t, client, env, place, opts); res.Changed() || srv.Counts().Mutating != 0 {
					t.Errorf("EnsureCluster after the fix: %v with %d writes; want none", res.Result.Lines(), srv.Counts().Mutating)
				}
				if tt.check != nil {
					rec.mu.Lock()
					deletes := slices.Clone(rec.deletes)
					rec.mu.Unlock()
					tt.check(t, before, after, deletes)
				}
			})
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestIrreversibleChangesAreRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(env *spec.Environment)
		fields []string
		is     error
	}{
		{"high availability off", func(env *spec.Environment) { env.Cluster.HighAvailability = false },
			[]string{"cluster.highAvailability: cannot be turned off once on"}, change.ErrIrreversible},
		{"acl off", func(env *spec.Environment) { env.Cluster.ControlPlaneACL = spec.ControlPlaneACL{} },
			[]string{"cluster.controlPlaneACL.enabled: cannot be turned off once on"}, change.ErrIrreversible},
		{"both off, with other changes", func(env *spec.Environment) {
			env.Cluster.HighAvailability = false
			env.Cluster.ControlPlaneACL = spec.ControlPlaneACL{}
			env.Cluster.Tags = append(env.Cluster.Tags, "more")
			env.Cluster.NodePools[1].Count = 3
		}, []string{"cluster.highAvailability: cannot be turned off once on", "cluster.controlPlaneACL.enabled: cannot be turned off once on"}, change.ErrIrreversible},
		{"downgrade", func(env *spec.Environment) { env.Cluster.KubernetesVersion = "1.32" },
			[]string{"cluster.kubernetesVersion:"}, change.ErrIrreversible},
		{"region", func(env *spec.Environment) { env.Cluster.Region = "us-west" },
			[]string{"cluster.region:"}, change.ErrConflict},
	}
	srv, client, opts := sim(t)
	base := mustDefault(t, spec.Production)
	ensure(t, client, base, opts)
	var mu sync.Mutex // the cases share one simulator: count writes one case at a time
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := mustDefault(t, spec.Production)
			tt.change(&env)
			mu.Lock()
			defer mu.Unlock()
			srv.ResetCounts()
			for _, call := range []struct {
				name string
				fn   func() (cluster.Result, error)
			}{
				{"PlanCluster", func() (cluster.Result, error) {
					_, err := cluster.PlanCluster(t.Context(), client, env, cluster.Placement{}, opts...)
					return cluster.Result{}, err
				}},
				{"EnsureCluster", func() (cluster.Result, error) {
					return cluster.EnsureCluster(t.Context(), client, env, cluster.Placement{}, opts...)
				}},
			} {
				_, err := call.fn()
				if !errors.Is(err, tt.is) {
					t.Fatalf("%s: %v, want an error wrapping %v", call.name, err, tt.is)
				}
				for _, f := range tt.fields {
					if !strings.Contains(err.Error(), f) {
						t.Errorf("%s: error %q does not name %q", call.name, err, f)
					}
				}
			}
			if n := srv.Counts().Mutating; n != 0 {
				t.Errorf("%d writes sent for a refused change", n)
			}
		})
	}
}
