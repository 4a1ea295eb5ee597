package network

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/org/platform/internal/livediff"
	"github.com/org/platform/internal/reconcile"
	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/spec"
)

// The step kinds of the Kubernetes side, as a plan's steps carry them.
const (
	// StepKubernetesApply applies one object with server-side apply, as
	// FieldManager, forcing ownership of the fields it sets. Its Action is
	// a KubernetesApplyAction.
	StepKubernetesApply = "k8s.apply"
	// StepKubernetesDelete deletes one object this package applied, on
	// condition that it is still the object planned on (same uid). Its
	// Action is a KubernetesDeleteAction.
	StepKubernetesDelete = "k8s.delete"
)

// KubernetesApplyAction is the Action of a k8s.apply step: the object's
// kind ("NetworkPolicy") and its apply configuration, exactly the JSON
// body the server-side apply sends (the fields this package owns).
type KubernetesApplyAction struct {
	Kind   string          `json:"kind"`
	Object json.RawMessage `json:"object"`
}

// KubernetesDeleteAction is the Action of a k8s.delete step: which object,
// and the uid it had when the plan was made, sent as a precondition so
// that an object of the same name made since is never deleted.
type KubernetesDeleteAction struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	UID       string `json:"uid"`
}

// KubernetesStepID returns the ID of the step of environment env that
// applies or deletes one object: "<env>/kubernetes/<kind>/<namespace>/<name>"
// with kind lower-case ("production/kubernetes/networkpolicy/apps/default-deny"),
// and without the namespace segment for a cluster-scoped object
// ("production/kubernetes/clusterrole/platform:admin").
func KubernetesStepID(env, kind, namespace, name string) string {
	id := env + "/" + string(change.LayerKubernetes) + "/" + strings.ToLower(kind) + "/"
	if namespace != "" {
		id += namespace + "/"
	}
	return id + name
}

// KubernetesPlan is what EnsureKubernetes would do, as data: a k8s.apply
// step per object to create or to correct, with its field changes, then a
// k8s.delete step per object to prune (policies before namespaces). It can
// be written as JSON, read back, and carried out step by step with
// ApplyKubernetesStep (reconcile.Apply).
//
// Its Base records, per desired object, "<object> fields": a digest of the
// live fields FieldManager owns, or "absent"; and per pruned object
// "<object> uid". Never resourceVersions, status or quota usage.
type KubernetesPlan struct {
	change.Plan
}

// KubernetesResult is what EnsureKubernetes or DeleteKubernetes did: one
// change per field corrected, per object created or deleted, and in
// Retained the namespaces of ours kept because they still run pods.
type KubernetesResult struct {
	change.Result
}

// PlanKubernetes reads the objects EnsureKubernetes manages and returns
// the plan that would make them match the spec, without changing
// anything: every request it sends is a read or a server-side apply in
// dry-run (dryRun=All), so the plan is what the API server itself computes
// — its defaulting, validation and field ownership (as fluxcd's ssa
// package plans). Each desired object that exists is applied in dry-run,
// and the result is compared with the live object field by field,
// ignoring what the server moves on its own (resourceVersion, generation,
// managedFields, uid, timestamps) and status; an object that does not
// exist is a create. Objects to prune are found as EnsureKubernetes
// describes.
//
// A clientset that ignores dry-run writes when planned on: client-go's
// fake clientset does. pkg/network/networktest returns a fake that honours
// it.
func PlanKubernetes(ctx context.Context, kube kubernetes.Interface, env spec.Environment, opts ...Option) (KubernetesPlan, error) {
	r, err := newKubeRun(kube, env, opts)
	if err != nil {
		return KubernetesPlan{}, err
	}
	return r.plan(ctx)
}

