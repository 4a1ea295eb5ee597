package cluster

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/linode/linodego"
	"go.uber.org/zap"

	"github.com/org/platform/internal/poll"
	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/spec"
)

// observed is what the API holds for one cluster label.
type observed struct {
	cluster *linodego.LKECluster // nil when there is none
	pools   []linodego.LKENodePool
	acl     linodego.LKEClusterControlPlaneACL
}

// run carries one call's inputs.
type run struct {
	api LKEAPI
	o   *options
	d   *desiredCluster
	p   Placement
	log *zap.Logger
}

func newRun(api LKEAPI, o *options, d *desiredCluster, p Placement) *run {
	return &run{api: api, o: o, d: d, p: p, log: o.logger.With(zap.String("cluster", d.label))}
}

// pollPolicy is how often to look at something that is not ready yet.
func (o *options) pollPolicy() poll.Policy {
	return poll.Policy{Interval: o.pollInterval, MaxInterval: o.maxPollInterval, Multiplier: 1.5, Clock: o.clock}
}

// retryPause is the first wait before the reconcile loop reads again after
// a step failed transiently (unless the server said when, with
// Retry-After). Repeating a single read, PUT or DELETE is the linodego
// client's job (see pkg/linodeclient), not this package's.
func (o *options) retryPause() time.Duration { return min(time.Second, o.pollInterval) }

// Target is one cluster Observe reads: its label, and whether the caller
// attaches its pools to a firewall (then a listed pool whose firewall_id the
// list leaves out is read on its own: older API versions omit it from list
// items, and guessing "detached" would write to production on every run).
type Target struct {
	Label    string
	Firewall bool
}

// TargetOf returns the Target of env's cluster (its label with defaults
// applied) for placement p.
func TargetOf(env spec.Environment, p Placement) Target {
	env = withDefaults(env)
	return Target{Label: env.Cluster.Label, Firewall: !p.FirewallID.IsZero()}
}

// Observation is what the Linode API holds for a set of clusters, read by
// Observe and planned from by PlanFrom. Reading many clusters at once costs
// one filtered list for all of them, plus, per existing cluster, what the
// API keeps apart: its pool list and its control-plane ACL.
type Observation struct {
	byLabel map[string]*observed
	errs    map[string]error // per label: two clusters with it, for example
}

// ClusterID returns the id of the cluster labelled label, 0 when there is
// none (or it was not observed).
func (o Observation) ClusterID(label string) int {
	if ob := o.byLabel[label]; ob != nil && ob.cluster != nil {
		return ob.cluster.ID
	}
	return 0
}

// get returns what was observed for label.
func (o Observation) get(label string) (*observed, error) {
	if err := o.errs[label]; err != nil {
		return nil, err
	}
	if ob, ok := o.byLabel[label]; ok {
		return ob, nil
	}
	return nil, fmt.Errorf("LKE cluster %q was not observed", label)
}

// Observe reads the clusters of targets: one list of the clusters with
// those labels (linodego.Filter, "+or" for several), then for each one that
// exists its pools and its control-plane ACL. Two clusters with one label
// are not an error of the whole observation: planning that cluster fails
// with change.ErrConflict.
func Observe(ctx context.Context, api LKEAPI, targets []Target, opts ...Option) (Observation, error) {
	// The options are checked (a bad one fails the call) though a read uses
	// none of them: the client repeats a failed request (pkg/linodeclient).
	if _, err := newOptions(opts); err != nil {
		return Observation{}, err
	}
	return observe(ctx, api, targets)
}

