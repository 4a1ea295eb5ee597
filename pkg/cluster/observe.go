package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/linode/linodego"
	"go.uber.org/zap"

	"github.com/org/platform/internal/poll"
	"github.com/org/platform/pkg/change"
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
	log *zap.Logger
}

func newRun(api LKEAPI, o *options, d *desiredCluster) *run {
	return &run{api: api, o: o, d: d, log: o.logger.With(zap.String("cluster", d.label))}
}

// pollPolicy is how often to look at something that is not ready yet.
func (o *options) pollPolicy() poll.Policy {
	return poll.Policy{Interval: o.pollInterval, MaxInterval: o.maxPollInterval, Multiplier: 1.5, Clock: o.clock}
}

// retryPolicy is how soon to repeat a request that failed transiently
// (unless the server said when, with Retry-After).
func (o *options) retryPolicy() poll.Policy {
	return poll.Policy{Interval: min(time.Second, o.pollInterval), MaxInterval: o.maxPollInterval, Multiplier: 2, Clock: o.clock}
}

// retry runs a read or an idempotent write (PUT, DELETE) until it succeeds,
// fails for good, or ctx ends; transient failures are logged at debug level.
func retry(ctx context.Context, o *options, log *zap.Logger, what string, fn func(ctx context.Context) error) error {
	return poll.Retry(ctx, o.retryPolicy(), func(ctx context.Context) error {
		err := fn(ctx)
		if t, after := poll.Transient(err); t {
			log.Debug("transient Linode API error, retrying", zap.String("request", what), zap.Duration("retryAfter", after), zap.Error(err))
		}
		return err
	})
}

// labelFilter is the X-Filter that selects clusters by label, so finding a
// cluster costs one small request whatever the account holds.
func labelFilter(label string) (*linodego.ListOptions, error) {
	b, err := json.Marshal(map[string]string{"label": label})
	if err != nil {
		return nil, err
	}
	return &linodego.ListOptions{Filter: string(b)}, nil
}

// findCluster returns the cluster labelled label, nil if there is none, and
// an error wrapping change.ErrConflict if there are several.
func findCluster(ctx context.Context, api LKEAPI, o *options, log *zap.Logger, label string) (*linodego.LKECluster, error) {
	lo, err := labelFilter(label)
	if err != nil {
		return nil, fmt.Errorf("list LKE clusters labelled %q: %w", label, err)
	}
	var all []linodego.LKECluster
	err = retry(ctx, o, log, "list LKE clusters", func(ctx context.Context) error {
		var err error
		all, err = api.ListLKEClusters(ctx, lo)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list LKE clusters labelled %q: %w", label, err)
	}
	// The filter is a request, not a promise: check the label here too.
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
func listPools(ctx context.Context, api LKEAPI, o *options, log *zap.Logger, clusterID int) ([]linodego.LKENodePool, error) {
	var pools []linodego.LKENodePool
	err := retry(ctx, o, log, "list LKE node pools", func(ctx context.Context) error {
		var err error
		pools, err = api.ListLKENodePools(ctx, clusterID, nil)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list node pools of LKE cluster %d: %w", clusterID, err)
	}
	return pools, nil
}

// observe reads the cluster, its pools and its control-plane ACL: three
// requests for an existing cluster, one for a missing one (plus one per
// owned pool whose firewall the list does not show, with WithFirewallID).
func (r *run) observe(ctx context.Context) (*observed, error) {
	c, err := findCluster(ctx, r.api, r.o, r.log, r.d.label)
	if err != nil {
		return nil, err
	}
	obs := &observed{cluster: c}
	if c == nil {
		return obs, nil
	}
	if obs.pools, err = listPools(ctx, r.api, r.o, r.log, c.ID); err != nil {
		return nil, err
	}
	if r.o.firewallID != nil {
		// The API leaves firewall_id out of list items; read it per pool
		// where it is missing, and only for pools that are ours.
		for i, p := range obs.pools {
			if _, ours := poolName(p.Tags); !ours || p.FirewallID != nil {
				continue
			}
			var full *linodego.LKENodePool
			err := retry(ctx, r.o, r.log, "get LKE node pool", func(ctx context.Context) error {
				var err error
				full, err = r.api.GetLKENodePool(ctx, c.ID, p.ID)
				return err
			})
			if err != nil {
				return nil, fmt.Errorf("get node pool %d of LKE cluster %q: %w", p.ID, r.d.label, err)
			}
			obs.pools[i].FirewallID = full.FirewallID
		}
	}
	err = retry(ctx, r.o, r.log, "get LKE control plane ACL", func(ctx context.Context) error {
		resp, err := r.api.GetLKEClusterControlPlaneACL(ctx, c.ID)
		if linodego.ErrHasStatus(err, http.StatusNotFound) {
			obs.acl = linodego.LKEClusterControlPlaneACL{} // no ACL configured
			return nil
		}
		if err != nil {
			return err
		}
		obs.acl = resp.ACL
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("get control plane ACL of LKE cluster %q: %w", r.d.label, err)
	}
	return obs, nil
}
