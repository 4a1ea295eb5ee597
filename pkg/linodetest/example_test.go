package linodetest_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/linode/linodego"

	"github.com/org/platform/pkg/linodetest"
)

// A cluster is not ready, and has no kubeconfig, until enough model time
// has passed. A ManualClock makes that exact.
func Example() {
	ctx := context.Background()
	clk := linodetest.NewManualClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	srv, err := linodetest.Start(ctx, linodetest.WithClock(clk))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	client := srv.NewClient()

	cluster, err := client.CreateLKECluster(ctx, linodego.LKEClusterCreateOptions{
		Label: "staging", Region: "us-ord", K8sVersion: "1.33",
		NodePools: []linodego.LKENodePoolCreateOptions{{Count: 3, Type: "g6-standard-4"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cluster.Label, cluster.Status)

	_, err = client.GetLKEClusterKubeconfig(ctx, cluster.ID)
	fmt.Println("kubeconfig:", err)

	clk.Advance(5 * time.Minute)
	cluster, _ = client.GetLKECluster(ctx, cluster.ID)
	kc, err := client.GetLKEClusterKubeconfig(ctx, cluster.ID)
	fmt.Println(cluster.Label, cluster.Status, "kubeconfig:", err == nil && kc.KubeConfig != "")

	// linodego retried the 503 three times (ClientRetryCount): 4 reads.
	counts := srv.Counts()
	fmt.Println("mutating:", counts.Mutating, "reading:", counts.Reading)
	// Output:
	// staging ready
	// kubeconfig: [503] Cluster kubeconfig is not yet available. Please try again later.
	// staging ready kubeconfig: true
	// mutating: 1 reading: 6
}
