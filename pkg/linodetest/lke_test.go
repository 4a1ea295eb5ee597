package linodetest

import (
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/linode/linodego"
	"sigs.k8s.io/yaml"
)

func TestLKEClusterCRUD(t *testing.T) {
	t.Parallel()
	srv, client, _ := newManual(t)
	ctx := t.Context()

	c, err := client.CreateLKECluster(ctx, linodego.LKEClusterCreateOptions{
		Label: "prod", Region: "us-ord", K8sVersion: "1.33", Tags: []string{"env:prod"},
		ControlPlane: &linodego.LKEClusterControlPlaneOptions{HighAvailability: ptr(true)},
		NodePools: []linodego.LKENodePoolCreateOptions{
			{Count: 3, Type: "g6-dedicated-4", Labels: linodego.LKENodePoolLabels{"role": "general"}, Tags: []string{"general"}},
			{Count: 1, Type: "g6-standard-2", Taints: []linodego.LKENodePoolTaint{{Key: "dedicated", Value: "ci", Effect: "NoSchedule"}}},
		},
	})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	// The API shows a new cluster as ready in the create response already.
	if c.Status != linodego.LKEClusterReady || c.Label != "prod" || c.Region != "us-ord" || !c.ControlPlane.HighAvailability || c.Tier != "standard" {
		t.Errorf("created cluster = %+v", c)
	}
	if c.Created == nil || !c.Created.Equal(t0) {
		t.Errorf("created = %v, want %v", c.Created, t0)
	}

	got, err := client.GetLKECluster(ctx, c.ID)
	if err != nil || got.ID != c.ID || got.K8sVersion != "1.33" || !slices.Equal(got.Tags, []string{"env:prod"}) {
		t.Fatalf("get = %+v, %v", got, err)
	}

	pools, err := client.ListLKENodePools(ctx, c.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(pools) != 2 || pools[0].Count != 3 || len(pools[0].Linodes) != 3 || pools[1].Taints[0].Key != "dedicated" || pools[0].Labels["role"] != "general" {
		t.Fatalf("pools = %+v", pools)
	}
	for _, n := range pools[0].Linodes {
		if !strings.HasPrefix(n.ID, strconv.Itoa(pools[0].ID)+"-") || len(n.ID) != len(strconv.Itoa(pools[0].ID))+11 || n.InstanceID != 0 || n.Status != linodego.LKELinodeNotReady {
			t.Errorf("node = %+v", n)
		}
	}

	up, err := client.UpdateLKECluster(ctx, c.ID, linodego.LKEClusterUpdateOptions{Label: "prod-2", K8sVersion: "1.34", Tags: &[]string{"a", "b"}})
	if err != nil || up.Label != "prod-2" || up.K8sVersion != "1.34" || len(up.Tags) != 2 {
		t.Fatalf("update = %+v, %v", up, err)
	}

	list, err := client.ListLKEClusters(ctx, nil)
	if err != nil || len(list) != 1 || list[0].Label != "prod-2" {
		t.Fatalf("list = %+v, %v", list, err)
	}

	if err := client.DeleteLKECluster(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	_, err = client.GetLKECluster(ctx, c.ID)
	wantAPIError(t, err, http.StatusNotFound)
	if n := len(srv.Dump().Clusters); n != 0 {
		t.Errorf("clusters after delete = %d", n)
	}
}

func TestLKEPoolsAndNodes(t *testing.T) {
	t.Parallel()
	srv, client, clk := newManual(t)
	ctx := t.Context()
	c := mustCluster(t, client, "pools", 2)

	p, err := client.CreateLKENodePool(ctx, c.ID, linodego.LKENodePoolCreateOptions{
		Count: 2, Type: "g6-standard-4", Autoscaler: &linodego.LKENodePoolAutoscaler{Enabled: true, Min: 1, Max: 5},
	})
	if err != nil || p.Count != 2 || len(p.Linodes) != 2 || !p.Autoscaler.Enabled || p.Autoscaler.Max != 5 {
		t.Fatalf("create pool = %+v, %v", p, err)
	}
	if p.K8sVersion != nil || p.UpdateStrategy != nil {
		t.Errorf("standard pool k8s_version = %v, update_strategy = %v, want both absent (enterprise only)", p.K8sVersion, p.UpdateStrategy)
	}

	// Scale up then down.
	p, err = client.UpdateLKENodePool(ctx, c.ID, p.ID, linodego.LKENodePoolUpdateOptions{Count: 5})
	if err != nil || p.Count != 5 || len(p.Linodes) != 5 {
		t.Fatalf("scale up = %+v, %v", p, err)
	}
	keep := p.Linodes[:2]
	p, err = client.UpdateLKENodePool(ctx, c.ID, p.ID, linodego.LKENodePoolUpdateOptions{Count: 2, Tags: &[]string{"x"}})
	if err != nil || p.Count != 2 || len(p.Linodes) != 2 || p.Linodes[0].ID != keep[0].ID || p.Tags[0] != "x" {
		t.Fatalf("scale down = %+v, %v", p, err)
	}

	// Node GET, then ready after the model time passes.
	n, err := client.GetLKENodePoolNode(ctx, c.ID, p.Linodes[0].ID)
	if err != nil || n.Status != linodego.LKELinodeNotReady {
		t.Fatalf("node = %+v, %v", n, err)
	}
	clk.Advance(nodeReadyMax)
	n, err = client.GetLKENodePoolNode(ctx, c.ID, p.Linodes[0].ID)
	if err != nil || n.Status != linodego.LKELinodeReady {
		t.Fatalf("node after %s = %+v, %v", nodeReadyMax, n, err)
	}

	// Node delete shrinks the pool.
	if err := client.DeleteLKENodePoolNode(ctx, c.ID, p.Linodes[1].ID); err != nil {
		t.Fatal(err)
	}
	got, err := client.GetLKENodePool(ctx, c.ID, p.ID)
	if err != nil || got.Count != 1 || len(got.Linodes) != 1 {
		t.Fatalf("after node delete = %+v, %v", got, err)
	}

	// Out of band autoscaler.
	if err := srv.SetPoolCount(c.ID, p.ID, 4); err != nil {
		t.Fatal(err)
	}
	got, err = client.GetLKENodePool(ctx, c.ID, p.ID)
	if err != nil || got.Count != 4 || len(got.Linodes) != 4 {
		t.Fatalf("after SetPoolCount = %+v, %v", got, err)
	}
	if err := srv.SetPoolCount(c.ID, 999, 4); err == nil {
		t.Error("SetPoolCount on a missing pool succeeded")
	}

	if err := client.DeleteLKENodePool(ctx, c.ID, p.ID); err != nil {
		t.Fatal(err)
	}
	_, err = client.GetLKENodePool(ctx, c.ID, p.ID)
	wantAPIError(t, err, http.StatusNotFound)
	_, err = client.GetLKENodePoolNode(ctx, c.ID, "1-nonexistent")
	wantAPIError(t, err, http.StatusNotFound)
}

func TestKubeconfigBecomesAvailable(t *testing.T) {
	t.Parallel()
	_, client, clk := newManual(t)
	ctx := t.Context()
	c := mustCluster(t, client, "kc", 1)
	delay := clusterReadyDelay(DefaultSeed, "kc", "standard")
	if delay < 130*time.Second || delay > 250*time.Second {
		t.Fatalf("ready delay %s outside 130–250 s", delay)
	}

	_, err := client.GetLKEClusterKubeconfig(ctx, c.ID)
	lerr := wantAPIError(t, err, http.StatusServiceUnavailable)
	if !strings.Contains(lerr.Message, kubeconfigReason) {
		t.Errorf("503 message = %q", lerr.Message)
	}
	clk.Advance(delay - time.Second)
	_, err = client.GetLKEClusterKubeconfig(ctx, c.ID)
	wantAPIError(t, err, http.StatusServiceUnavailable)
	if got, _ := client.GetLKECluster(ctx, c.ID); got.Status != linodego.LKEClusterReady {
		t.Errorf("status 1 s before the kubeconfig answers = %s, want ready (the API does not report provisioning)", got.Status)
	}

	clk.Advance(time.Second)
	kc, err := client.GetLKEClusterKubeconfig(ctx, c.ID)
	if err != nil {
		t.Fatalf("kubeconfig at ready time: %v", err)
	}
	raw, err := base64.StdEncoding.DecodeString(kc.KubeConfig)
	if err != nil {
		t.Fatalf("kubeconfig is not base64: %v", err)
	}
	var doc struct {
		Kind     string `json:"kind"`
		Clusters []struct {
			Cluster struct {
				Server string `json:"server"`
			} `json:"cluster"`
		} `json:"clusters"`
		Users []struct {
			User struct {
				Token string `json:"token"`
			} `json:"user"`
		} `json:"users"`
	}
	if err := yaml.UnmarshalStrict(raw, &doc); err != nil && !strings.Contains(err.Error(), "unknown field") {
		t.Fatalf("kubeconfig is not YAML: %v\n%s", err, raw)
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Kind != "Config" || len(doc.Clusters) != 1 || len(doc.Users) != 1 || len(doc.Users[0].User.Token) != 64 {
		t.Fatalf("kubeconfig = %+v", doc)
	}
	wantPrefix := "https://" + strconv.Itoa(c.ID) + "-"
	if s := doc.Clusters[0].Cluster.Server; !strings.HasPrefix(s, wantPrefix) || !strings.HasSuffix(s, ".us-ord.linodelke.net:443") {
		t.Errorf("server = %q", s)
	}
	if got, _ := client.GetLKECluster(ctx, c.ID); got.Status != linodego.LKEClusterReady {
		t.Errorf("status at ready = %s", got.Status)
	}

	// Deleting the kubeconfig regenerates it: a new token after a short wait.
	if err := client.DeleteLKEClusterKubeconfig(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	_, err = client.GetLKEClusterKubeconfig(ctx, c.ID)
	wantAPIError(t, err, http.StatusServiceUnavailable)
	clk.Advance(kubeconfigRegen)
	kc2, err := client.GetLKEClusterKubeconfig(ctx, c.ID)
	if err != nil || kc2.KubeConfig == kc.KubeConfig {
		t.Fatalf("regenerated kubeconfig unchanged or failing: %v", err)
	}
}

func TestKubeconfigSource(t *testing.T) {
	t.Parallel()
	want := []byte("apiVersion: v1\nkind: Config\n")
	srv, client, _ := newManual(t, WithKubeconfigSource(func(id int) ([]byte, error) { return want, nil }))
	c := mustCluster(t, client, "src", 1)
	if err := srv.MarkClusterReady(c.ID); err != nil {
		t.Fatal(err)
	}
	kc, err := client.GetLKEClusterKubeconfig(t.Context(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := base64.StdEncoding.DecodeString(kc.KubeConfig); string(got) != string(want) {
		t.Errorf("kubeconfig = %q, want %q", got, want)
	}
}

func TestLifecycleDrawsAreDeterministic(t *testing.T) {
	t.Parallel()
	seen := map[time.Duration]bool{}
	for _, label := range []string{"development", "staging", "production", "system", "a", "b"} {
		d1 := clusterReadyDelay(7, label, "standard")
		d2 := clusterReadyDelay(7, label, "standard")
		if d1 != d2 {
			t.Errorf("%s: %s then %s", label, d1, d2)
		}
		if d1 < clusterReadyMin || d1 > clusterReadyMax {
			t.Errorf("%s: %s outside range", label, d1)
		}
		seen[d1] = true
	}
	if len(seen) < 5 {
		t.Errorf("only %d distinct delays for 6 labels", len(seen))
	}
	if clusterReadyDelay(7, "x", "standard") == clusterReadyDelay(8, "x", "standard") {
		t.Error("different seeds gave the same delay")
	}
}

// nodeIDs returns the pool's node IDs in order.
func nodeIDs(p *linodego.LKENodePool) []string {
	var ids []string
	for _, n := range p.Linodes {
		ids = append(ids, n.ID)
	}
	return ids
}

func TestRecycleReplacesNodesOneByOne(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		recycle func(client *linodego.Client, c *linodego.LKECluster, p *linodego.LKENodePool) error
		want    int // nodes replaced in the end
	}{
		{"cluster", func(cl *linodego.Client, c *linodego.LKECluster, p *linodego.LKENodePool) error {
			return cl.RecycleLKEClusterNodes(t.Context(), c.ID)
		}, 3},
		{"pool", func(cl *linodego.Client, c *linodego.LKECluster, p *linodego.LKENodePool) error {
			return cl.RecycleLKENodePool(t.Context(), c.ID, p.ID)
		}, 3},
		{"node", func(cl *linodego.Client, c *linodego.LKECluster, p *linodego.LKENodePool) error {
			return cl.RecycleLKENodePoolNode(t.Context(), c.ID, p.Linodes[1].ID)
		}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, client, clk := newManual(t)
			ctx := t.Context()
			c := mustCluster(t, client, "rc-"+tc.name, 3)
			clk.Advance(5 * time.Minute)
			// Upgrade, then recycle: the replacement nodes run the new version.
			if _, err := client.UpdateLKECluster(ctx, c.ID, linodego.LKEClusterUpdateOptions{K8sVersion: "1.34"}); err != nil {
				t.Fatal(err)
			}
			pools, _ := client.ListLKENodePools(ctx, c.ID, nil)
			p := &pools[0]
			before := nodeIDs(p)
			if err := tc.recycle(client, c, p); err != nil {
				t.Fatal(err)
			}
			replaced := 0
			for step := 0; step < 40 && replaced < tc.want; step++ {
				got, err := client.GetLKENodePool(ctx, c.ID, p.ID)
				if err != nil {
					t.Fatal(err)
				}
				now := nodeIDs(got)
				changed, notReady := 0, 0
				for i := range now {
					if now[i] != before[i] {
						changed++
					}
					if got.Linodes[i].Status == linodego.LKELinodeNotReady {
						notReady++
					}
				}
				if notReady > 1 {
					t.Fatalf("step %d: %d nodes not ready at once: %+v", step, notReady, got.Linodes)
				}
				if changed < replaced {
					t.Fatalf("step %d: replaced count went back from %d to %d", step, replaced, changed)
				}
				if changed > replaced+1 {
					t.Fatalf("step %d: %d nodes replaced in one step of %s", step, changed-replaced, 30*time.Second)
				}
				replaced = changed
				clk.Advance(30 * time.Second)
			}
			if replaced != tc.want {
				t.Fatalf("replaced %d nodes, want %d", replaced, tc.want)
			}
			clk.Advance(nodeReadyMax)
			st := srv.Dump()
			for _, n := range st.Clusters[c.ID].Pools[0].Nodes {
				if n.Status != "ready" {
					t.Errorf("node %s not ready at the end", n.ID)
				}
				if slices.Contains(before, n.ID) == (n.K8sVersion == "1.34") {
					t.Errorf("node %s: version %s (old node: %v)", n.ID, n.K8sVersion, slices.Contains(before, n.ID))
				}
			}
			var recycled int
			for _, e := range st.Events {
				if e.Action == "lke_node_recycle" {
					recycled++
				}
			}
			if recycled != tc.want {
				t.Errorf("%d lke_node_recycle events, want %d", recycled, tc.want)
			}
		})
	}
}

func TestLKEValidation(t *testing.T) {
	t.Parallel()
	_, client, _ := newManual(t)
	mustCluster(t, client, "taken", 1)
	pool := []linodego.LKENodePoolCreateOptions{{Count: 1, Type: "g6-standard-2"}}
	for _, tc := range []struct {
		name  string
		opts  linodego.LKEClusterCreateOptions
		field string
	}{
		{"duplicate label", linodego.LKEClusterCreateOptions{Label: "taken", Region: "us-ord", K8sVersion: "1.33", NodePools: pool}, "label"},
		{"long label", linodego.LKEClusterCreateOptions{Label: strings.Repeat("x", 33), Region: "us-ord", K8sVersion: "1.33", NodePools: pool}, "label"},
		{"missing label", linodego.LKEClusterCreateOptions{Region: "us-ord", K8sVersion: "1.33", NodePools: pool}, "label"},
		{"missing region", linodego.LKEClusterCreateOptions{Label: "a", K8sVersion: "1.33", NodePools: pool}, "region"},
		{"unknown region", linodego.LKEClusterCreateOptions{Label: "a", Region: "mars-1", K8sVersion: "1.33", NodePools: pool}, "region"},
		{"missing version", linodego.LKEClusterCreateOptions{Label: "a", Region: "us-ord", NodePools: pool}, "k8s_version"},
		{"unknown version", linodego.LKEClusterCreateOptions{Label: "a", Region: "us-ord", K8sVersion: "1.20", NodePools: pool}, "k8s_version"},
		{"no pools", linodego.LKEClusterCreateOptions{Label: "a", Region: "us-ord", K8sVersion: "1.33"}, "node_pools"},
		{"count 0", linodego.LKEClusterCreateOptions{Label: "a", Region: "us-ord", K8sVersion: "1.33", NodePools: []linodego.LKENodePoolCreateOptions{{Count: 0, Type: "g6-standard-2"}}}, "node_pools[0].count"},
		{"count 101", linodego.LKEClusterCreateOptions{Label: "a", Region: "us-ord", K8sVersion: "1.33", NodePools: []linodego.LKENodePoolCreateOptions{{Count: 101, Type: "g6-standard-2"}}}, "node_pools[0].count"},
		{"unknown type", linodego.LKEClusterCreateOptions{Label: "a", Region: "us-ord", K8sVersion: "1.33", NodePools: []linodego.LKENodePoolCreateOptions{{Count: 1, Type: "g9-huge"}}}, "node_pools[0].type"},
		{"bad taint", linodego.LKEClusterCreateOptions{Label: "a", Region: "us-ord", K8sVersion: "1.33", NodePools: []linodego.LKENodePoolCreateOptions{{Count: 1, Type: "g6-standard-2", Taints: []linodego.LKENodePoolTaint{{Key: "k", Effect: "Sometimes"}}}}}, "node_pools[0].taints[0].effect"},
		{"enterprise where unavailable", linodego.LKEClusterCreateOptions{Label: "a", Region: "eu-west", K8sVersion: "v1.33.4+lke1", Tier: "enterprise", NodePools: pool}, "region"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := client.CreateLKECluster(t.Context(), tc.opts)
			lerr := wantAPIError(t, err, http.StatusBadRequest)
			if !hasField(lerr, tc.field) {
				t.Errorf("error %q does not name field %q", lerr.Message, tc.field)
			}
		})
	}
}

func TestLKEUpdateRules(t *testing.T) {
	t.Parallel()
	_, client, _ := newManual(t)
	ctx := t.Context()
	c := mustCluster(t, client, "rules", 1)
	other := mustCluster(t, client, "other", 1)
	for _, tc := range []struct {
		name string
		opts linodego.LKEClusterUpdateOptions
	}{
		{"downgrade", linodego.LKEClusterUpdateOptions{K8sVersion: "1.32"}},
		{"skip a minor", linodego.LKEClusterUpdateOptions{K8sVersion: "1.35"}},
		{"label taken", linodego.LKEClusterUpdateOptions{Label: other.Label}},
	} {
		_, err := client.UpdateLKECluster(ctx, c.ID, tc.opts)
		wantAPIError(t, err, http.StatusBadRequest)
	}
	if _, err := client.UpdateLKECluster(ctx, c.ID, linodego.LKEClusterUpdateOptions{ControlPlane: &linodego.LKEClusterControlPlaneOptions{HighAvailability: ptr(true)}}); err != nil {
		t.Fatal(err)
	}
	_, err := client.UpdateLKECluster(ctx, c.ID, linodego.LKEClusterUpdateOptions{ControlPlane: &linodego.LKEClusterControlPlaneOptions{HighAvailability: ptr(false)}})
	wantAPIError(t, err, http.StatusBadRequest)
}

func TestLKEClusterExtras(t *testing.T) {
	t.Parallel()
	srv, client, _ := newManual(t)
	ctx := t.Context()
	c := mustCluster(t, client, "extras", 1)

	acl, err := client.UpdateLKEClusterControlPlaneACL(ctx, c.ID, linodego.LKEClusterControlPlaneACLUpdateOptions{
		ACL: linodego.LKEClusterControlPlaneACLOptions{Enabled: ptr(true), Addresses: &linodego.LKEClusterControlPlaneACLAddressesOptions{IPv4: &[]string{"203.0.113.0/24"}}},
	})
	if err != nil || !acl.ACL.Enabled || acl.ACL.Addresses.IPv4[0] != "203.0.113.0/24" || acl.ACL.RevisionID == "" {
		t.Fatalf("update ACL = %+v, %v", acl, err)
	}
	got, err := client.GetLKEClusterControlPlaneACL(ctx, c.ID)
	if err != nil || !got.ACL.Enabled {
		t.Fatalf("get ACL = %+v, %v", got, err)
	}
	_, err = client.UpdateLKEClusterControlPlaneACL(ctx, c.ID, linodego.LKEClusterControlPlaneACLUpdateOptions{
		ACL: linodego.LKEClusterControlPlaneACLOptions{Addresses: &linodego.LKEClusterControlPlaneACLAddressesOptions{IPv4: &[]string{"300.1.1.1"}}},
	})
	wantAPIError(t, err, http.StatusBadRequest)
	if err := client.DeleteLKEClusterControlPlaneACL(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := client.GetLKEClusterControlPlaneACL(ctx, c.ID); got.ACL.Enabled {
		t.Error("ACL still enabled after delete")
	}

	eps, err := client.ListLKEClusterAPIEndpoints(ctx, c.ID, nil)
	if err != nil || len(eps) != 4 || !strings.HasSuffix(eps[0].Endpoint, ".us-ord.linodelke.net:443") {
		t.Fatalf("endpoints = %+v, %v", eps, err)
	}
	dash, err := client.GetLKEClusterDashboard(ctx, c.ID)
	if err != nil || !strings.HasPrefix(dash.URL, "https://") {
		t.Fatalf("dashboard = %+v, %v", dash, err)
	}
	if _, err := client.RegenerateLKECluster(ctx, c.ID, linodego.LKEClusterRegenerateOptions{KubeConfig: true, ServiceToken: true}); err != nil {
		t.Fatal(err)
	}
	if err := client.DeleteLKEClusterServiceToken(ctx, c.ID); err != nil {
		t.Fatal(err)
	}

	versions, err := client.ListLKEVersions(ctx, nil)
	if err != nil || len(versions) == 0 {
		t.Fatalf("versions = %v, %v", versions, err)
	}
	if v, err := client.GetLKEVersion(ctx, versions[0].ID); err != nil || v.ID != versions[0].ID {
		t.Fatalf("version = %v, %v", v, err)
	}
	_, err = client.GetLKEVersion(ctx, "0.1")
	wantAPIError(t, err, http.StatusNotFound)
	tv, err := client.ListLKETierVersions(ctx, "enterprise", nil)
	if err != nil || len(tv) == 0 || tv[0].Tier != linodego.LKEVersionEnterprise {
		t.Fatalf("tier versions = %v, %v", tv, err)
	}
	if v, err := client.GetLKETierVersion(ctx, "standard", "1.33"); err != nil || v.Tier != "standard" {
		t.Fatalf("tier version = %v, %v", v, err)
	}
	types, err := client.ListLKETypes(ctx, nil)
	if err != nil || len(types) != 3 {
		t.Fatalf("lke types = %v, %v", types, err)
	}

	var actions []string
	for _, e := range srv.Dump().Events {
		actions = append(actions, e.Action)
	}
	for _, want := range []string{"lke_cluster_create", "lke_node_create", "lke_control_plane_acl_update", "lke_control_plane_acl_delete", "lke_cluster_regenerate", "lke_token_rotate"} {
		if !slices.Contains(actions, want) {
			t.Errorf("no %s event in %v", want, actions)
		}
	}
}

func TestEnterpriseCluster(t *testing.T) {
	t.Parallel()
	srv, client, clk := newManual(t)
	ctx := t.Context()
	c, err := client.CreateLKECluster(ctx, linodego.LKEClusterCreateOptions{
		Label: "ent", Region: "us-east", K8sVersion: "v1.33.4+lke1", Tier: "enterprise",
		NodePools: []linodego.LKENodePoolCreateOptions{{Count: 1, Type: "g6-dedicated-4", K8sVersion: ptr("v1.32.8+lke2"), UpdateStrategy: ptr(linodego.LKENodePoolRollingUpdate)}},
	})
	if err != nil || c.Tier != "enterprise" || !c.ControlPlane.HighAvailability {
		t.Fatalf("create = %+v, %v", c, err)
	}
	// The enterprise kubeconfig 503 carries Retry-After.
	resp := do(t, srv, "GET", "/v4beta/lke/clusters/"+strconv.Itoa(c.ID)+"/kubeconfig", nil, nil)
	if resp.status != http.StatusServiceUnavailable || resp.header.Get("Retry-After") != enterpriseRetry {
		t.Fatalf("kubeconfig = %d Retry-After %q", resp.status, resp.header.Get("Retry-After"))
	}
	clk.Advance(clusterReadyMax + enterpriseExtra)
	if _, err := client.GetLKEClusterKubeconfig(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	pools, _ := client.ListLKENodePools(ctx, c.ID, nil)
	p, err := client.GetLKENodePool(ctx, c.ID, pools[0].ID)
	if err != nil || *p.K8sVersion != "v1.32.8+lke2" || *p.UpdateStrategy != linodego.LKENodePoolRollingUpdate {
		t.Fatalf("pool = %+v, %v", p, err)
	}
}

// TestTimingsDependOnLabelOnly checks that a cluster's life-cycle timings
// are drawn from (seed, label) alone: creating other clusters first, as
// concurrent tests do in an order nobody controls, changes none of them.
func TestTimingsDependOnLabelOnly(t *testing.T) {
	t.Parallel()
	offsets := func(others ...string) []time.Duration {
		srv, client, _ := newManual(t)
		for _, o := range others {
			mustCluster(t, client, o, 3)
		}
		c := mustCluster(t, client, "subject", 2, 3)
		var out []time.Duration
		for _, sc := range srv.Dump().Clusters {
			if sc.ID != c.ID {
				continue
			}
			out = append(out, sc.ReadyAt.Sub(sc.Created))
			for _, p := range sc.Pools {
				for _, n := range p.Nodes {
					out = append(out, n.ReadyAt.Sub(n.Created))
				}
			}
		}
		return out
	}
	alone, after := offsets(), offsets("first", "second", "third")
	if len(alone) != 6 || !slices.Equal(alone, after) {
		t.Errorf("timings alone %v, after other clusters %v", alone, after)
	}
}
