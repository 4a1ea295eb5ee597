package rollout_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/linode/linodego"

	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/cluster"
	"github.com/org/platform/pkg/linodetest"
	"github.com/org/platform/pkg/objectstorage"
	"github.com/org/platform/pkg/rollout"
	"github.com/org/platform/pkg/spec"
)

// confirmAll confirms the sweep of every standard environment.
func confirmAll() []rollout.SweepOption {
	var out []rollout.SweepOption
	for _, n := range spec.StandardNames() {
		out = append(out, rollout.WithSweepConfirmation(n))
	}
	return out
}

// leftovers lists what the simulator holds that belongs to env by our tags
// and labels, or to env's clusters as LKE's controllers made it.
func leftovers(st *linodetest.State, env string) []string {
	var out []string
	ours := map[int]bool{}
	for _, c := range st.Clusters {
		if slices.Contains(c.Tags, cluster.ClusterTagPrefix+env) {
			ours[c.ID] = true
			out = append(out, "lke/"+c.Label)
		}
	}
	for _, nb := range st.NodeBalancers {
		if ours[nb.ClusterID] {
			out = append(out, "nodebalancer/"+nb.Label)
		}
	}
	for _, v := range st.Volumes {
		if ours[v.ClusterID] {
			out = append(out, "volume/"+v.Label)
		}
	}
	for _, fw := range st.Firewalls {
		if slices.Contains(fw.Tags, "platform.org/env="+env) {
			out = append(out, "firewall/"+fw.Label)
		}
	}
	for _, v := range st.VPCs {
		if v.Label == "platform-"+env {
			out = append(out, "vpc/"+v.Label)
		}
	}
	var labels []string
	for _, p := range objectstorage.Purposes {
		labels = append(labels, objectstorage.BucketLabel(env, p), objectstorage.KeyLabel(env, p))
	}
	for _, b := range st.Buckets {
		if slices.Contains(labels, b.Label) {
			out = append(out, "bucket/"+b.Label)
		}
	}
	for _, k := range st.ObjectStorageKeys {
		if slices.Contains(labels, k.Label) {
			out = append(out, "key/"+k.Label)
		}
	}
	slices.Sort(out)
	return out
}

// addControllerLeftovers gives every cluster tagged for one of envs a
// NodeBalancer and a volume, as LKE's controllers would for a LoadBalancer
// Service and a persistent volume claim.
func addControllerLeftovers(t *testing.T, srv *linodetest.Server) {
	t.Helper()
	for id := range srv.Dump().Clusters {
		if err := srv.MarkClusterReady(id); err != nil {
			t.Fatal(err)
		}
		if _, err := srv.AttachLoadBalancer(id, "ingress/ingress-nginx"); err != nil {
			t.Fatal(err)
		}
		if _, err := srv.AttachVolume(id, "observability/prometheus"); err != nil {
			t.Fatal(err)
		}
	}
}

// addStores makes env's state bucket and its key, as pkg/objectstorage does.
func addStores(t *testing.T, client *linodego.Client, env string) {
	t.Helper()
	label := objectstorage.BucketLabel(env, objectstorage.PurposeState)
	if _, err := objectstorage.EnsureBucket(t.Context(), client, "us-east", label); err != nil {
		t.Fatal(err)
	}
	if _, err := objectstorage.CreateAccessKey(t.Context(), client, objectstorage.KeyLabel(env, objectstorage.PurposeState),
		objectstorage.BucketRef{Region: "us-east", Label: label}, objectstorage.ReadWrite); err != nil {
		t.Fatal(err)
	}
}