// PlanKubernetesNew returns the plan of an environment whose cluster does
// not exist yet: every object the spec asks for, as a create, in the order
// EnsureKubernetes applies them. It sends no request. Bad input fails as
// in PlanKubernetes.
func PlanKubernetesNew(env spec.Environment, opts ...Option) (KubernetesPlan, error) {
	r, err := newKubeRun(nil, env, opts)
	if err != nil {
		return KubernetesPlan{}, err
	}
	var p KubernetesPlan
	for _, obj := range r.desired {
		p.Observe(obj.id()+" fields", absent)
		s, err := r.applyStep(obj, change.Create)
		if err != nil {
			return KubernetesPlan{}, err
		}
		p.Add(s)
	}
	return p, nil
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
// It is PlanKubernetes then ApplyKubernetesStep for each step, through
// reconcile.Converge: after a step failed it plans again from fresh reads
// (at most WithMaxRounds rounds), and it reports only what took effect.
// Only the fields this package sets count, as the server's dry-run shows
// them; what other managers add is left alone. Objects it applied earlier
// that the spec no longer wants are deleted — only objects labelled
// app.kubernetes.io/managed-by=platform and platform.org/component=network
// for this environment that also list "platform" among their field
// managers; a pruned namespace takes its contents with it, and a namespace
// that still runs pods is kept, with its policies, and reported in
// Result.Retained until it is drained.
//
// Idempotency: a second call with the same spec writes nothing. Requests
// that fail transiently — network timeouts (a TLS handshake timeout
// included), refused or reset connections, EOF, the API's 429, 5xx and
// timeouts — are retried with backoff for up to WithKubernetesRetryTimeout
// (default 2 minutes), saying so at Info level; then the call fails with
// an error naming the API endpoint. Bad input fails with spec.FieldErrors
// before any request.
func EnsureKubernetes(ctx context.Context, kube kubernetes.Interface, env spec.Environment, opts ...Option) (KubernetesResult, error) {
	r, err := newKubeRun(kube, env, opts)
	if err != nil {
		return KubernetesResult{}, err
	}
	return r.converge(ctx, r.plan)
}

// DeleteKubernetes removes everything EnsureKubernetes applied for the
// environment (the objects pruning would take if the spec wanted none),
// namespaces last, through the same plan → apply loop. Like pruning, it
// keeps a namespace that still runs pods, with its policies, and reports
// it in Result.Retained: drain it and call again. It is idempotent: objects
// already gone, or in a namespace already terminating, are not touched.
func DeleteKubernetes(ctx context.Context, kube kubernetes.Interface, env spec.Environment, opts ...Option) (KubernetesResult, error) {
	r, err := newKubeRun(kube, env, opts)
	if err != nil {
		return KubernetesResult{}, err
	}
	r.desired = nil // want nothing: everything of ours goes
	return r.converge(ctx, func(ctx context.Context) (KubernetesPlan, error) {
		var p KubernetesPlan
		err := r.planPrune(ctx, &p)
		return p, err
	})
}

// ApplyKubernetesStep carries out one step of a KubernetesPlan (k8s.apply
// or k8s.delete) against kube; a step of another kind is an error. An
// apply is a forced server-side apply as FieldManager; a delete sends the
// planned uid as a precondition, and an object already gone counts as
// deleted. Transient failures are retried as EnsureKubernetes describes.
// It records no outputs.
func ApplyKubernetesStep(ctx context.Context, kube kubernetes.Interface, s change.Step, out *change.Outputs, opts ...Option) error {
	o, err := newOptions(opts)
	if err != nil {
		return err
	}
	c := newKubeClient(kube, o, s.Env)
	return c.apply(ctx, s)
}

const absent = "absent"

// kubeClient sends this package's Kubernetes requests, retrying transient
// failures.
type kubeClient struct {
	api      kubernetes.Interface
	o        *options
	log      *zap.Logger
	endpoint string // "https://host:port", for messages
}

func newKubeClient(api kubernetes.Interface, o *options, env string) *kubeClient {
	return &kubeClient{api: api, o: o, log: o.logger.With(zap.String("environment", env)), endpoint: kubeEndpoint(api)}
}

type kubeRun struct {
	*kubeClient
	env     spec.Environment
	desired []object
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
	return &kubeRun{kubeClient: newKubeClient(api, o, env.Name), env: env, desired: desiredObjects(env, o)}, nil
}

// converge runs plan and the steps it returns through reconcile.Converge.
func (r *kubeRun) converge(ctx context.Context, plan func(ctx context.Context) (KubernetesPlan, error)) (KubernetesResult, error) {
	res, err := reconcile.Converge(ctx, reconcile.Options{
		Clock:     r.o.clock,
		Log:       r.log,
		MaxRounds: r.o.maxRounds,
		Pause:     r.o.retryInterval,
		MaxPause:  r.o.maxRetryInterval,
		Transient: kubeRoundTransient,
	}, func(ctx context.Context) (change.Plan, error) {
		p, err := plan(ctx)
		return p.Plan, err
	}, func(ctx context.Context, s change.Step, _ *change.Outputs) error {
		return r.apply(ctx, s)
	}, nil)
	return KubernetesResult{Result: res}, err
}

// selector selects the objects this package applied for this environment.
func (r *kubeRun) selector() string {
	return labels.SelectorFromSet(labels.Set{
		LabelManagedBy:   ManagedByValue,
		LabelComponent:   ComponentValue,
		LabelEnvironment: r.env.Name,
	}).String()
}

// applyStep returns the k8s.apply step of obj.
func (r *kubeRun) applyStep(obj object, op change.Op, changes ...change.Change) (change.Step, error) {
	body, err := json.Marshal(obj.ac)
	if err != nil {
		return change.Step{}, fmt.Errorf("encode %s: %w", obj.id(), err)
	}
	if len(changes) == 0 {
		changes = []change.Change{{Layer: change.LayerKubernetes, Object: obj.id(), Op: op}}
	}
	s, err := change.NewStep(KubernetesStepID(r.env.Name, obj.kind.short, obj.namespace, obj.name), change.LayerKubernetes,
		StepKubernetesApply, op, obj.id(), KubernetesApplyAction{Kind: obj.kind.name, Object: body}, changes...)
	s.Env = r.env.Name
	return s, err
}

// plan reads every desired object, applies it in dry-run, and lists what
// differs; then it finds the objects to prune.
func (r *kubeRun) plan(ctx context.Context) (KubernetesPlan, error) {
	var p KubernetesPlan
	usable := map[string]bool{} // namespaces that exist and are not terminating
	for _, obj := range r.desired {
		var live runtime.Object
		err := r.retry(ctx, "get "+obj.id(), func(ctx context.Context) error {
			var err error
			live, err = obj.kind.get(ctx, r.api, obj.namespace, obj.name)
			return err
		})
		if err != nil && !apierrors.IsNotFound(err) {
			return p, fmt.Errorf("get %s: %w", obj.id(), err)
		}
		if err != nil { // not found
			p.Observe(obj.id()+" fields", absent)
			if !obj.kind.namespaced || usable[obj.namespace] {
				// The server validates the object now rather than at apply
				// time. (In a namespace still to be created it would answer
				// 404: those are checked when applied.)
				if _, err := r.dryRun(ctx, obj); err != nil {
					return p, err
				}
			}
			s, err := r.applyStep(obj, change.Create)
			if err != nil {
				return p, err
			}
			p.Add(s)
			continue
		}
		m, err := meta.Accessor(live)
		if err != nil {
			return p, fmt.Errorf("read %s: %w", obj.id(), err)
		}
		if obj.kind == kindNamespace && m.GetDeletionTimestamp() == nil {
			usable[obj.name] = true
		}
		owned, err := obj.kind.extract(live)
		if err != nil {
			return p, fmt.Errorf("read the fields %s owns in %s: %w", FieldManager, obj.id(), err)
		}
		digest, err := change.Digest(owned)
		if err != nil {
			return p, fmt.Errorf("%s: %w", obj.id(), err)
		}
		p.Observe(obj.id()+" fields", digest)
		applied, err := r.dryRun(ctx, obj)
		if err != nil {
			return p, err
		}
		diffs, err := livediff.Diff(live, applied)
		if err != nil {
			return p, fmt.Errorf("compare %s with its dry-run apply: %w", obj.id(), err)
		}
		if len(diffs) == 0 {
			continue
		}
		changes := make([]change.Change, len(diffs))
		for i, d := range diffs {
			changes[i] = change.Change{Layer: change.LayerKubernetes, Object: obj.id(), Field: d.Path, From: d.From, To: d.To, Op: change.Update}
		}
		s, err := r.applyStep(obj, change.Update, changes...)
		if err != nil {
			return p, err
		}
		p.Add(s)
	}
	return p, r.planPrune(ctx, &p)
}

// dryRun applies obj in dry-run and returns what the server would store.
func (r *kubeRun) dryRun(ctx context.Context, obj object) (runtime.Object, error) {
	var out runtime.Object
	err := r.retry(ctx, "dry-run apply "+obj.id(), func(ctx context.Context) error {
		var err error
		out, err = obj.kind.apply(ctx, r.api, obj.ac, metav1.ApplyOptions{FieldManager: FieldManager, Force: true, DryRun: []string{metav1.DryRunAll}})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("dry-run apply %s: %w", obj.id(), err)
	}
	return out, nil
}

// planPrune adds to p the objects this package applied that the spec no
// longer wants: labelled as ours for this environment and managed by
// FieldManager. A namespaced object in a namespace that goes is not listed
// apart: the namespace takes it along. Deletes come policies first,
// namespaces last.
func (r *kubeRun) planPrune(ctx context.Context, p *KubernetesPlan) error {
	want := map[string]bool{}
	for _, obj := range r.desired {
		want[obj.id()] = true
	}
	goneNS := map[string]bool{} // namespaces that go, or are kept with all their contents
	seenNS := map[string]bool{} // namespaces whose fate is known
	var steps []change.Step
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
			return fmt.Errorf("list %s objects to prune: %w", k.name, err)
		}
		var kindSteps []change.Step
		for _, o := range objs {
			m, err := meta.Accessor(o)
			if err != nil {
				return fmt.Errorf("read listed %s: %w", k.name, err)
			}
			id := objectID(k, m.GetNamespace(), m.GetName())
			if k == kindNamespace {
				seenNS[m.GetName()] = true
				if m.GetDeletionTimestamp() != nil {
					goneNS[m.GetName()] = true // terminating: its contents go with it
				}
			}
			if ns := m.GetNamespace(); ns != "" && !seenNS[ns] {
				// Not one of ours: does it exist at all? (Where no namespace
				// controller runs, as with a fake clientset, the contents of a
				// deleted namespace outlive it.)
				gone, err := r.namespaceGone(ctx, ns)
				if err != nil {
					return err
				}
				seenNS[ns], goneNS[ns] = true, gone
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
					return err
				}
				goneNS[m.GetName()] = true // busy: its policies stay too, dropping default-deny would open it
				if busy {
					r.log.Warn("not pruning a namespace that still runs pods", zap.String("namespace", m.GetName()))
					p.Retained = append(p.Retained, change.Retained{Object: id, Reason: "still runs pods; drain it and the next run deletes it"})
					continue
				}
			}
			c := change.Change{Layer: change.LayerKubernetes, Object: id, Op: change.Delete}
			if k == kindNamespace {
				c.From = "with everything in it"
			}
			s, err := change.NewStep(KubernetesStepID(r.env.Name, k.short, m.GetNamespace(), m.GetName()), change.LayerKubernetes,
				StepKubernetesDelete, change.Delete, id,
				KubernetesDeleteAction{Kind: k.name, Namespace: m.GetNamespace(), Name: m.GetName(), UID: string(m.GetUID())}, c)
			if err != nil {
				return err
			}
			s.Env = r.env.Name
			p.Observe(id+" uid", string(m.GetUID()))
			kindSteps = append(kindSteps, s)
		}
		// Delete in reverse kind order: policies before namespaces.
		steps = append(kindSteps, steps...)
	}
	p.Add(steps...)
	return nil
}

