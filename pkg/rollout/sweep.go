package rollout

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/linode/linodego"
	"go.uber.org/zap"

	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/cluster"
	"github.com/org/platform/pkg/network"
	"github.com/org/platform/pkg/objectstorage"
	"github.com/org/platform/pkg/spec"
)

// SweepAPI is what Sweep calls on Linode: lists and deletes of every kind
// of object an environment leaves. The real *linodego.Client satisfies it;
// so does the client pkg/linodetest returns. Deps.Linode (and each
// Deps.LinodeFor client) must implement it too.
type SweepAPI interface {
	ListLKEClusters(ctx context.Context, opts *linodego.ListOptions) ([]linodego.LKECluster, error)
	ListLKENodePools(ctx context.Context, clusterID int, opts *linodego.ListOptions) ([]linodego.LKENodePool, error)
	DeleteLKECluster(ctx context.Context, clusterID int) error
	ListFirewalls(ctx context.Context, opts *linodego.ListOptions) ([]linodego.Firewall, error)
	DeleteFirewall(ctx context.Context, firewallID int) error
	ListVPCs(ctx context.Context, opts *linodego.ListOptions) ([]linodego.VPC, error)
	DeleteVPC(ctx context.Context, vpcID int) error
	ListNodeBalancers(ctx context.Context, opts *linodego.ListOptions) ([]linodego.NodeBalancer, error)
	DeleteNodeBalancer(ctx context.Context, nodebalancerID int) error
	ListVolumes(ctx context.Context, opts *linodego.ListOptions) ([]linodego.Volume, error)
	DetachVolume(ctx context.Context, volumeID int) error
	DeleteVolume(ctx context.Context, volumeID int) error
	ListObjectStorageBuckets(ctx context.Context, opts *linodego.ListOptions) ([]linodego.ObjectStorageBucket, error)
	DeleteObjectStorageBucket(ctx context.Context, clusterOrRegionID, label string) error
	ListObjectStorageKeys(ctx context.Context, opts *linodego.ListOptions) ([]linodego.ObjectStorageKey, error)
	DeleteObjectStorageKey(ctx context.Context, keyID int) error
}

var _ SweepAPI = (*linodego.Client)(nil)

// SweepOption changes how Sweep behaves.
type SweepOption func(*sweepOptions)

type sweepOptions struct {
	confirmed map[string]bool
}

// WithSweepConfirmation confirms the sweep of the named environment. An
// environment whose standard spec is GitOps-only (production) is swept
// only when its name is confirmed, as Destroy asks.
func WithSweepConfirmation(env string) SweepOption {
	return func(o *sweepOptions) { o.confirmed[env] = true }
}

