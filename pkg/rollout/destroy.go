package rollout

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/cluster"
	"github.com/org/platform/pkg/network"
	"github.com/org/platform/pkg/spec"
)

// DestroyOption changes how Destroy behaves.
type DestroyOption func(*destroyOptions)

type destroyOptions struct {
	confirmed map[string]bool
	releases  time.Duration
}

// WithConfirmation confirms the destruction of the named environment. A
// GitOps-only environment (production by default) is destroyed only when
// its name is confirmed: a typo in an environment list cannot take it down.
func WithConfirmation(env string) DestroyOption {
	return func(o *destroyOptions) { o.confirmed[env] = true }
}

// WithReleaseWait bounds how long Destroy waits for LoadBalancer Services
// and persistent volume claims to be gone before it deletes the cluster.
// Default 5 minutes.
func WithReleaseWait(d time.Duration) DestroyOption {
	return func(o *destroyOptions) { o.releases = d }
}

// Destroy tears environments down, each in reverse dependency order and
// concurrently with the others:
//
//  1. inside the cluster, every Service of type LoadBalancer and every
//     persistent volume claim is deleted first, and Destroy waits (see
//     WithReleaseWait) for them to be gone, so that LKE's controllers
//     release the NodeBalancers and Block Storage volumes they made for
//     them — those carry no tag of ours and would go on costing money;
//  2. the Kubernetes baseline this SDK applied (network.DeleteKubernetes);
//  3. the LKE cluster (cluster.DeleteCluster, which waits until it is gone);
//  4. the VPC and the Cloud Firewall.
//
// Only objects of ours are deleted (see each Delete function). A
// GitOps-only environment is refused, before any request, unless
// WithConfirmation names it. Every environment is validated first. A
// second Destroy finds nothing and changes nothing.
func Destroy(ctx context.Context, deps Deps, envs []spec.Environment, opts ...DestroyOption) (Result, error) {
	d, err := deps.withDefaults()
	if err != nil {
		return Result{}, err
	}
	o := destroyOptions{confirmed: map[string]bool{}, releases: 5 * time.Minute}
	for _, f := range opts {
		f(&o)
	}
	if err := validate(d, envs); err != nil {
		return Result{}, err
	}
	var refused []error
	for _, env := range envs {
		if env.WithDefaults().GitOps.GitOpsOnly && !o.confirmed[env.Name] {
			refused = append(refused, &EnvironmentError{Environment: env.Name, Err: fmt.Errorf(
				"GitOps-only: destroying it needs WithConfirmation(%q): %w", env.Name, change.ErrGitOpsOnly)})
		}
	}
	if err := errors.Join(refused...); err != nil {
		return Result{}, err
	}
	res := Result{Environments: make([]EnvironmentResult, len(envs))}
	var wg sync.WaitGroup
	for i, env := range envs {
		wg.Go(func() { res.Environments[i] = destroyEnvironment(ctx, d, o, env.WithDefaults()) })
	}
	wg.Wait()
	return res, res.Err()
}

func destroyEnvironment(ctx context.Context, d Deps, o destroyOptions, env spec.Environment) EnvironmentResult {
	r := EnvironmentResult{Name: env.Name}
	start := d.Clock.Now()
	defer func() { r.Elapsed = d.Clock.Now().Sub(start) }()
	api := d.linodeFor(env.Name)
	fail := func(err error) EnvironmentResult {
		r.setErr(err)
		return r
	}
	obs, err := cluster.Observe(ctx, api, []cluster.Target{cluster.TargetOf(env, cluster.Placement{})}, d.clusterOpts(env.Name)...)
	if err != nil {
		return fail(err)
	}
	if id := obs.ClusterID(env.Cluster.Label); id != 0 && d.KubernetesSkipped == "" {
		r.ClusterID = id
		kube, _, err := kubeClient(ctx, d, api, env.Name, id)
		if err != nil {
			return fail(err)
		}
		released, err := releaseCloudResources(ctx, d, o, env.Name, kube)
		r.Add(released...)
		if err != nil {
			return fail(err)
		}
		kr, err := network.DeleteKubernetes(ctx, kube, env, d.networkOpts(env.Name)...)
		r.Merge(kr.Result)
		if err != nil {
			return fail(fmt.Errorf("delete the Kubernetes baseline: %w", err))
		}
	}
	cr, err := cluster.DeleteCluster(ctx, api, env, d.clusterOpts(env.Name)...)
	r.Add(cr.Changes...)
	if cr.ID != 0 {
		r.ClusterID = cr.ID
	}
	if err != nil {
		return fail(err)
	}
	vr, err := network.DeleteVPC(ctx, api, env, d.networkOpts(env.Name)...)
	r.Merge(vr.Result)
	if err != nil {
		return fail(err)
	}
	fr, err := network.DeleteFirewall(ctx, api, env, d.networkOpts(env.Name)...)
	r.Merge(fr.Result)
	if err != nil {
		return fail(err)
	}
	return r
}