// namespaceGone reports whether namespace ns is absent or terminating.
func (r *kubeRun) namespaceGone(ctx context.Context, ns string) (bool, error) {
	var live runtime.Object
	err := r.retry(ctx, "get namespace/"+ns, func(ctx context.Context) error {
		var err error
		live, err = kindNamespace.get(ctx, r.api, "", ns)
		return err
	})
	switch {
	case apierrors.IsNotFound(err):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("get namespace/%s: %w", ns, err)
	}
	m, err := meta.Accessor(live)
	if err != nil {
		return false, fmt.Errorf("read namespace/%s: %w", ns, err)
	}
	return m.GetDeletionTimestamp() != nil, nil
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

// apply carries out one step.
func (c *kubeClient) apply(ctx context.Context, s change.Step) error {
	switch s.Kind {
	case StepKubernetesApply:
		var a KubernetesApplyAction
		if err := s.Decode(&a); err != nil {
			return err
		}
		k := kindNamed(a.Kind)
		if k == nil {
			return fmt.Errorf("plan step %s: pkg/network applies no %q objects", s.ID, a.Kind)
		}
		ac := k.newAC()
		if err := json.Unmarshal(a.Object, ac); err != nil {
			return fmt.Errorf("plan step %s: decode the %s to apply: %w", s.ID, a.Kind, err)
		}
		c.log.Info("applying", zap.String("object", s.Object))
		err := c.retry(ctx, "apply "+s.Object, func(ctx context.Context) error {
			_, err := k.apply(ctx, c.api, ac, metav1.ApplyOptions{FieldManager: FieldManager, Force: true})
			return err
		})
		if err != nil {
			return fmt.Errorf("apply %s: %w", s.Object, err)
		}
		return nil
	case StepKubernetesDelete:
		var a KubernetesDeleteAction
		if err := s.Decode(&a); err != nil {
			return err
		}
		k := kindNamed(a.Kind)
		if k == nil {
			return fmt.Errorf("plan step %s: pkg/network deletes no %q objects", s.ID, a.Kind)
		}
		uid := types.UID(a.UID)
		c.log.Info("deleting", zap.String("object", s.Object))
		err := c.retry(ctx, "delete "+s.Object, func(ctx context.Context) error {
			err := k.delete(ctx, c.api, a.Namespace, a.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
			if apierrors.IsNotFound(err) {
				return nil // gone, as asked (a lost response to an earlier attempt leaves exactly this)
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("delete %s: %w", s.Object, err)
		}
		return nil
	}
	return fmt.Errorf("plan step %s: kind %q is not a step of pkg/network's Kubernetes side (%s, %s)",
		s.ID, s.Kind, StepKubernetesApply, StepKubernetesDelete)
}

// kubeRoundTransient is reconcile's classifier for a failed Kubernetes
// step. Transient request errors were already retried for the whole
// WithKubernetesRetryTimeout, so another round would only wait longer;
// only a conflict is worth reading again for: a delete whose uid
// precondition failed, because the object was made anew since the plan.
func kubeRoundTransient(err error) (bool, time.Duration) {
	return apierrors.IsConflict(err), 0
}
