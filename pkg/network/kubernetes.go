package network

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"go.uber.org/zap"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/client-go/kubernetes"

	"github.com/org/platform/internal/poll"
	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/spec"
)

// KubernetesResult is what EnsureKubernetes did or PlanKubernetes would
// do: one change per field that differs, per object created or pruned, and
// an Unchanged entry per object that already matches.
type KubernetesResult struct {
	change.Result
	// Retained names the namespaces of ours that the spec no longer wants
	// but that still run pods: they are not pruned, since deleting a
	// namespace deletes everything in it. Drain them, and the next run
	// prunes them.
	Retained []string
}

// PlanKubernetes reads the objects EnsureKubernetes manages and returns,
// per object and per field, what it would change, without writing: the
// plan is computed locally from the live objects and their managed fields
// (see EnsureKubernetes for what counts).
func PlanKubernetes(ctx context.Context, api kubernetes.Interface, env spec.Environment, opts ...Option) (KubernetesResult, error) {
	r, err := newKubeRun(api, env, opts)
	if err != nil {
		return KubernetesResult{}, err
	}
	_, changes, err := r.plan(ctx)
	return KubernetesResult{Result: change.Result{Changes: changes}, Retained: r.retained}, err
}

// EnsureKubernetes makes the environment's cluster hold the platform's
// baseline, with server-side apply as field manager "platform" (forcing
// ownership of the fields it sets):
//
//   - a Namespace per spec namespace, labelled platform.org/environment,
//     team, app.kubernetes.io/managed-by=platform,
//     platform.org/component=network, platform.org/ingress=true when the
//     ingress controller may reach it, and the spec's labels; plus
//     platform-system for the CI deployer;
//   - a ResourceQuota and a LimitRange per spec namespace, from
//     DefaultQuota unless the spec's quota overrides a field;
//   - zero-trust NetworkPolicies in every namespace it owns: default-deny
//     ingress and egress; DNS to kube-dns (kube-system, k8s-app=kube-dns,
//     UDP and TCP 53); traffic between the pods of the same namespace;
//     ingress from the observability namespace (scraping), when
//     observability is enabled; ingress from the ingress controller's
//     namespace into namespaces with ingress: true; egress to the CIDRs and
//     port of each data service a namespace declares, from that namespace
//     only. Nothing else: no other namespace, no internet;
//   - the baseline RBAC (see the package documentation): platform:admin,
//     :viewer and :deployer ClusterRoles, the admin group bound to admin
//     (to viewer in a GitOps-only environment, where no human group may
//     write), the viewer group to viewer, and platform-system/ci-deployer
//     to deployer in each spec namespace.
//
// Only fields this package sets are compared and written; what other
// managers add is left alone. Objects it applied earlier that the spec no
// longer wants are deleted — only objects labelled
// app.kubernetes.io/managed-by=platform and platform.org/component=network
// for this environment that also list "platform" among their field
// managers; a pruned namespace takes its contents with it.
//
// Idempotency: a second call with the same spec writes nothing. Applies
// and deletes that fail transiently (timeouts, 429, 5xx, dropped
// connections) are retried within ctx; server-side apply is idempotent.
// Bad input fails with spec.FieldErrors before any request.
func EnsureKubernetes(ctx context.Context, api kubernetes.Interface, env spec.Environment, opts ...Option) (KubernetesResult, error) {
	r, err := newKubeRun(api, env, opts)
	if err != nil {
		return KubernetesResult{}, err
	}
	actions, changes, err := r.plan(ctx)
	res := KubernetesResult{Result: change.Result{Changes: changes}, Retained: r.retained}
	if err != nil {
		return res, err
	}
	for _, a := range actions {
		if err := a(ctx); err != nil {
			return res, err
		}
	}
	return res, nil
}

type kubeRun struct {
	// retained lists the namespaces planPrune kept because pods run there.
	retained []string
	api      kubernetes.Interface
	o        *options
	env      spec.Environment
	log      *zap.Logger
	desired  []object
}