// Sweep finds and deletes, by tags and labels alone, everything the named
// environments left on Linode — so it works for an environment whose spec
// is gone, and after a run that was interrupted at any point:
//
//  1. the NodeBalancers and Block Storage volumes of the environment's LKE
//     clusters, which LKE's controllers made and tagged with nothing of
//     ours: a NodeBalancer labelled "lke<cluster id>-…" (the label LKE's
//     cloud controller manager gives it) or tagged "lke<cluster id>", a
//     volume attached to one of the cluster's nodes (the CSI driver's
//     volumes carry only the StorageClass's tags; see pkg/linodetest's
//     routes_lke_leftovers.go for the sources). A volume is detached,
//     then deleted;
//  2. the LKE clusters tagged cluster.ClusterTagPrefix+<env> (their node
//     pools go with them);
//  3. the Cloud Firewalls tagged network.EnvTagPrefix+<env>, and the VPCs
//     labelled "platform-<env>" (the spec's default) or holding one of the
//     clusters of step 2 (VPCs carry no tags);
//  4. the Object Storage buckets and keys labelled
//     objectstorage.BucketLabel/KeyLabel(<env>, purpose) for every
//     purpose of objectstorage.Purposes (they carry no tags either).
//
// Steps run in that order, so that nothing is deleted before what depends
// on it: a volume attached to a node is found only while its cluster
// exists. An environment stops at its first failure (the rest is found by
// the next Sweep); environments are swept one after the other and each
// error names its environment. Objects of other environments, and objects
// without our tags or labels, are never touched.
//
// Limits: a VPC of ours with a custom label whose cluster is already gone,
// and a volume detached from our cluster's nodes before the sweep, cannot
// be told from another's and are left. A bucket that still holds objects
// is refused by Linode: Sweep reports it and goes on to the keys.
//
// Sweep is idempotent: a second call finds nothing and sends no write; a
// DELETE answered 404 means the object is already gone.
func Sweep(ctx context.Context, deps Deps, envs []string, opts ...SweepOption) (change.Result, error) {
	d, err := deps.withDefaults()
	if err != nil {
		return change.Result{}, err
	}
	o := sweepOptions{confirmed: map[string]bool{}}
	for _, f := range opts {
		f(&o)
	}
	if len(envs) == 0 {
		return change.Result{}, errors.New("sweep: no environment given")
	}
	var bad []error
	for i, env := range envs {
		switch {
		case env == "" || strings.ContainsAny(env, "/= ,"):
			bad = append(bad, fmt.Errorf("sweep: environments[%d]: %q is not an environment name", i, env))
		case slices.Contains(envs[:i], env):
			bad = append(bad, fmt.Errorf("sweep: environment %q is given twice", env))
		case isGitOpsOnly(env) && !o.confirmed[env]:
			bad = append(bad, &EnvironmentError{Environment: env, Err: fmt.Errorf(
				"GitOps-only: sweeping it needs WithSweepConfirmation(%q): %w", env, change.ErrGitOpsOnly)})
		}
		if _, ok := d.linodeFor(env).(SweepAPI); !ok {
			bad = append(bad, fmt.Errorf("sweep: environment %q: the Linode client %T lacks the list and delete methods of SweepAPI", env, d.linodeFor(env)))
		}
	}
	if err := errors.Join(bad...); err != nil {
		return change.Result{}, err
	}
	var res change.Result
	var errs []error
	for _, env := range envs {
		s := sweeper{api: d.linodeFor(env).(SweepAPI), env: env, log: d.logger(env)}
		err := s.run(ctx)
		res.Add(s.changes...)
		if err != nil {
			errs = append(errs, &EnvironmentError{Environment: env, Err: err})
		}
	}
	return res, errors.Join(errs...)
}

// isGitOpsOnly says whether the standard spec of env, if there is one, is
// GitOps-only.
func isGitOpsOnly(env string) bool {
	e, err := spec.Default(env)
	return err == nil && e.WithDefaults().GitOps.GitOpsOnly
}

type sweeper struct {
	api     SweepAPI
	env     string
	log     *zap.Logger
	changes []change.Change
}

func (s *sweeper) deleted(object string) {
	s.log.Info("swept", zap.String("object", object))
	s.changes = append(s.changes, change.Change{Layer: change.LayerLinode, Object: object, Op: change.Delete})
}

// sweepGone reads a DELETE's 404 as success.
func sweepGone(err error) error {
	if err != nil && linodego.IsNotFound(err) {
		return nil
	}
	return err
}