// releaseCloudResources deletes every LoadBalancer Service and persistent
// volume claim of the cluster and waits, bounded, until they are gone: their
// NodeBalancers and volumes are released by LKE's controllers only while
// the cluster still runs.
func releaseCloudResources(ctx context.Context, d Deps, o destroyOptions, env string, kube kubernetes.Interface) ([]change.Change, error) {
	log := d.logger(env)
	var changes []change.Change
	svcs, err := kube.CoreV1().Services(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list the cluster's Services: %w", err)
	}
	type gone struct{ kind, ns, name string }
	var waiting []gone
	for _, s := range svcs.Items {
		if s.Spec.Type != corev1.ServiceTypeLoadBalancer {
			continue
		}
		if err := kube.CoreV1().Services(s.Namespace).Delete(ctx, s.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return changes, fmt.Errorf("delete LoadBalancer Service %s/%s: %w", s.Namespace, s.Name, err)
		}
		log.Info("deleted a LoadBalancer Service, so that LKE releases its NodeBalancer", zap.String("service", s.Namespace+"/"+s.Name))
		changes = append(changes, change.Change{Layer: change.LayerKubernetes, Object: "service/" + s.Namespace + "/" + s.Name,
			From: "LoadBalancer (its NodeBalancer is released)", Op: change.Delete})
		waiting = append(waiting, gone{"service", s.Namespace, s.Name})
	}
	pvcs, err := kube.CoreV1().PersistentVolumeClaims(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
	if err != nil {
		return changes, fmt.Errorf("list the cluster's persistent volume claims: %w", err)
	}
	for _, p := range pvcs.Items {
		if err := kube.CoreV1().PersistentVolumeClaims(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return changes, fmt.Errorf("delete persistent volume claim %s/%s: %w", p.Namespace, p.Name, err)
		}
		log.Info("deleted a persistent volume claim, so that LKE releases its volume", zap.String("claim", p.Namespace+"/"+p.Name))
		changes = append(changes, change.Change{Layer: change.LayerKubernetes, Object: "persistentvolumeclaim/" + p.Namespace + "/" + p.Name,
			From: "its Block Storage volume is released", Op: change.Delete})
		waiting = append(waiting, gone{"pvc", p.Namespace, p.Name})
	}
	if len(waiting) == 0 {
		return changes, nil
	}
	wctx, cancel := context.WithTimeout(ctx, o.releases)
	defer cancel()
	for {
		waiting = slices.DeleteFunc(waiting, func(g gone) bool {
			var err error
			if g.kind == "service" {
				_, err = kube.CoreV1().Services(g.ns).Get(wctx, g.name, metav1.GetOptions{})
			} else {
				_, err = kube.CoreV1().PersistentVolumeClaims(g.ns).Get(wctx, g.name, metav1.GetOptions{})
			}
			return apierrors.IsNotFound(err)
		})
		if len(waiting) == 0 {
			return changes, nil
		}
		select {
		case <-wctx.Done():
			return changes, fmt.Errorf("%d LoadBalancer Services and volume claims still not gone after %s (first: %s %s/%s): the cluster is kept so that LKE can release them: %w",
				len(waiting), o.releases, waiting[0].kind, waiting[0].ns, waiting[0].name, change.ErrNotReady)
		case <-time.After(time.Second):
		}
	}
}
