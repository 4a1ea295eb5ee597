package rollout_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/org/platform/pkg/linodetest"
	"github.com/org/platform/pkg/rollout"
	"github.com/org/platform/pkg/spec"
)

// faultAt returns a hook that injects kind into the k-th write only, and
// calls then when it does.
func faultAt(k int64, kind linodetest.FaultKind, then func()) (linodetest.RequestHook, *atomic.Int64) {
	var writes atomic.Int64
	return func(r linodetest.HookRequest) linodetest.HookAction {
		if r.Method == "GET" {
			return linodetest.HookAction{}
		}
		if writes.Add(1) == k {
			then()
			return linodetest.HookAction{Fault: kind}
		}
		return linodetest.HookAction{}
	}, &writes
}

// TestFaultAtEveryLinodeWrite provisions the four standard environments
// with a fault at the k-th write, for every k of the Linode layer, before
// and after the request commits. Each run must report exactly the changes
// that took effect — what it reports and what a fresh plan still asks for
// are disjoint and together make the whole provisioning — and a re-run
// converges with exactly one of every object.
func TestFaultAtEveryLinodeWrite(t *testing.T) {
	t.Parallel()
	// The number of writes of a fault-free provisioning.
	srv, _, deps := sim(t)
	all, err := rollout.Plan(t.Context(), deps, standard(t)...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rollout.Apply(t.Context(), deps, all, rollout.WithApproval(all.Digest)); err != nil {
		t.Fatal(err)
	}
	total := int64(srv.Counts().Mutating)
	want := objects(all.Result())
	t.Logf("a full provisioning of four environments: %d Linode writes, %d objects", total, len(want))

	// "cancel" kills the run at the k-th write, which commits: the run
	// fails and must report exactly what it made before dying.
	for _, kind := range []linodetest.FaultKind{linodetest.FaultBadGateway, linodetest.FaultDropAfterCommit, "cancel"} {
		for k := int64(1); k <= total; k++ {
			t.Run(fmt.Sprintf("%s at write %d", kind, k), func(t *testing.T) {
				t.Parallel()
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				fault := kind
				if kind == "cancel" {
					fault = linodetest.FaultDropAfterCommit
				}
				hook, writes := faultAt(k, fault, func() {
					if kind == "cancel" {
						cancel()
					}
				})
				srv, _, deps := sim(t, linodetest.WithRequestHook(hook))
				envs := standard(t)
				res, runErr := rollout.Ensure(ctx, deps, envs, rollout.WithSimulationSelfApproval())
				if kind == "cancel" && runErr == nil {
					t.Fatal("the killed run succeeded")
				}
				if writes.Load() < k {
					t.Fatalf("only %d writes: the fault at %d was never injected", writes.Load(), k)
				}
				var reported []string
				for _, e := range res.Environments {
					reported = append(reported, objects(e.Result)...)
				}
				slices.Sort(reported)
				remaining, err := rollout.Plan(t.Context(), deps, envs...)
				if err != nil {
					t.Fatal(err)
				}
				left := objects(remaining.Result())
				// Never reported and still planned; never reported twice.
				for _, o := range reported {
					if slices.Contains(left, o) || !slices.Contains(want, o) {
						t.Errorf("reported %q, which did not take effect", o)
					}
				}
				var missing []string
				for _, o := range want {
					if !slices.Contains(reported, o) && !slices.Contains(left, o) {
						missing = append(missing, o)
					}
				}
				// A run that faults but lives reports everything that took
				// effect. A killed run may leave, per failed environment, the
				// one step it had in flight unreported (a firewall, a VPC, or
				// a cluster with its pools): the server can commit an
				// abandoned request after the run's last read.
				if len(missing) > 0 && !inFlightOnly(kind == "cancel", res, missing) {
					t.Errorf("run error %v\ntook effect but not reported %v\nreported %v\nstill planned %v",
						runErr, missing, reported, left)
				}

				if _, err := rollout.Ensure(t.Context(), deps, envs, rollout.WithSimulationSelfApproval()); err != nil {
					t.Fatalf("re-run: %v", err)
				}
				assertOneOfEach(t, srv, envs)
			})
		}
	}
}

// inFlightOnly reports whether the objects missing from a killed run's
// result are, per environment, at most one step's: the environment failed,
// and its missing objects are its firewall, its VPC, or its cluster and
// pools.
func inFlightOnly(killed bool, res rollout.Result, missing []string) bool {
	if !killed {
		return false
	}
	for _, e := range res.Environments {
		var kinds []string
		for _, m := range missing {
			obj := strings.TrimPrefix(m, "create ")
			kind, rest, _ := strings.Cut(obj, "/")
			if rest == "platform-"+e.Name || strings.HasPrefix(rest, "platform-"+e.Name+"/") {
				if e.Err == nil {
					return false
				}
				if !slices.Contains(kinds, kind) {
					kinds = append(kinds, kind)
				}
			}
		}
		if len(kinds) > 1 {
			return false
		}
	}
	return true
}

// assertOneOfEach checks there is exactly one cluster, firewall and VPC per
// environment, and one pool per spec pool.
func assertOneOfEach(t *testing.T, srv *linodetest.Server, envs []spec.Environment) {
	t.Helper()
	st := srv.Dump()
	count := func(label string, labels []string) int {
		n := 0
		for _, l := range labels {
			if l == label {
				n++
			}
		}
		return n
	}
	var clusters, firewalls, vpcs []string
	for _, c := range st.Clusters {
		clusters = append(clusters, c.Label)
		pools := map[string]int{}
		for _, p := range c.Pools {
			for _, tag := range p.Tags {
				if name, ok := strings.CutPrefix(tag, "platform.org/pool="); ok {
					pools[name]++
				}
			}
		}
		for name, n := range pools {
			if n != 1 {
				t.Errorf("cluster %s: pool %q exists %d times", c.Label, name, n)
			}
		}
	}
	for _, f := range st.Firewalls {
		firewalls = append(firewalls, f.Label)
	}
	for _, v := range st.VPCs {
		vpcs = append(vpcs, v.Label)
	}
	for _, env := range envs {
		label := "platform-" + env.Name
		for kind, labels := range map[string][]string{"cluster": clusters, "firewall": firewalls, "VPC": vpcs} {
			if n := count(label, labels); n != 1 {
				t.Errorf("%s %s exists %d times", kind, label, n)
			}
		}
	}
}
