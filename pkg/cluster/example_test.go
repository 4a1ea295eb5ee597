package cluster_test

import (
	"context"
	"fmt"
	"log"

	"github.com/org/platform/pkg/cluster"
	"github.com/org/platform/pkg/linodetest"
	"github.com/org/platform/pkg/spec"
)

// EnsureCluster creates the development cluster, here in the Linode
// simulator on a clock 10 000 times faster than real time; the second run
// finds nothing to change and sends no write.
func ExampleEnsureCluster() {
	ctx := context.Background()
	srv, err := linodetest.Start(ctx, linodetest.WithTimeScale(10_000))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	client := srv.NewClient() // with LINODE_TOKEN: linodego.NewClient(…)

	env, err := spec.Default(spec.Development)
	if err != nil {
		log.Fatal(err)
	}
	res, err := cluster.EnsureCluster(ctx, client, env, cluster.Placement{}, cluster.WithClock(srv.Clock()))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.String())

	before := srv.Counts().Mutating
	res, err = cluster.EnsureCluster(ctx, client, env, cluster.Placement{}, cluster.WithClock(srv.Clock()))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("second run: %s, %d writes\n", res.Op(), srv.Counts().Mutating-before)
	// Output:
	// create lke/platform-development/pool/general: g6-standard-2 ×3, autoscaler 3–6
	// create lke/platform-development: us-east, Kubernetes 1.33, control-plane ACL
	// second run: unchanged, 0 writes
}

// PlanCluster is a dry run: it reads and compares, and writes nothing.
func ExamplePlanCluster() {
	ctx := context.Background()
	srv, err := linodetest.Start(ctx, linodetest.WithTimeScale(10_000))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	client := srv.NewClient()
	env, err := spec.Default(spec.Production)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := cluster.EnsureCluster(ctx, client, env, cluster.Placement{}, cluster.WithClock(srv.Clock())); err != nil {
		log.Fatal(err)
	}

	env.Cluster.NodePools[1].Count = 4 // ingress: 2 → 4
	env.Cluster.KubernetesVersion = "1.34"
	plan, err := cluster.PlanCluster(ctx, client, env, cluster.Placement{}, cluster.WithClock(srv.Clock()))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(plan.Result().String())
	fmt.Println(plan.Result().Summary())
	// Output:
	// update lke/platform-production k8s_version: 1.33 → 1.34
	// update lke/platform-production/pool/ingress count: 2 → 4
	// 0 to create, 2 to update, 0 to delete
}
