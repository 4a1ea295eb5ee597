package cluster

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/linode/linodego"
	"go.uber.org/zap"

	"github.com/org/platform/internal/poll"
	"github.com/org/platform/pkg/change"
)

// Writes. POSTs that create are sent once: on any error the caller re-reads
// and re-plans, finding what a lost response created. PUTs and DELETEs are
// idempotent and retried in place; a DELETE answered 404 succeeded.

func (r *run) createCluster(ctx context.Context, opts linodego.LKEClusterCreateOptions) error {
	r.log.Info("creating LKE cluster", zap.String("region", opts.Region), zap.String("k8sVersion", opts.K8sVersion), zap.Int("pools", len(opts.NodePools)))
	c, err := r.api.CreateLKECluster(ctx, opts)
	if err != nil {
		return fmt.Errorf("create LKE cluster %q: %w", opts.Label, err)
	}
	r.log.Info("created LKE cluster", zap.Int("clusterID", c.ID))
	return nil
}

func (r *run) createPool(ctx context.Context, clusterID int, opts linodego.LKENodePoolCreateOptions) (*linodego.LKENodePool, error) {
	name, _ := poolName(opts.Tags)
	r.log.Info("creating node pool", zap.String("pool", name), zap.String("type", opts.Type), zap.Int("count", opts.Count))
	p, err := r.api.CreateLKENodePool(ctx, clusterID, opts)
	if err != nil {
		return nil, fmt.Errorf("create node pool %q of LKE cluster %q: %w", name, r.d.label, err)
	}
	r.log.Info("created node pool", zap.String("pool", name), zap.Int("poolID", p.ID))
	return p, nil
}

func (r *run) updateCluster(ctx context.Context, clusterID int, opts linodego.LKEClusterUpdateOptions) error {
	r.log.Info("updating LKE cluster", zap.Int("clusterID", clusterID))
	err := retry(ctx, r.o, r.log, "update LKE cluster", func(ctx context.Context) error {
		_, err := r.api.UpdateLKECluster(ctx, clusterID, opts)
		return err
	})
	if err != nil {
		return fmt.Errorf("update LKE cluster %q: %w", r.d.label, err)
	}
	return nil
}

func (r *run) putACL(ctx context.Context, clusterID int, v4, v6 []string) error {
	on := true
	opts := linodego.LKEClusterControlPlaneACLUpdateOptions{ACL: linodego.LKEClusterControlPlaneACLOptions{
		Enabled:   &on,
		Addresses: &linodego.LKEClusterControlPlaneACLAddressesOptions{IPv4: &v4, IPv6: &v6},
	}}
	r.log.Info("updating control plane ACL", zap.Strings("ipv4", v4), zap.Strings("ipv6", v6))
	err := retry(ctx, r.o, r.log, "update LKE control plane ACL", func(ctx context.Context) error {
		_, err := r.api.UpdateLKEClusterControlPlaneACL(ctx, clusterID, opts)
		return err
	})
	if err != nil {
		return fmt.Errorf("update control plane ACL of LKE cluster %q: %w", r.d.label, err)
	}
	return nil
}

func (r *run) updatePool(ctx context.Context, clusterID, poolID int, opts linodego.LKENodePoolUpdateOptions) error {
	r.log.Info("updating node pool", zap.Int("poolID", poolID))
	err := retry(ctx, r.o, r.log, "update LKE node pool", func(ctx context.Context) error {
		_, err := r.api.UpdateLKENodePool(ctx, clusterID, poolID, opts)
		return err
	})
	if err != nil {
		return fmt.Errorf("update node pool %d of LKE cluster %q: %w", poolID, r.d.label, err)
	}
	return nil
}

