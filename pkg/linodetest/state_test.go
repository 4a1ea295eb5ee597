package linodetest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linode/linodego"
)

func TestConcurrentRequests(t *testing.T) {
	t.Parallel()
	srv, client := New(t)
	ctx := t.Context()
	const workers, rounds = 8, 6
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds*8)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := client.CreateLKECluster(ctx, linodego.LKEClusterCreateOptions{
				Label: fmt.Sprintf("c-%d", w), Region: "us-ord", K8sVersion: "1.33",
				NodePools: []linodego.LKENodePoolCreateOptions{{Count: 2, Type: "g6-standard-2"}},
			})
			if err != nil {
				errs <- err
				return
			}
			pools, err := client.ListLKENodePools(ctx, c.ID, nil)
			if err != nil {
				errs <- err
				return
			}
			for r := range rounds {
				if _, err := client.CreateFirewall(ctx, linodego.FirewallCreateOptions{Label: fmt.Sprintf("fw-%d-%d", w, r), Rules: standardRules()}); err != nil {
					errs <- err
				}
				if _, err := client.UpdateLKENodePool(ctx, c.ID, pools[0].ID, linodego.LKENodePoolUpdateOptions{Count: 1 + r%3}); err != nil {
					errs <- err
				}
				if err := client.RecycleLKENodePool(ctx, c.ID, pools[0].ID); err != nil {
					errs <- err
				}
				if _, err := client.ListFirewalls(ctx, nil); err != nil {
					errs <- err
				}
				if err := srv.SetPoolCount(c.ID, pools[0].ID, 2); err != nil {
					errs <- err
				}
				_ = srv.Dump()
				_ = srv.Counts()
				_ = srv.Requests()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	st := srv.Dump()
	if len(st.Clusters) != workers || len(st.Firewalls) != workers*rounds {
		t.Fatalf("%d clusters, %d firewalls; want %d, %d", len(st.Clusters), len(st.Firewalls), workers, workers*rounds)
	}
	seen := map[string]bool{}
	for _, c := range st.Clusters {
		for _, p := range c.Pools {
			for _, n := range p.Nodes {
				if seen[n.ID] {
					t.Errorf("node id %s used twice", n.ID)
				}
				seen[n.ID] = true
			}
		}
	}
	c := srv.Counts()
	if c.Mutating+c.Reading != len(srv.Requests()) {
		t.Errorf("counts %d+%d but %d requests logged", c.Mutating, c.Reading, len(srv.Requests()))
	}
}

func TestDumpAndMutate(t *testing.T) {
	t.Parallel()
	srv, client, clk := newManual(t)
	ctx := t.Context()
	c := mustCluster(t, client, "dump", 2)
	key, err := client.CreateObjectStorageKey(ctx, linodego.ObjectStorageKeyCreateOptions{Label: "k"})
	if err != nil {
		t.Fatal(err)
	}
	st := srv.Dump()
	if st.Clusters[c.ID].Status != "ready" || st.Clusters[c.ID].Pools[0].Nodes[0].Status != "not_ready" || !st.Now.Equal(t0) {
		t.Fatalf("dump = %+v", st.Clusters[c.ID])
	}
	clk.Advance(10 * time.Minute)
	st = srv.Dump()
	if st.Clusters[c.ID].Status != "ready" {
		t.Errorf("status after 10 min = %s", st.Clusters[c.ID].Status)
	}
	// The dump is a copy.
	st.Clusters[c.ID].Label = "changed"
	if srv.Dump().Clusters[c.ID].Label != "dump" {
		t.Error("changing the dump changed the server")
	}
	// Secrets stay out of snapshots.
	kc, err := client.GetLKEClusterKubeconfig(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString(kc.KubeConfig)
	token := raw[strings.Index(string(raw), "token: ")+7:]
	token = token[:strings.IndexByte(string(token), '\n')]
	b, err := json.Marshal(srv.Dump())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), string(token)) || strings.Contains(string(b), key.SecretKey) {
		t.Error("a secret leaked into the dump")
	}
	for _, r := range srv.Requests() {
		if strings.Contains(fmt.Sprint(r), "linodetest-token") {
			t.Error("the API token leaked into the request log")
		}
	}

	// Mutate out of band: a bucket with objects cannot be deleted.
	if _, err := client.CreateObjectStorageBucket(ctx, linodego.ObjectStorageBucketCreateOptions{Region: "us-east", Label: "full"}); err != nil {
		t.Fatal(err)
	}
	srv.Mutate(func(st *State) { st.Buckets["us-east/full"].Objects = 3 })
	wantAPIError(t, client.DeleteObjectStorageBucket(ctx, "us-east", "full"), http.StatusBadRequest)
}

func TestStart(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	clk := NewManualClock(t0)
	srv, err := Start(ctx, WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(srv.URL(), "http://127.0.0.1:") || srv.Validating() {
		t.Fatalf("URL %s, validating %v", srv.URL(), srv.Validating())
	}
	client := srv.NewClient()
	c, err := client.CreateLKECluster(ctx, linodego.LKEClusterCreateOptions{
		Label: "start", Region: "us-ord", K8sVersion: "1.33",
		NodePools: []linodego.LKENodePoolCreateOptions{{Count: 1, Type: "g6-standard-2"}},
	})
	if err != nil || c.Status != linodego.LKEClusterReady {
		t.Fatalf("create = %+v, %v", c, err)
	}
	if srv.Clock() != Clock(clk) {
		t.Error("Clock() is not the configured clock")
	}
	cancel()
	deadline := time.Now().Add(2 * time.Second)
	for {
		if _, err := srv.NewClient().GetProfile(t.Context()); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("server still answers after its context ended")
		}
		time.Sleep(5 * time.Millisecond)
	}
	srv.Close() // idempotent
	if _, err := Start(t.Context(), WithTimeScale(-1)); err == nil {
		t.Error("Start accepted a bad option")
	}
}

func TestRequestLogLimit(t *testing.T) {
	t.Parallel()
	srv, client := New(t, WithRequestLogLimit(10))
	for range 30 {
		if _, err := client.GetProfile(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	reqs := srv.Requests()
	if len(reqs) != 10 || reqs[0].Seq != 21 || reqs[9].Seq != 30 {
		t.Fatalf("kept %d records, seq %d…%d; want the newest 10 (21…30)", len(reqs), reqs[0].Seq, reqs[len(reqs)-1].Seq)
	}
	if r := reqs[9]; r.Method != "GET" || r.Path != "/v4beta/profile" || r.Route != "/profile" || r.Status != 200 || r.Time.IsZero() {
		t.Errorf("record = %+v", r)
	}
	if c := srv.Counts(); c.Reading != 30 {
		t.Errorf("counts = %+v, want 30 reads whatever the log keeps", c)
	}
}