func newKubeRun(api kubernetes.Interface, env spec.Environment, opts []Option) (*kubeRun, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	env = withDefaults(env)
	if err := validate(env, kubernetesSections, func(env spec.Environment) spec.FieldErrors { return checkKubernetes(env, o) }); err != nil {
		return nil, fmt.Errorf("Kubernetes baseline of environment %q: %w", env.Name, err)
	}
	return &kubeRun{api: api, o: o, env: env, log: o.logger.With(zap.String("environment", env.Name)), desired: desiredObjects(env, o)}, nil
}

// selector selects the objects this package applied for this environment.
func (r *kubeRun) selector() string {
	return labels.SelectorFromSet(labels.Set{
		LabelManagedBy:   ManagedByValue,
		LabelComponent:   ComponentValue,
		LabelEnvironment: r.env.Name,
	}).String()
}

type action func(ctx context.Context) error

// plan reads every desired object and every object this package applied
// before, and returns the writes to make, in order, with their changes.
func (r *kubeRun) plan(ctx context.Context) ([]action, []change.Change, error) {
	var actions []action
	var changes []change.Change
	for _, obj := range r.desired {
		var live any
		err := r.retry(ctx, "get "+obj.id(), func(ctx context.Context) error {
			var err error
			live, err = obj.kind.get(ctx, r.api, obj.namespace, obj.name)
			return err
		})
		switch {
		case apierrors.IsNotFound(err):
			changes = append(changes, change.Change{Layer: change.LayerKubernetes, Object: obj.id(), Op: change.Create})
			actions = append(actions, r.applyAction(obj))
			continue
		case err != nil:
			return nil, changes, fmt.Errorf("get %s: %w", obj.id(), err)
		}
		m, err := meta.Accessor(live)
		if err != nil {
			return nil, changes, fmt.Errorf("read %s: %w", obj.id(), err)
		}
		diffs, err := diffObject(obj.ac, live, m.GetManagedFields())
		if err != nil {
			return nil, changes, fmt.Errorf("compare %s: %w", obj.id(), err)
		}
		if len(diffs) == 0 {
			changes = append(changes, change.Change{Layer: change.LayerKubernetes, Object: obj.id(), Op: change.Unchanged})
			continue
		}
		for _, d := range diffs {
			changes = append(changes, change.Change{Layer: change.LayerKubernetes, Object: obj.id(), Field: d.path, From: d.from, To: d.to, Op: change.Update})
		}
		actions = append(actions, r.applyAction(obj))
	}

	prune, pch, err := r.planPrune(ctx)
	if err != nil {
		return nil, changes, err
	}
	return append(actions, prune...), append(changes, pch...), nil
}

// planPrune finds the objects this package applied that the spec no longer
// wants: labelled as ours for this environment and managed by
// FieldManager. A namespaced object in a namespace that goes is not listed
// apart: the namespace takes it along.
func (r *kubeRun) planPrune(ctx context.Context) ([]action, []change.Change, error) {
	want := map[string]bool{}
	for _, obj := range r.desired {
		want[obj.id()] = true
	}
	goneNS := map[string]bool{}
	var actions []action
	var changes []change.Change
	for _, k := range kinds { // namespaces first, so their contents can be skipped
		var objs []any
		err := r.retry(ctx, "list "+k.short, func(ctx context.Context) error {
			l, err := k.list(ctx, r.api, metav1.ListOptions{LabelSelector: r.selector()})
			objs = objs[:0]
			for _, o := range l {
				objs = append(objs, o)
			}
			return err
		})
		if err != nil {
			return nil, nil, fmt.Errorf("list %s objects to prune: %w", k.name, err)
		}
		var kindActions []action
		for _, o := range objs {
			m, err := meta.Accessor(o)
			if err != nil {
				return nil, nil, fmt.Errorf("read listed %s: %w", k.name, err)
			}
			id := objectID(k, m.GetNamespace(), m.GetName())
			if k == kindNamespace && m.GetDeletionTimestamp() != nil {
				goneNS[m.GetName()] = true // terminating: its contents go with it
			}
			if want[id] || m.GetDeletionTimestamp() != nil || goneNS[m.GetNamespace()] {
				continue
			}
			if !slices.ContainsFunc(m.GetManagedFields(), func(e metav1.ManagedFieldsEntry) bool { return e.Manager == FieldManager }) {
				r.log.Debug("not pruning an object with our labels but not our field manager", zap.String("object", id))
				continue
			}
			if k == kindNamespace {
				busy, err := r.runsPods(ctx, m.GetName())
				if err != nil {
					return nil, nil, err
				}
				if busy {
					r.log.Warn("not pruning a namespace that still runs pods", zap.String("namespace", m.GetName()))
					r.retained = append(r.retained, m.GetName())
					goneNS[m.GetName()] = true // and its policies: dropping default-deny would open it
					continue
				}
				goneNS[m.GetName()] = true
			}
			c := change.Change{Layer: change.LayerKubernetes, Object: id, Op: change.Delete}
			if k == kindNamespace {
				c.From = "with everything in it"
			}
			changes = append(changes, c)
			kindActions = append(kindActions, r.deleteAction(k, m))
		}
		// Delete in reverse kind order: policies before namespaces.
		actions = append(kindActions, actions...)
	}
	return actions, changes, nil
}

