package kubeobjects

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/dynamic"

	"github.com/org/platform/internal/livediff"
	"github.com/org/platform/pkg/change"
)

// StepApply is the kind of a step that server-side applies one object.
// Its Action is an Action.
const StepApply = "kube.apply"

// FieldManager is the field manager of every apply.
const FieldManager = "platform"

// Action is what a StepApply step applies.
type Action struct {
	// Object is the object, as applied.
	Object map[string]any `json:"object"`
}

// Object names an object in changes and the base:
// "<kind>/<namespace>/<name>", or "<kind>/<name>" for a cluster-scoped
// one, the kind in lower case.
func Object(o *unstructured.Unstructured) string {
	k := strings.ToLower(o.GetKind())
	if o.GetNamespace() == "" {
		return k + "/" + o.GetName()
	}
	return k + "/" + o.GetNamespace() + "/" + o.GetName()
}

// StepID is "<env>/<layer>/<object>".
func StepID(env string, layer change.Layer, o *unstructured.Unstructured) string {
	return env + "/" + string(layer) + "/" + Object(o)
}

// Options are the environment and layer the steps belong to.
type Options struct {
	Env   string
	Layer change.Layer
	// Timeout bounds the wait for a CRD to be Established. Default 1 minute.
	Timeout time.Duration
}

func step(o Options, obj *unstructured.Unstructured, op change.Op, changes []change.Change) (change.Step, error) {
	if len(changes) == 0 {
		changes = []change.Change{{Layer: o.Layer, Object: Object(obj), Op: op}}
	}
	return change.NewStep(StepID(o.Env, o.Layer, obj), o.Layer, StepApply, op, Object(obj), Action{Object: obj.Object}, changes...)
}

// PlanNew plans every object as a create, sending nothing.
func PlanNew(objs []*unstructured.Unstructured, o Options) (change.Plan, error) {
	var p change.Plan
	for _, obj := range objs {
		s, err := step(o, obj, change.Create, nil)
		if err != nil {
			return p, err
		}
		p.Add(s)
		p.Observe(Object(obj), "absent")
	}
	return p, nil
}

// Plan reads each object and dry-runs its apply (see the package doc).
func Plan(ctx context.Context, kube genericclioptions.RESTClientGetter, objs []*unstructured.Unstructured, o Options) (change.Plan, error) {
	var p change.Plan
	c, err := newClient(kube)
	if err != nil {
		return p, err
	}
	for _, obj := range objs {
		obj = obj.DeepCopy()
		r, err := c.resource(obj, false)
		if err != nil {
			return p, err
		}
		if r == nil { // the kind is not served yet: its CRD comes first
			s, err := step(o, obj, change.Create, nil)
			if err != nil {
				return p, err
			}
			p.Add(s)
			p.Observe(Object(obj), "absent")
			continue
		}
		live, err := r.Get(ctx, obj.GetName(), metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			s, err := step(o, obj, change.Create, nil)
			if err != nil {
				return p, err
			}
			p.Add(s)
			p.Observe(Object(obj), "absent")
			continue
		}
		if err != nil {
			return p, fmt.Errorf("read %s: %w", Object(obj), err)
		}
		applied, err := apply(ctx, r, obj, true)
		if err != nil {
			return p, fmt.Errorf("dry-run apply %s: %w", Object(obj), err)
		}
		fields, err := livediff.Diff(live.Object, applied.Object)
		if err != nil {
			return p, fmt.Errorf("compare %s: %w", Object(obj), err)
		}
		if len(fields) == 0 {
			p.Observe(Object(obj), "in sync")
			continue
		}
		d, err := change.Digest(fields)
		if err != nil {
			return p, err
		}
		p.Observe(Object(obj), "differs sha256:"+d)
		changes := make([]change.Change, len(fields))
		for i, f := range fields {
			changes[i] = change.Change{Layer: o.Layer, Object: Object(obj), Field: f.Path, From: f.From, To: f.To, Op: change.Update}
		}
		s, err := step(o, obj, change.Update, changes)
		if err != nil {
			return p, err
		}
		p.Add(s)
	}
	return p, nil
}