func observe(ctx context.Context, api LKEAPI, targets []Target) (Observation, error) {
	obs := Observation{byLabel: map[string]*observed{}, errs: map[string]error{}}
	if len(targets) == 0 {
		return obs, nil
	}
	f := linodego.Filter{}
	if len(targets) > 1 {
		f.Operator = "+or"
	}
	want := map[string]Target{}
	for _, t := range targets {
		if _, dup := want[t.Label]; !dup {
			f.AddField(linodego.Eq, "label", t.Label)
		}
		want[t.Label] = t
	}
	b, err := f.MarshalJSON()
	if err != nil {
		return obs, fmt.Errorf("list LKE clusters: %w", err)
	}
	all, err := api.ListLKEClusters(ctx, &linodego.ListOptions{Filter: string(b)})
	if err != nil {
		return obs, fmt.Errorf("list LKE clusters: %w", err)
	}
	// The filter is a request, not a promise: check the label here too.
	found := map[string][]linodego.LKECluster{}
	for _, c := range all {
		if _, ok := want[c.Label]; ok {
			found[c.Label] = append(found[c.Label], c)
		}
	}
	for label, t := range want {
		cs := found[label]
		switch len(cs) {
		case 0:
			obs.byLabel[label] = &observed{}
		case 1:
			ob, err := observeCluster(ctx, api, &cs[0], t.Firewall)
			if err != nil {
				return obs, err
			}
			obs.byLabel[label] = ob
		default:
			ids := make([]int, len(cs))
			for i, c := range cs {
				ids[i] = c.ID
			}
			obs.errs[label] = fmt.Errorf("find LKE cluster %q: %d clusters have this label (ids %v): %w", label, len(cs), ids, change.ErrConflict)
		}
	}
	return obs, nil
}

// findCluster returns the cluster labelled label, nil if there is none, and
// an error wrapping change.ErrConflict if there are several.
func findCluster(ctx context.Context, api LKEAPI, label string) (*linodego.LKECluster, error) {
	f := linodego.Filter{}
	f.AddField(linodego.Eq, "label", label)
	b, err := f.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("list LKE clusters labelled %q: %w", label, err)
	}
	all, err := api.ListLKEClusters(ctx, &linodego.ListOptions{Filter: string(b)})
	if err != nil {
		return nil, fmt.Errorf("list LKE clusters labelled %q: %w", label, err)
	}
	var found []linodego.LKECluster
	for _, c := range all {
		if c.Label == label {
			found = append(found, c)
		}
	}
	switch len(found) {
	case 0:
		return nil, nil
	case 1:
		return &found[0], nil
	default:
		ids := make([]int, len(found))
		for i, c := range found {
			ids[i] = c.ID
		}
		return nil, fmt.Errorf("find LKE cluster %q: %d clusters have this label (ids %v): %w", label, len(found), ids, change.ErrConflict)
	}
}

// listPools returns every pool of the cluster, with its nodes.
func listPools(ctx context.Context, api LKEAPI, clusterID int) ([]linodego.LKENodePool, error) {
	pools, err := api.ListLKENodePools(ctx, clusterID, nil)
	if err != nil {
		return nil, fmt.Errorf("list node pools of LKE cluster %d: %w", clusterID, err)
	}
	return pools, nil
}

// observeCluster reads what the API keeps apart from the cluster list: the
// cluster's pools (plus, with firewall, each owned pool whose firewall_id
// the list leaves out) and its control-plane ACL.
func observeCluster(ctx context.Context, api LKEAPI, c *linodego.LKECluster, firewall bool) (*observed, error) {
	obs := &observed{cluster: c}
	var err error
	if obs.pools, err = listPools(ctx, api, c.ID); err != nil {
		return nil, err
	}
	if firewall {
		for i, p := range obs.pools {
			if _, ours := poolName(p.Tags); !ours || p.FirewallID != nil {
				continue
			}
			full, err := api.GetLKENodePool(ctx, c.ID, p.ID)
			if err != nil {
				return nil, fmt.Errorf("get node pool %d of LKE cluster %q: %w", p.ID, c.Label, err)
			}
			obs.pools[i].FirewallID = full.FirewallID
		}
	}
	resp, err := api.GetLKEClusterControlPlaneACL(ctx, c.ID)
	switch {
	case linodego.ErrHasStatus(err, http.StatusNotFound):
		obs.acl = linodego.LKEClusterControlPlaneACL{} // no ACL configured
	case err != nil:
		return nil, fmt.Errorf("get control plane ACL of LKE cluster %q: %w", c.Label, err)
	default:
		obs.acl = resp.ACL
	}
	return obs, nil
}