// TestSweep provisions the four standard environments with their
// controllers' NodeBalancers and volumes and their stores, beside objects
// that are not ours, then sweeps three environments by name (no spec):
// nothing of the three remains, everything else does, and a second sweep
// sends no write.
func TestSweep(t *testing.T) {
	t.Parallel()
	srv, client, deps := sim(t)
	ctx := t.Context()
	envs := standard(t)
	if _, err := rollout.Ensure(ctx, deps, envs, rollout.WithSimulationSelfApproval()); err != nil {
		t.Fatal(err)
	}
	// Not ours: an untagged cluster with its own leftovers, a firewall, a
	// VPC, a bucket and a key with other labels.
	foreign, err := client.CreateLKECluster(ctx, linodego.LKEClusterCreateOptions{Label: "someone-else", Region: "us-ord", K8sVersion: "1.33",
		NodePools: []linodego.LKENodePoolCreateOptions{{Count: 1, Type: "g6-standard-2"}}})
	if err != nil {
		t.Fatal(err)
	}
	addControllerLeftovers(t, srv)
	if _, err := client.CreateFirewall(ctx, linodego.FirewallCreateOptions{Label: "someone-elses", Rules: linodego.FirewallRuleSet{InboundPolicy: "DROP", OutboundPolicy: "ACCEPT"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateVPC(ctx, linodego.VPCCreateOptions{Label: "platform-elsewhere", Region: "us-ord"}); err != nil {
		t.Fatal(err)
	}
	for _, env := range spec.StandardNames() {
		addStores(t, client, env)
	}
	if _, err := objectstorage.EnsureBucket(ctx, client, "us-east", "platform-production-extra"); err != nil {
		t.Fatal(err)
	}

	before := srv.Dump()
	swept := []string{spec.Development, spec.Staging, spec.Production}
	for _, env := range append(swept, spec.System) {
		if len(leftovers(before, env)) < 7 {
			t.Fatalf("%s before the sweep holds only %v", env, leftovers(before, env))
		}
	}

	// Production is GitOps-only: refused without confirmation, before any request.
	srv.ResetCounts()
	if _, err := rollout.Sweep(ctx, deps, swept); !errors.Is(err, change.ErrGitOpsOnly) {
		t.Fatalf("sweep of production without confirmation: %v, want ErrGitOpsOnly", err)
	}
	if c := srv.Counts(); c.Mutating+c.Reading != 0 {
		t.Fatalf("a refused sweep sent %d requests", c.Mutating+c.Reading)
	}

	res, err := rollout.Sweep(ctx, deps, swept, confirmAll()...)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("sweep of %v: %d deletes", swept, res.Count(change.Delete))
	after := srv.Dump()
	for _, env := range swept {
		if left := leftovers(after, env); len(left) != 0 {
			t.Errorf("%s: left after the sweep: %v", env, left)
		}
	}
	if got, want := leftovers(after, spec.System), leftovers(before, spec.System); !slices.Equal(got, want) {
		t.Errorf("system, not swept, changed: %v → %v", want, got)
	}
	if after.Clusters[foreign.ID] == nil {
		t.Error("the untagged cluster was deleted")
	}
	foreignLeft := 0
	for _, nb := range after.NodeBalancers {
		if nb.ClusterID == foreign.ID {
			foreignLeft++
		}
	}
	for _, v := range after.Volumes {
		if v.ClusterID == foreign.ID {
			foreignLeft++
		}
	}
	if foreignLeft != 2 {
		t.Errorf("the untagged cluster's NodeBalancer and volume: %d left, want 2", foreignLeft)
	}
	var labels []string
	for _, fw := range after.Firewalls {
		labels = append(labels, "firewall/"+fw.Label)
	}
	for _, v := range after.VPCs {
		labels = append(labels, "vpc/"+v.Label)
	}
	for _, b := range after.Buckets {
		labels = append(labels, "bucket/"+b.Label)
	}
	for _, want := range []string{"firewall/someone-elses", "vpc/platform-elsewhere", "bucket/platform-production-extra"} {
		if !slices.Contains(labels, want) {
			t.Errorf("%s, not ours, was deleted", want)
		}
	}

	srv.ResetCounts()
	again, err := rollout.Sweep(ctx, deps, swept, confirmAll()...)
	if err != nil || again.Changed() {
		t.Fatalf("second sweep = %v, %v; want nothing", again.Lines(), err)
	}
	if n := srv.Counts().Mutating; n != 0 {
		t.Errorf("second sweep sent %d writes", n)
	}
}

// TestSweepAfterInterruptedRun kills a provisioning of the four standard
// environments at the k-th Linode write, for every k of the run, and
// sweeps them: nothing of ours is left.
func TestSweepAfterInterruptedRun(t *testing.T) {
	t.Parallel()
	srv, _, deps := sim(t)
	if _, err := rollout.Ensure(t.Context(), deps, standard(t), rollout.WithSimulationSelfApproval()); err != nil {
		t.Fatal(err)
	}
	total := int64(srv.Counts().Mutating)
	for k := int64(1); k <= total; k++ {
		t.Run(fmt.Sprintf("killed at write %d of %d", k, total), func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			hook, writes := faultAt(k, linodetest.FaultDropAfterCommit, cancel)
			srv, client, deps := sim(t, linodetest.WithRequestHook(hook))
			_, runErr := rollout.Ensure(ctx, deps, standard(t), rollout.WithSimulationSelfApproval())
			if writes.Load() < k {
				t.Fatalf("only %d writes: the run was never killed at %d", writes.Load(), k)
			}
			if runErr == nil && k < total {
				t.Fatal("the killed run succeeded")
			}
			addControllerLeftovers(t, srv)
			addStores(t, client, spec.Staging)
			if _, err := rollout.Sweep(t.Context(), deps, spec.StandardNames(), confirmAll()...); err != nil {
				t.Fatal(err)
			}
			st := srv.Dump()
			for _, env := range spec.StandardNames() {
				if left := leftovers(st, env); len(left) != 0 {
					t.Errorf("%s: left after the sweep: %v", env, left)
				}
			}
			if n := len(st.Clusters) + len(st.Firewalls) + len(st.VPCs) + len(st.NodeBalancers) + len(st.Volumes) + len(st.Buckets) + len(st.ObjectStorageKeys); n != 0 {
				t.Errorf("%d objects left in a simulator that held only ours", n)
			}
		})
	}
}