// ApplyStep applies one StepApply step (see the package doc).
func ApplyStep(ctx context.Context, kube genericclioptions.RESTClientGetter, s change.Step, o Options) error {
	if s.Kind != StepApply {
		return fmt.Errorf("plan step %s: kind %q is not a step of internal/kubeobjects (%s)", s.ID, s.Kind, StepApply)
	}
	var a Action
	if err := s.Decode(&a); err != nil {
		return fmt.Errorf("plan step %s: %w", s.ID, err)
	}
	obj := &unstructured.Unstructured{Object: a.Object}
	c, err := newClient(kube)
	if err != nil {
		return err
	}
	r, err := c.resource(obj, true)
	if err != nil {
		return fmt.Errorf("apply %s: %w", s.ID, err)
	}
	if r == nil {
		return fmt.Errorf("apply %s: the API server does not serve %s", s.ID, obj.GroupVersionKind())
	}
	if _, err := apply(ctx, r, obj, false); err != nil {
		return fmt.Errorf("apply %s: %w", s.ID, err)
	}
	if obj.GetKind() == "CustomResourceDefinition" {
		if err := c.established(ctx, r, obj.GetName(), o.Timeout); err != nil {
			return fmt.Errorf("apply %s: %w", s.ID, err)
		}
		if rm, ok := c.mapper.(meta.ResettableRESTMapper); ok {
			rm.Reset()
		}
	}
	return nil
}

type client struct {
	dyn    dynamic.Interface
	mapper meta.RESTMapper
}

func newClient(kube genericclioptions.RESTClientGetter) (*client, error) {
	rc, err := kube.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("Kubernetes client: %w", err)
	}
	dyn, err := dynamic.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("Kubernetes client: %w", err)
	}
	m, err := kube.ToRESTMapper()
	if err != nil {
		return nil, fmt.Errorf("Kubernetes REST mapper: %w", err)
	}
	return &client{dyn: dyn, mapper: m}, nil
}

// resource returns the dynamic resource of obj, or nil when its kind is
// not served; reset re-reads discovery once before giving up.
func (c *client) resource(obj *unstructured.Unstructured, reset bool) (dynamic.ResourceInterface, error) {
	gvk := obj.GroupVersionKind()
	m, err := c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if meta.IsNoMatchError(err) {
		rm, ok := c.mapper.(meta.ResettableRESTMapper)
		if !ok || !reset {
			return nil, nil
		}
		rm.Reset()
		if m, err = c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version); meta.IsNoMatchError(err) {
			return nil, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("map %s to an API resource: %w", gvk, err)
	}
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		if obj.GetNamespace() == "" {
			return nil, fmt.Errorf("%s %s: namespaced kind without a namespace", gvk.Kind, obj.GetName())
		}
		return c.dyn.Resource(m.Resource).Namespace(obj.GetNamespace()), nil
	}
	return c.dyn.Resource(m.Resource), nil
}

func apply(ctx context.Context, r dynamic.ResourceInterface, obj *unstructured.Unstructured, dryRun bool) (*unstructured.Unstructured, error) {
	body, err := json.Marshal(obj.Object)
	if err != nil {
		return nil, err
	}
	force := true
	opts := metav1.PatchOptions{FieldManager: FieldManager, Force: &force}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	return r.Patch(ctx, obj.GetName(), types.ApplyPatchType, body, opts)
}

// established waits until the CRD's Established condition is True.
func (c *client) established(ctx context.Context, r dynamic.ResourceInterface, name string, timeout time.Duration) error {
	if timeout <= 0 {
		timeout = time.Minute
	}
	var last error
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		crd, err := r.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			last = err
			return false, nil
		}
		conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
		for _, c := range conds {
			m, _ := c.(map[string]any)
			if m["type"] == "Established" && m["status"] == "True" {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return errors.Join(fmt.Errorf("wait for CRD %s to be Established: %w", name, err), last)
	}
	return nil
}
