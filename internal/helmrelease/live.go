package helmrelease

import (
	"context"
	"encoding/json"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
)

// objectAPI reads the live objects of a release and applies them in
// dry-run. Unit tests replace it.
type objectAPI interface {
	// scope sets obj's namespace to ns when its kind is namespaced and it
	// has none, as Helm does; known is false for a kind the server does
	// not serve (yet: a CRD the release installs).
	scope(obj *unstructured.Unstructured, ns string) (known bool, err error)
	// get returns the live object, or nil when there is none.
	get(ctx context.Context, obj *unstructured.Unstructured) (*unstructured.Unstructured, error)
	// dryRun server-side applies obj in dry-run (dryRun=All, forced, as
	// manager) and returns what the server would store.
	dryRun(ctx context.Context, obj *unstructured.Unstructured, manager string) (*unstructured.Unstructured, error)
}

// dynamicObjects is the objectAPI of a real API server.
type dynamicObjects struct {
	client dynamic.Interface
	mapper meta.RESTMapper
}

func (d *dynamicObjects) mapping(obj *unstructured.Unstructured) (*meta.RESTMapping, error) {
	gvk := obj.GroupVersionKind()
	return d.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
}

func (d *dynamicObjects) scope(obj *unstructured.Unstructured, ns string) (bool, error) {
	m, err := d.mapping(obj)
	if meta.IsNoMatchError(err) {
		if r, ok := d.mapper.(meta.ResettableRESTMapper); ok {
			r.Reset() // a CRD installed since the mapper last read discovery
			m, err = d.mapping(obj)
		}
	}
	switch {
	case meta.IsNoMatchError(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("map %s to an API resource: %w", obj.GroupVersionKind(), err)
	}
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		if obj.GetNamespace() == "" {
			obj.SetNamespace(ns)
		}
	} else {
		obj.SetNamespace("")
	}
	return true, nil
}

func (d *dynamicObjects) resource(obj *unstructured.Unstructured) (dynamic.ResourceInterface, error) {
	m, err := d.mapping(obj)
	if err != nil {
		return nil, fmt.Errorf("map %s to an API resource: %w", obj.GroupVersionKind(), err)
	}
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		return d.client.Resource(m.Resource).Namespace(obj.GetNamespace()), nil
	}
	return d.client.Resource(m.Resource), nil
}

func (d *dynamicObjects) get(ctx context.Context, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	r, err := d.resource(obj)
	if err != nil {
		return nil, err
	}
	live, err := r.Get(ctx, obj.GetName(), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	return live, err
}

func (d *dynamicObjects) dryRun(ctx context.Context, obj *unstructured.Unstructured, manager string) (*unstructured.Unstructured, error) {
	r, err := d.resource(obj)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(obj.Object)
	if err != nil {
		return nil, err
	}
	force := true
	return r.Patch(ctx, obj.GetName(), types.ApplyPatchType, body, metav1.PatchOptions{
		FieldManager: manager, Force: &force, DryRun: []string{metav1.DryRunAll},
	})
}
