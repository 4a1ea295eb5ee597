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

// Writes. Every request is sent once by this package. PUTs and DELETEs are
// idempotent: the linodego client repeats them after a transient failure
// (see pkg/linodeclient), and a DELETE answered 404 succeeded. POSTs are
// not repeated by the client on 500, 502 or a dropped connection: on any
// error the reconcile loop re-reads and re-plans, finding what a lost
// response created; a step whose transient failure outlasted the client's
// retries is settled by that next round too.

// applier carries out the steps of one cluster's plan.
type applier struct {
	api   LKEAPI
	o     *options
	log   *zap.Logger
	label string
}

// ApplyStep carries out one step of a cluster Plan whose Fills are resolved
// (see change.Outputs.Resolve), and records what it made in out: a created
// cluster's id as output "id" of its step, a created pool's id likewise.
// It sends exactly the requests of the step: the step's own request,
// retried in place when it is idempotent, and the reads that waiting for a
// replaced pool or an upgrade needs. A kind this package does not know is
// an error.
func ApplyStep(ctx context.Context, api LKEAPI, s change.Step, out *change.Outputs, opts ...Option) error {
	o, err := newOptions(opts)
	if err != nil {
		return err
	}
	return applyStep(ctx, api, o, s, out)
}

func applyStep(ctx context.Context, api LKEAPI, o *options, s change.Step, out *change.Outputs) error {
	if len(s.Fills) > 0 {
		return fmt.Errorf("apply %s: step has unresolved references", s.ID)
	}
	a := &applier{api: api, o: o, log: o.logger}
	switch s.Kind {
	case kindCreateCluster:
		var act createClusterAction
		if err := s.Decode(&act); err != nil {
			return err
		}
		a.label = act.Options.Label
		id, err := a.createCluster(ctx, act.Options)
		if err != nil {
			return err
		}
		return out.Set(s.ID, "id", id)
	case kindUpdateCluster:
		var act updateClusterAction
		if err := s.Decode(&act); err != nil {
			return err
		}
		a.label = act.Label
		return a.updateCluster(ctx, act.ClusterID, act.Options)
	case kindACL:
		var act aclAction
		if err := s.Decode(&act); err != nil {
			return err
		}
		a.label = act.Label
		return a.putACL(ctx, act.ClusterID, act.IPv4, act.IPv6)
	case kindCreatePool, kindUpdatePool, kindDeletePool, kindReplacePool, kindRetirePools:
		var act poolAction
		if err := s.Decode(&act); err != nil {
			return err
		}
		a.label = act.Label
		return a.pool(ctx, s, act, out)
	case kindUpgrade:
		var act upgradeAction
		if err := s.Decode(&act); err != nil {
			return err
		}
		a.label = act.Label
		return a.upgrade(ctx, act)
	}
	return fmt.Errorf("apply %s: unknown step kind %q", s.ID, s.Kind)
}

func (a *applier) pool(ctx context.Context, s change.Step, act poolAction, out *change.Outputs) error {
	switch s.Kind {
	case kindCreatePool:
		if act.Create == nil {
			return fmt.Errorf("apply %s: no pool to create", s.ID)
		}
		p, err := a.createPool(ctx, act.ClusterID, *act.Create)
		if err != nil {
			return err
		}
		return out.Set(s.ID, "id", p.ID)
	case kindUpdatePool:
		if act.Update == nil {
			return fmt.Errorf("apply %s: no pool update", s.ID)
		}
		return a.updatePool(ctx, act.ClusterID, act.PoolID, *act.Update)
	case kindDeletePool:
		return a.deletePool(ctx, act.ClusterID, act.PoolID)
	case kindReplacePool:
		if act.Create == nil {
			return fmt.Errorf("apply %s: no pool to create", s.ID)
		}
		p, err := a.createPool(ctx, act.ClusterID, *act.Create)
		if err != nil {
			return err
		}
		if err := out.Set(s.ID, "id", p.ID); err != nil {
			return err
		}
		return a.retire(ctx, act.ClusterID, act.Pool, p.ID, act.Old)
	default: // kindRetirePools
		return a.retire(ctx, act.ClusterID, act.Pool, act.Keep, act.Old)
	}
}

