package network_test

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/linodetest"
	"github.com/org/platform/pkg/network"
	"github.com/org/platform/pkg/spec"
)

// TestLostCreateResponse makes the simulator commit the first POST that
// creates the firewall, the VPC or a subnet, then lose its response (the
// connection drops, or a 502 comes back). EnsureFirewall and EnsureVPC
// must find what was created by label, adopt it, and leave exactly one.
func TestLostCreateResponse(t *testing.T) {
	t.Parallel()
	for _, kind := range []linodetest.FaultKind{linodetest.FaultDropAfterCommit, linodetest.FaultBadGatewayAfterCommit} {
		for _, route := range []string{"/networking/firewalls", "/vpcs", "/vpcs/{vpcId}/subnets"} {
			t.Run(string(kind)+route, func(t *testing.T) {
				t.Parallel()
				var struck atomic.Bool
				srv, client, opts := sim(t, linodetest.WithRequestHook(func(r linodetest.HookRequest) linodetest.HookAction {
					if r.Method == "POST" && r.Route == route && struck.CompareAndSwap(false, true) {
						return linodetest.HookAction{Fault: kind}
					}
					return linodetest.HookAction{}
				}))
				env := mustDefault(t, spec.Production)
				if route == "/vpcs/{vpcId}/subnets" {
					// The subnet POST comes from adding a subnet to an existing VPC.
					if _, err := network.EnsureVPC(t.Context(), client, env, opts...); err != nil {
						t.Fatal(err)
					}
					env.Network.VPC.Subnets = append(env.Network.VPC.Subnets, spec.Subnet{Label: "batch", IPv4: "10.30.16.0/20"})
				}
				fw, err := network.EnsureFirewall(t.Context(), client, env, opts...)
				if err != nil {
					t.Fatalf("EnsureFirewall: %v", err)
				}
				vpc, err := network.EnsureVPC(t.Context(), client, env, opts...)
				if err != nil {
					t.Fatalf("EnsureVPC: %v", err)
				}
				if !struck.Load() {
					t.Fatal("the fault never struck")
				}
				st := srv.Dump()
				if got := assertFirewall(t, st, env); got.ID != fw.ID || fw.Op() != change.Create {
					t.Errorf("firewall %d, result id %d op %s; want the one created", got.ID, fw.ID, fw.Op())
				}
				if got := assertVPC(t, st, env); got.ID != vpc.ID || vpc.Op() != change.Create {
					t.Errorf("VPC %d, result id %d op %s; want the one created", got.ID, vpc.ID, vpc.Op())
				}
				posts := 0
				for _, w := range mutating(srv) {
					if w == "POST "+route {
						posts++
					}
				}
				if posts != 1 {
					t.Errorf("%d POST %s, want exactly 1 (a lost response must not be resent)", posts, route)
				}
			})
		}
	}
}

// TestConvergesUnderFaults creates and then changes the production
// firewall and VPC against a simulator failing 10 % of requests with every
// kind of fault (before commit: 429, 500, 502, 503, dropped connection;
// after commit: dropped connection, 502), for 100 seeds. Each time
// EnsureFirewall and EnsureVPC must converge by themselves, leave exactly
// one firewall and one VPC matching the spec, and a plan afterwards must
// find nothing to change.
func TestConvergesUnderFaults(t *testing.T) {
	t.Parallel()
	const seeds = 100
	var (
		mu     sync.Mutex
		writes = map[linodetest.FaultKind]int{}
	)
	t.Run("seeds", func(t *testing.T) {
		for seed := int64(1); seed <= seeds; seed++ {
			t.Run(strconv.FormatInt(seed, 10), func(t *testing.T) {
				t.Parallel()
				srv, client, opts := sim(t,
					linodetest.WithSeed(seed),
					linodetest.WithFaults(linodetest.FaultConfig{Rate: 0.1, Seed: seed, RetryAfter: time.Millisecond}),
				)
				// Reads and idempotent writes are retried by the client
				// alone (pkg/linodeclient). At 10 % faults one fails for
				// good after 1+ClientRetryCount = 4 attempts with
				// probability 0.1⁴ = 10⁻⁴, and a read failing for good
				// fails the run: over the thousands of reads of 100 seeds
				// that would break a run now and then. 10 retries: 10⁻¹¹.
				client.SetRetryCount(10)
				ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
				defer cancel()
				env := mustDefault(t, spec.Production)
				ensureBoth(ctx, t, client, env, opts)

				env.Network.Firewall.Inbound = append(env.Network.Firewall.Inbound, spec.FirewallRule{
					Label: "https", Action: "ACCEPT", Protocol: "TCP", Ports: "443", IPv4: []string{"203.0.113.0/24"}})
				env.Network.Firewall.Inbound[0].IPv4 = append(env.Network.Firewall.Inbound[0].IPv4, "198.51.100.0/24")
				env.Network.VPC.Description = "changed under faults"
				env.Network.VPC.Subnets = []spec.Subnet{env.Network.VPC.Subnets[0], {Label: "batch", IPv4: "10.30.16.0/20"}}
				ensureBoth(ctx, t, client, env, opts)

				st := srv.Dump()
				assertFirewall(t, st, env)
				assertVPC(t, st, env)
				if n := len(st.Firewalls); n != 1 {
					t.Errorf("%d firewalls, want 1", n)
				}
				if n := len(st.VPCs); n != 1 {
					t.Errorf("%d VPCs, want 1", n)
				}
				fp, err := network.PlanFirewall(ctx, client, env, opts...)
				if err != nil || !fp.Empty() {
					t.Errorf("PlanFirewall after convergence: %q, %v", fp.Result().Lines(), err)
				}
				vp, err := network.PlanVPC(ctx, client, env, opts...)
				if err != nil || !vp.Empty() {
					t.Errorf("PlanVPC after convergence: %q, %v", vp.Result().Lines(), err)
				}
				fc := srv.FaultCounts()
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

func ensureBoth(ctx context.Context, t *testing.T, client network.LinodeAPI, env spec.Environment, opts []network.Option) {
	t.Helper()
	if _, err := network.EnsureFirewall(ctx, client, env, opts...); err != nil {
		t.Fatalf("EnsureFirewall: %v", err)
	}
	if _, err := network.EnsureVPC(ctx, client, env, opts...); err != nil {
		t.Fatalf("EnsureVPC: %v", err)
	}
}