// runsPods reports whether any pod is in namespace ns.
func (r *kubeRun) runsPods(ctx context.Context, ns string) (bool, error) {
	var n int
	err := r.retry(ctx, "list pods in "+ns, func(ctx context.Context) error {
		l, err := r.api.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{Limit: 1})
		if err == nil {
			n = len(l.Items)
		}
		return err
	})
	if err != nil {
		return false, fmt.Errorf("list pods of namespace %s before pruning it: %w", ns, err)
	}
	return n > 0, nil
}

func (r *kubeRun) applyAction(obj object) action {
	return func(ctx context.Context) error {
		r.log.Info("applying", zap.String("object", obj.id()))
		err := r.retry(ctx, "apply "+obj.id(), func(ctx context.Context) error {
			return obj.kind.apply(ctx, r.api, obj.ac, metav1.ApplyOptions{FieldManager: FieldManager, Force: true})
		})
		if err != nil {
			return fmt.Errorf("apply %s: %w", obj.id(), err)
		}
		return nil
	}
}

func (r *kubeRun) deleteAction(k *kind, m metav1.Object) action {
	id := objectID(k, m.GetNamespace(), m.GetName())
	uid := m.GetUID()
	ns, name := m.GetNamespace(), m.GetName()
	return func(ctx context.Context) error {
		r.log.Info("pruning", zap.String("object", id))
		err := r.retry(ctx, "delete "+id, func(ctx context.Context) error {
			err := k.delete(ctx, r.api, ns, name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
			if apierrors.IsNotFound(err) {
				return nil
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("prune %s: %w", id, err)
		}
		return nil
	}
}

// retry runs a Kubernetes read or an idempotent write until it succeeds,
// fails for good, or ctx ends.
func (r *kubeRun) retry(ctx context.Context, what string, fn func(ctx context.Context) error) error {
	var last error
	err := poll.Until(ctx, r.o.retryPolicy(), func(ctx context.Context) (bool, error) {
		err := fn(ctx)
		if err == nil {
			return true, nil
		}
		if kubeTransient(err) && ctx.Err() == nil {
			r.log.Debug("transient Kubernetes API error, retrying", zap.String("request", what), zap.Error(err))
			last = err
			return false, nil
		}
		return true, err
	})
	if err != nil && last != nil && ctx.Err() != nil {
		return fmt.Errorf("%w (last error: %w)", err, last)
	}
	return err
}

// kubeTransient reports whether a Kubernetes API error is worth retrying.
func kubeTransient(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	return apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err) || apierrors.IsTooManyRequests(err) ||
		apierrors.IsServiceUnavailable(err) || apierrors.IsInternalError(err) ||
		utilnet.IsConnectionRefused(err) || utilnet.IsConnectionReset(err) || utilnet.IsProbableEOF(err) ||
		errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "http2: client connection lost")
}
