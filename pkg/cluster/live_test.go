//go:build live

package cluster_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/linode/linodego"
	"go.uber.org/zap/zaptest"

	"github.com/org/platform/internal/httpcount"
	"github.com/org/platform/pkg/cluster"
	"github.com/org/platform/pkg/spec"
)

// TestLiveLinode creates a one-node cluster on the real Linode API, checks
// that a second run writes nothing, fetches its kubeconfig, and deletes it.
// It costs money and about ten minutes:
//
//	LINODE_TOKEN=… go test -tags live -run TestLiveLinode -timeout 40m ./pkg/cluster
func TestLiveLinode(t *testing.T) {
	token := os.Getenv("LINODE_TOKEN")
	if token == "" {
		t.Skip("LINODE_TOKEN not set")
	}
	wc := &httpcount.Counter{}
	client := linodego.NewClient(&http.Client{Transport: wc.Wrap(nil)})
	client.SetToken(token)

	env, err := spec.Default(spec.Development)
	if err != nil {
		t.Fatal(err)
	}
	env.Name = "live-test"
	env.Cluster.Label = fmt.Sprintf("platform-live-%d", time.Now().Unix()%1_000_000)
	env.Cluster.NodePools = []spec.NodePool{{Name: "general", Type: "g6-standard-1", Count: 1}}
	opts := []cluster.Option{cluster.WithLogger(zaptest.NewLogger(t))}

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Minute)
	defer cancel()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		if _, err := cluster.DeleteCluster(ctx, &client, env, opts...); err != nil {
			t.Errorf("DeleteCluster: %v (delete %s by hand)", err, env.Cluster.Label)
		}
	})

	res, err := cluster.EnsureCluster(ctx, &client, env, cluster.Placement{}, opts...)
	if err != nil {
		t.Fatalf("EnsureCluster: %v", err)
	}
	t.Logf("created in %s:\n%s", res.Elapsed, res.String())

	before := wc.Writes()
	again, err := cluster.EnsureCluster(ctx, &client, env, cluster.Placement{}, opts...)
	if err != nil || again.Changed() || wc.Writes() != before {
		t.Errorf("second EnsureCluster: %v, %v, %d writes", again.String(), err, wc.Writes()-before)
	}

	kc, err := cluster.Kubeconfig(ctx, &client, res.ID, opts...)
	if err != nil {
		t.Fatalf("Kubeconfig: %v", err)
	}
	if err := cluster.WriteKubeconfig(filepath.Join(t.TempDir(), "kubeconfig"), kc); err != nil {
		t.Fatal(err)
	}
}