func (r *run) deletePool(ctx context.Context, clusterID, poolID int) error {
	r.log.Info("deleting node pool", zap.Int("poolID", poolID))
	err := retry(ctx, r.o, r.log, "delete LKE node pool", func(ctx context.Context) error {
		err := r.api.DeleteLKENodePool(ctx, clusterID, poolID)
		if linodego.ErrHasStatus(err, http.StatusNotFound) {
			return nil // gone already: what we wanted
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("delete node pool %d of LKE cluster %q: %w", poolID, r.d.label, err)
	}
	return nil
}

// retire waits until pool keepID has all its nodes ready, then deletes the
// pools it replaces, so capacity never drops below what it was.
func (r *run) retire(ctx context.Context, clusterID int, name string, keepID int, old []linodego.LKENodePool) error {
	if err := r.waitPool(ctx, clusterID, name, keepID); err != nil {
		return err
	}
	for _, p := range old {
		if err := r.deletePool(ctx, clusterID, p.ID); err != nil {
			return err
		}
	}
	return nil
}

// waitPool polls the cluster's pool list until pool poolID is ready.
func (r *run) waitPool(ctx context.Context, clusterID int, name string, poolID int) error {
	w := newWaiter(r.o, r.log, clusterID, StagePool)
	err := w.until(ctx, func(ctx context.Context) (bool, error) {
		pools, err := r.api.ListLKENodePools(ctx, clusterID, nil)
		if err != nil {
			return false, err
		}
		i := slices.IndexFunc(pools, func(p linodego.LKENodePool) bool { return p.ID == poolID })
		if i < 0 {
			return false, fmt.Errorf("node pool %q (id %d) disappeared: %w", name, poolID, change.ErrNotFound)
		}
		p := pools[i]
		w.report(readyNodes(p), p.Count)
		return poolReady(p), nil
	})
	if err != nil {
		return fmt.Errorf("wait for node pool %q (id %d) of LKE cluster %q: %w", name, poolID, r.d.label, err)
	}
	return nil
}

// upgrade raises the cluster's version (when setVersion), replaces every
// node and waits until the upgrade is complete: every node present when it
// began has been replaced by a new one, every node is ready, and, with a
// NodeVersionChecker, every kubelet reports the new version. UpgradeTag
// marks the cluster from the version change until the end, so an upgrade
// cut short is resumed by the next EnsureCluster.
func (r *run) upgrade(ctx context.Context, clusterID int, setVersion bool) error {
	d := r.d
	pools, err := listPools(ctx, r.api, r.o, r.log, clusterID)
	if err != nil {
		return err
	}
	before := map[string]bool{}
	for _, p := range pools {
		for _, n := range p.Linodes {
			before[n.ID] = true
		}
	}
	marked := append(slices.Clone(d.tags), UpgradeTag)
	if setVersion {
		r.log.Info("upgrading LKE cluster", zap.String("k8sVersion", d.version), zap.Int("nodes", len(before)))
		if err := r.updateCluster(ctx, clusterID, linodego.LKEClusterUpdateOptions{K8sVersion: d.version, Tags: &marked}); err != nil {
			return err
		}
	} else {
		r.log.Info("resuming interrupted upgrade", zap.String("k8sVersion", d.version), zap.Int("nodes", len(before)))
	}
	if err := r.recycle(ctx, clusterID, before); err != nil {
		return err
	}
	if err := r.waitReplaced(ctx, clusterID, before); err != nil {
		return err
	}
	if r.o.checker != nil {
		if err := r.waitKubelets(ctx, clusterID); err != nil {
			return err
		}
	}
	tags := slices.Clone(d.tags)
	if err := r.updateCluster(ctx, clusterID, linodego.LKEClusterUpdateOptions{Tags: &tags}); err != nil {
		return err
	}
	r.log.Info("upgraded LKE cluster", zap.String("k8sVersion", d.version))
	return nil
}

// recycle asks LKE to replace every node. The request is a POST, so it is
// not repeated blindly: after a transient failure the pools are read, and
// a node that was not there before shows the recycle began.
func (r *run) recycle(ctx context.Context, clusterID int, before map[string]bool) error {
	return poll.Retry(ctx, r.o.retryPolicy(), func(ctx context.Context) error {
		err := r.api.RecycleLKEClusterNodes(ctx, clusterID)
		if err == nil {
			return nil
		}
		if t, _ := poll.Transient(err); !t {
			return fmt.Errorf("recycle nodes of LKE cluster %q: %w", r.d.label, err)
		}
		pools, lerr := listPools(ctx, r.api, r.o, r.log, clusterID)
		if lerr != nil {
			return lerr
		}
		for _, p := range pools {
			for _, n := range p.Linodes {
				if !before[n.ID] {
					r.log.Debug("recycle began although its response was lost")
					return nil
				}
			}
		}
		return err // not begun: transient, so Retry sends it again
	})
}

// waitReplaced polls the pool list until no node of before is left and
// every pool has all its nodes ready.
func (r *run) waitReplaced(ctx context.Context, clusterID int, before map[string]bool) error {
	w := newWaiter(r.o, r.log, clusterID, StageUpgrade)
	err := w.until(ctx, func(ctx context.Context) (bool, error) {
		pools, err := r.api.ListLKENodePools(ctx, clusterID, nil)
		if err != nil {
			return false, err
		}
		total, done := 0, 0
		complete := true
		for _, p := range pools {
			total += max(p.Count, len(p.Linodes))
			for _, n := range p.Linodes {
				if !before[n.ID] && n.Status == linodego.LKELinodeReady {
					done++
				} else {
					complete = false
				}
			}
			if len(p.Linodes) != p.Count {
				complete = false
			}
		}
		w.report(done, total)
		return complete, nil
	})
	if err != nil {
		return fmt.Errorf("wait for nodes of LKE cluster %q to be replaced: %w", r.d.label, err)
	}
	return nil
}

// waitKubelets asks the NodeVersionChecker until every node reports the
// spec's version.
func (r *run) waitKubelets(ctx context.Context, clusterID int) error {
	want := "v" + r.d.version
	w := newWaiter(r.o, r.log, clusterID, StageKubelets)
	err := w.until(ctx, func(ctx context.Context) (bool, error) {
		kc, err := kubeconfig(ctx, r.api, clusterID)
		if err != nil {
			return false, err
		}
		versions, err := r.o.checker.KubeletVersions(ctx, kc)
		if err != nil {
			r.log.Debug("reading kubelet versions", zap.Error(err))
			return false, nil // the API may be restarting during an upgrade
		}
		ok := 0
		for _, v := range versions {
			if v == want || strings.HasPrefix(v, want+".") {
				ok++
			}
		}
		w.report(ok, len(versions))
		return len(versions) > 0 && ok == len(versions), nil
	})
	if err != nil {
		return fmt.Errorf("wait for kubelets of LKE cluster %q to report %s: %w", r.d.label, want, err)
	}
	return nil
}

// isRetryable says whether the reconcile loop should re-read and re-plan
// after a step failed with err.
func isRetryable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	t, _ := poll.Transient(err)
	return t
}
