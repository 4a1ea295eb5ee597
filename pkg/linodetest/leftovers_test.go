package linodetest

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/linode/linodego"
)

// What LKE's controllers leave behind outlives the cluster: its
// NodeBalancers stay, its volumes stay detached; both are found by the
// cluster's id in their labels or attachments, listed with X-Filter and
// deleted through the API (a volume once detached).
func TestNodeBalancersAndVolumesOutliveTheirCluster(t *testing.T) {
	t.Parallel()
	srv, client, _ := newManual(t)
	ctx := t.Context()
	c := mustCluster(t, client, "leftovers", 1)
	other := mustCluster(t, client, "other", 1)
	if err := srv.MarkClusterReady(c.ID); err != nil {
		t.Fatal(err)
	}
	nb, err := srv.AttachLoadBalancer(c.ID, "default/web")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.AttachLoadBalancer(other.ID, "default/web"); err != nil {
		t.Fatal(err)
	}
	vol, err := srv.AttachVolume(c.ID, "default/data")
	if err != nil {
		t.Fatal(err)
	}

	prefix := fmt.Sprintf("lke%d-", c.ID)
	nbs, err := client.ListNodeBalancers(ctx, nil)
	if err != nil || len(nbs) != 2 {
		t.Fatalf("list NodeBalancers = %v, %v", nbs, err)
	}
	byLabel, err := client.ListNodeBalancers(ctx, &linodego.ListOptions{Filter: fmt.Sprintf(`{"label":{"+contains":%q}}`, prefix)})
	if err != nil || len(byLabel) != 1 || byLabel[0].ID != nb || !strings.HasPrefix(*byLabel[0].Label, prefix) {
		t.Fatalf("NodeBalancers labelled %s… = %+v, %v", prefix, byLabel, err)
	}
	v, err := client.GetVolume(ctx, vol)
	if err != nil || v.LinodeID == nil || !strings.HasPrefix(v.Label, "pvc") || len(v.Label) != 32 || len(v.Tags) != 0 {
		t.Fatalf("volume = %+v, %v; want a pvc… label, attached, untagged", v, err)
	}
	pools, err := client.ListLKENodePools(ctx, c.ID, nil)
	if err != nil || *v.LinodeID != pools[0].Linodes[0].InstanceID {
		t.Fatalf("volume attached to %d, want the cluster's node (%v)", *v.LinodeID, err)
	}
	err = client.DeleteVolume(ctx, vol)
	wantAPIError(t, err, http.StatusBadRequest)

	if err := client.DeleteLKECluster(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if v, err = client.GetVolume(ctx, vol); err != nil || v.LinodeID != nil {
		t.Fatalf("volume after its cluster was deleted = %+v, %v; want it kept and detached", v, err)
	}
	if _, err := client.GetNodeBalancer(ctx, nb); err != nil {
		t.Fatalf("NodeBalancer after its cluster was deleted: %v; want it kept", err)
	}
	if err := client.DeleteVolume(ctx, vol); err != nil {
		t.Fatal(err)
	}
	if err := client.DeleteNodeBalancer(ctx, nb); err != nil {
		t.Fatal(err)
	}
	st := srv.Dump()
	if len(st.Volumes) != 0 || len(st.NodeBalancers) != 1 {
		t.Errorf("after the deletes: %d volumes, %d NodeBalancers; want 0 and the other cluster's 1", len(st.Volumes), len(st.NodeBalancers))
	}
}

func TestDetachVolume(t *testing.T) {
	t.Parallel()
	srv, client, _ := newManual(t)
	ctx := t.Context()
	c := mustCluster(t, client, "detach", 1)
	if _, err := srv.AttachVolume(c.ID, "db/data"); err == nil {
		t.Error("AttachVolume before any node's Linode exists succeeded")
	}
	if err := srv.MarkClusterReady(c.ID); err != nil {
		t.Fatal(err)
	}
	vol, err := srv.AttachVolume(c.ID, "db/data")
	if err != nil {
		t.Fatal(err)
	}
	if err := client.DetachVolume(ctx, vol); err != nil {
		t.Fatal(err)
	}
	err = client.DetachVolume(ctx, vol)
	wantAPIError(t, err, http.StatusBadRequest)
	if err := client.DeleteVolume(ctx, vol); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.AttachVolume(999, "x/y"); err == nil {
		t.Error("AttachVolume to an unknown cluster succeeded")
	}
}