func (a *applier) createCluster(ctx context.Context, opts linodego.LKEClusterCreateOptions) (int, error) {
	a.log.Info("creating LKE cluster", zap.String("cluster", opts.Label), zap.String("region", opts.Region), zap.String("k8sVersion", opts.K8sVersion), zap.Int("pools", len(opts.NodePools)))
	c, err := a.api.CreateLKECluster(ctx, opts)
	if err != nil {
		if labelTaken(err) {
			// Another run created it between our read and this request: the
			// next round adopts it; it is not ours to report.
			return 0, fmt.Errorf("create LKE cluster %q: created concurrently by another run: %w: %w", opts.Label, change.ErrConflict, err)
		}
		return 0, fmt.Errorf("create LKE cluster %q: %w", opts.Label, err)
	}
	a.log.Info("created LKE cluster", zap.String("cluster", opts.Label), zap.Int("clusterID", c.ID))
	return c.ID, nil
}

// labelTaken reports whether err is the API's refusal of a label another
// cluster has.
func labelTaken(err error) bool {
	var le *linodego.Error
	if !errors.As(err, &le) || le.Code != http.StatusBadRequest {
		return false
	}
	return strings.Contains(strings.ToLower(le.Message), "label must be unique")
}

func (a *applier) createPool(ctx context.Context, clusterID int, opts linodego.LKENodePoolCreateOptions) (*linodego.LKENodePool, error) {
	name, _ := poolName(opts.Tags)
	a.log.Info("creating node pool", zap.String("cluster", a.label), zap.String("pool", name), zap.String("type", opts.Type), zap.Int("count", opts.Count))
	p, err := a.api.CreateLKENodePool(ctx, clusterID, opts)
	if err != nil {
		return nil, fmt.Errorf("create node pool %q of LKE cluster %q: %w", name, a.label, err)
	}
	a.log.Info("created node pool", zap.String("pool", name), zap.Int("poolID", p.ID))
	return p, nil
}

func (a *applier) updateCluster(ctx context.Context, clusterID int, opts linodego.LKEClusterUpdateOptions) error {
	a.log.Info("updating LKE cluster", zap.String("cluster", a.label), zap.Int("clusterID", clusterID))
	if _, err := a.api.UpdateLKECluster(ctx, clusterID, opts); err != nil {
		return fmt.Errorf("update LKE cluster %q: %w", a.label, err)
	}
	return nil
}

func (a *applier) putACL(ctx context.Context, clusterID int, v4, v6 []string) error {
	on := true
	v4, v6 = nonNilList(v4), nonNilList(v6)
	opts := linodego.LKEClusterControlPlaneACLUpdateOptions{ACL: linodego.LKEClusterControlPlaneACLOptions{
		Enabled:   &on,
		Addresses: &linodego.LKEClusterControlPlaneACLAddressesOptions{IPv4: &v4, IPv6: &v6},
	}}
	a.log.Info("updating control plane ACL", zap.String("cluster", a.label), zap.Strings("ipv4", v4), zap.Strings("ipv6", v6))
	if _, err := a.api.UpdateLKEClusterControlPlaneACL(ctx, clusterID, opts); err != nil {
		return fmt.Errorf("update control plane ACL of LKE cluster %q: %w", a.label, err)
	}
	return nil
}

