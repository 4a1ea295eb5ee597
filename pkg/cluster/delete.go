package cluster

import (
	"context"
	"fmt"
	"net/http"

	"github.com/linode/linodego"
	"go.uber.org/zap"

	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/spec"
)

// DeleteCluster deletes the LKE cluster of env (found by its label) and
// waits until the API no longer knows it (GET answers 404). A cluster that
// does not exist, or is gone by the time the DELETE arrives, is success:
// the Result then lists no change. A cluster without the ownership tag
// ClusterTagPrefix+<environment> was not made or adopted by EnsureCluster
// and is not deleted (error wrapping change.ErrConflict), nor are two
// clusters with the label. Only the environment's name and cluster label
// are needed; the rest of env is not validated.
func DeleteCluster(ctx context.Context, api LKEAPI, env spec.Environment, opts ...Option) (res Result, err error) {
	o, err := newOptions(opts)
	if err != nil {
		return Result{}, err
	}
	env = withDefaults(env)
	label := env.Cluster.Label
	if label == "" {
		return Result{}, fmt.Errorf("delete LKE cluster: %w", spec.FieldErrors{{Path: "cluster.label", Message: "required (or a name to derive it from)"}})
	}
	log := o.logger.With(zap.String("cluster", label))
	start := o.clock.Now()
	res = Result{Label: label}
	defer func() { res.Elapsed = o.clock.Now().Sub(start) }()

	c, err := findCluster(ctx, api, label)
	if err != nil {
		return res, fmt.Errorf("delete LKE cluster %q: %w", label, err)
	}
	if c == nil {
		log.Info("LKE cluster already gone")
		return res, nil
	}
	res.ID = c.ID
	if owner := ClusterTagPrefix + env.Name; !hasTag(c.Tags, owner) {
		return res, fmt.Errorf("delete LKE cluster %q (id %d): it lacks the ownership tag %q: %w", label, c.ID, owner, change.ErrConflict)
	}
	log.Info("deleting LKE cluster", zap.Int("clusterID", c.ID))
	// A DELETE answered 404 succeeded (an earlier attempt, repeated by the
	// client after its answer was lost, had deleted it).
	if err := api.DeleteLKECluster(ctx, c.ID); err != nil && !linodego.ErrHasStatus(err, http.StatusNotFound) {
		return res, fmt.Errorf("delete LKE cluster %q (id %d): %w", label, c.ID, err)
	}
	res.Add(change.Change{Layer: change.LayerLinode, Object: "lke/" + label, Op: change.Delete,
		From: fmt.Sprintf("%s, Kubernetes %s (id %d)", c.Region, c.K8sVersion, c.ID)})

	w := newWaiter(o, log, c.ID, StageDelete)
	err = w.until(ctx, func(ctx context.Context) (bool, error) {
		_, err := api.GetLKECluster(ctx, c.ID)
		if linodego.ErrHasStatus(err, http.StatusNotFound) {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		w.report(0, 1)
		return false, nil
	})
	if err != nil {
		return res, fmt.Errorf("wait for LKE cluster %q (id %d) to be gone: %w", label, c.ID, err)
	}
	return res, nil
}