func (s *sweeper) run(ctx context.Context) error {
	clusters, err := s.api.ListLKEClusters(ctx, nil)
	if err != nil {
		return fmt.Errorf("list LKE clusters: %w", err)
	}
	envTag := cluster.ClusterTagPrefix + s.env
	var ours []linodego.LKECluster
	nodes := map[int]bool{}      // Linode ids of our clusters' nodes
	ccmTags := map[string]bool{} // "lke<id>"
	vpcs := map[int]bool{}       // VPCs our clusters are in
	for _, c := range clusters {
		if !slices.Contains(c.Tags, envTag) {
			continue
		}
		ours = append(ours, c)
		ccmTags["lke"+strconv.Itoa(c.ID)] = true
		if c.VpcID != 0 {
			vpcs[c.VpcID] = true
		}
		pools, err := s.api.ListLKENodePools(ctx, c.ID, nil)
		if err != nil && !linodego.IsNotFound(err) {
			return fmt.Errorf("list the node pools of LKE cluster %q: %w", c.Label, err)
		}
		for _, p := range pools {
			for _, n := range p.Linodes {
				if n.InstanceID != 0 {
					nodes[n.InstanceID] = true
				}
			}
		}
	}

	// 1. What LKE's controllers made for our clusters.
	if len(ours) > 0 {
		nbs, err := s.api.ListNodeBalancers(ctx, nil)
		if err != nil {
			return fmt.Errorf("list NodeBalancers: %w", err)
		}
		for _, nb := range nbs {
			label := ""
			if nb.Label != nil {
				label = *nb.Label
			}
			prefix, _, _ := strings.Cut(label, "-")
			if !ccmTags[prefix] && !slices.ContainsFunc(nb.Tags, func(t string) bool { return ccmTags[t] }) {
				continue
			}
			if err := sweepGone(s.api.DeleteNodeBalancer(ctx, nb.ID)); err != nil {
				return fmt.Errorf("delete NodeBalancer %q: %w", label, err)
			}
			s.deleted("nodebalancer/" + label)
		}
		vols, err := s.api.ListVolumes(ctx, nil)
		if err != nil {
			return fmt.Errorf("list volumes: %w", err)
		}
		for _, v := range vols {
			if v.LinodeID == nil || !nodes[*v.LinodeID] {
				continue
			}
			if err := sweepGone(s.api.DetachVolume(ctx, v.ID)); err != nil {
				return fmt.Errorf("detach volume %q: %w", v.Label, err)
			}
			if err := sweepGone(s.api.DeleteVolume(ctx, v.ID)); err != nil {
				return fmt.Errorf("delete volume %q: %w", v.Label, err)
			}
			s.deleted("volume/" + v.Label)
		}
	}

	// 2. The clusters, with their pools.
	for _, c := range ours {
		if err := sweepGone(s.api.DeleteLKECluster(ctx, c.ID)); err != nil {
			return fmt.Errorf("delete LKE cluster %q: %w", c.Label, err)
		}
		s.deleted("lke/" + c.Label)
	}

	// 3. Firewalls and VPCs.
	fws, err := s.api.ListFirewalls(ctx, nil)
	if err != nil {
		return fmt.Errorf("list firewalls: %w", err)
	}
	for _, fw := range fws {
		if !slices.Contains(fw.Tags, network.EnvTagPrefix+s.env) {
			continue
		}
		if err := sweepGone(s.api.DeleteFirewall(ctx, fw.ID)); err != nil {
			return fmt.Errorf("delete firewall %q: %w", fw.Label, err)
		}
		s.deleted("firewall/" + fw.Label)
	}
	vs, err := s.api.ListVPCs(ctx, nil)
	if err != nil {
		return fmt.Errorf("list VPCs: %w", err)
	}
	for _, v := range vs {
		if v.Label != defaultVPCLabel(s.env) && !vpcs[v.ID] {
			continue
		}
		if err := sweepGone(s.api.DeleteVPC(ctx, v.ID)); err != nil {
			return fmt.Errorf("delete VPC %q: %w", v.Label, err)
		}
		s.deleted("vpc/" + v.Label)
	}

	// 4. Buckets and keys.
	var labels []string
	for _, p := range objectstorage.Purposes {
		labels = append(labels, objectstorage.BucketLabel(s.env, p), objectstorage.KeyLabel(s.env, p))
	}
	buckets, err := s.api.ListObjectStorageBuckets(ctx, nil)
	if err != nil {
		return fmt.Errorf("list buckets: %w", err)
	}
	var bucketErrs []error
	for _, b := range buckets {
		if !slices.Contains(labels, b.Label) {
			continue
		}
		if err := sweepGone(s.api.DeleteObjectStorageBucket(ctx, b.Region, b.Label)); err != nil {
			// A bucket holding objects: the keys still go.
			bucketErrs = append(bucketErrs, fmt.Errorf("delete bucket %q in %s: %w", b.Label, b.Region, err))
			continue
		}
		s.deleted("bucket/" + b.Region + "/" + b.Label)
	}
	keys, err := s.api.ListObjectStorageKeys(ctx, nil)
	if err != nil {
		return errors.Join(append(bucketErrs, fmt.Errorf("list Object Storage keys: %w", err))...)
	}
	for _, k := range keys {
		if !slices.Contains(labels, k.Label) {
			continue
		}
		if err := sweepGone(s.api.DeleteObjectStorageKey(ctx, k.ID)); err != nil {
			return errors.Join(append(bucketErrs, fmt.Errorf("delete Object Storage key %q: %w", k.Label, err))...)
		}
		s.deleted("objectstorage-key/" + k.Label + "/" + strconv.Itoa(k.ID))
	}
	return errors.Join(bucketErrs...)
}

// defaultVPCLabel is the label pkg/spec gives an environment's VPC when its
// spec names none.
func defaultVPCLabel(env string) string { return "platform-" + env }