func nonNilList(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (a *applier) updatePool(ctx context.Context, clusterID, poolID int, opts linodego.LKENodePoolUpdateOptions) error {
	a.log.Info("updating node pool", zap.String("cluster", a.label), zap.Int("poolID", poolID))
	if _, err := a.api.UpdateLKENodePool(ctx, clusterID, poolID, opts); err != nil {
		return fmt.Errorf("update node pool %d of LKE cluster %q: %w", poolID, a.label, err)
	}
	return nil
}

func (a *applier) deletePool(ctx context.Context, clusterID, poolID int) error {
	a.log.Info("deleting node pool", zap.String("cluster", a.label), zap.Int("poolID", poolID))
	err := a.api.DeleteLKENodePool(ctx, clusterID, poolID)
	if err != nil && !linodego.ErrHasStatus(err, http.StatusNotFound) { // 404: gone already, what we wanted
		return fmt.Errorf("delete node pool %d of LKE cluster %q: %w", poolID, a.label, err)
	}
	return nil
}

// retire waits until pool keepID has all its nodes ready, then deletes the
// pools it replaces, so capacity never drops below what it was.
func (a *applier) retire(ctx context.Context, clusterID int, name string, keepID int, old []int) error {
	if err := a.waitPool(ctx, clusterID, name, keepID); err != nil {
		return err
	}
	for _, id := range old {
		if err := a.deletePool(ctx, clusterID, id); err != nil {
			return err
		}
	}
	return nil
}

// waitPool polls the cluster's pool list until pool poolID is ready.
func (a *applier) waitPool(ctx context.Context, clusterID int, name string, poolID int) error {
	w := newWaiter(a.o, a.log, clusterID, StagePool)
	err := w.until(ctx, func(ctx context.Context) (bool, error) {
		pools, err := a.api.ListLKENodePools(ctx, clusterID, nil)
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
		return fmt.Errorf("wait for node pool %q (id %d) of LKE cluster %q: %w", name, poolID, a.label, err)
	}
	return nil
}

// upgrade raises the cluster's version (when setVersion), replaces every
// node and waits until the upgrade is complete: every node present when it
// began has been replaced by a new one, every node is ready, and, with a
// NodeVersionChecker, every kubelet reports the new version. UpgradeTag
// marks the cluster from the version change until the end, so an upgrade
// cut short is resumed by the next EnsureCluster.
func (a *applier) upgrade(ctx context.Context, act upgradeAction) error {
	clusterID := act.ClusterID
	pools, err := listPools(ctx, a.api, clusterID)
	if err != nil {
		return err
	}
	before := map[string]bool{}
	for _, p := range pools {
		for _, n := range p.Linodes {
			before[n.ID] = true
		}
	}
	marked := append(slices.Clone(act.Tags), UpgradeTag)
	if act.SetVersion {
		a.log.Info("upgrading LKE cluster", zap.String("cluster", a.label), zap.String("k8sVersion", act.Version), zap.Int("nodes", len(before)))
		if err := a.updateCluster(ctx, clusterID, linodego.LKEClusterUpdateOptions{K8sVersion: act.Version, Tags: &marked}); err != nil {
			return err
		}
	} else {
		a.log.Info("resuming interrupted upgrade", zap.String("cluster", a.label), zap.String("k8sVersion", act.Version), zap.Int("nodes", len(before)))
	}
	if err := a.recycle(ctx, clusterID, before); err != nil {
		return err
	}
	if err := a.waitReplaced(ctx, clusterID, before); err != nil {
		return err
	}
	if a.o.checker != nil {
		if err := a.waitKubelets(ctx, clusterID, act.Version); err != nil {
			return err
		}
	}
	tags := slices.Clone(act.Tags)
	if err := a.updateCluster(ctx, clusterID, linodego.LKEClusterUpdateOptions{Tags: &tags}); err != nil {
		return err
	}
	a.log.Info("upgraded LKE cluster", zap.String("cluster", a.label), zap.String("k8sVersion", act.Version))
	return nil
}

// recycle asks LKE to replace every node. The request is a POST, so it is
// not repeated blindly: after a transient failure the pools are read, and
// a node that was not there before shows the recycle began. When none
// shows, the step fails with the transient error; the reconcile loop's
// next round resumes the upgrade (UpgradeTag marks it) and sends it again.
func (a *applier) recycle(ctx context.Context, clusterID int, before map[string]bool) error {
	err := a.api.RecycleLKEClusterNodes(ctx, clusterID)
	if err == nil {
		return nil
	}
	err = fmt.Errorf("recycle nodes of LKE cluster %q: %w", a.label, err)
	if t, _ := poll.Transient(err); !t {
		return err
	}
	pools, lerr := listPools(ctx, a.api, clusterID)
	if lerr != nil {
		return errors.Join(err, lerr)
	}
	for _, p := range pools {
		for _, n := range p.Linodes {
			if !before[n.ID] {
				a.log.Debug("recycle began although its response was lost")
				return nil
			}
		}
	}
	return err
}

// waitReplaced polls the pool list until no node of before is left and
// every pool has all its nodes ready.
func (a *applier) waitReplaced(ctx context.Context, clusterID int, before map[string]bool) error {
	w := newWaiter(a.o, a.log, clusterID, StageUpgrade)
	err := w.until(ctx, func(ctx context.Context) (bool, error) {
		pools, err := a.api.ListLKENodePools(ctx, clusterID, nil)
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
		return fmt.Errorf("wait for nodes of LKE cluster %q to be replaced: %w", a.label, err)
	}
	return nil
}

// waitKubelets asks the NodeVersionChecker until every node reports the
// spec's version.
func (a *applier) waitKubelets(ctx context.Context, clusterID int, version string) error {
	want := "v" + version
	w := newWaiter(a.o, a.log, clusterID, StageKubelets)
	err := w.until(ctx, func(ctx context.Context) (bool, error) {
		kc, err := kubeconfig(ctx, a.api, clusterID)
		if err != nil {
			return false, err
		}
		versions, err := a.o.checker.KubeletVersions(ctx, kc)
		if err != nil {
			a.log.Debug("reading kubelet versions", zap.Error(err))
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
		return fmt.Errorf("wait for kubelets of LKE cluster %q to report %s: %w", a.label, want, err)
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
