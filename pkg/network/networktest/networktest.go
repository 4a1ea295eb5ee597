package networktest

import (
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// NewClientset returns a fake clientset holding objects, on which a
// server-side apply with DryRun ["All"] returns what it would store and
// changes nothing. Its Actions still list the dry-run applies; IsDryRun
// tells them apart.
func NewClientset(objects ...runtime.Object) *fake.Clientset {
	cs := fake.NewClientset(objects...)
	cs.PrependReactor("patch", "*", func(a k8stesting.Action) (bool, runtime.Object, error) {
		pa, ok := a.(k8stesting.PatchActionImpl)
		if !ok || !IsDryRun(pa) {
			return false, nil, nil
		}
		// Apply to a scratch clientset that holds a copy of the live object
		// (its managed fields included), and answer with its result.
		scratch := fake.NewClientset()
		live, err := cs.Tracker().Get(pa.GetResource(), pa.GetNamespace(), pa.GetName())
		switch {
		case err == nil:
			if err := scratch.Tracker().Add(live); err != nil {
				return true, nil, err
			}
		case !apierrors.IsNotFound(err):
			return true, nil, err
		}
		pa.PatchOptions.DryRun = nil
		obj, err := scratch.Invokes(pa, nil)
		return true, obj, err
	})
	return cs
}

// IsDryRun reports whether a fake clientset's action is a server-side
// apply in dry-run, which NewClientset's fake does not store.
func IsDryRun(a k8stesting.Action) bool {
	pa, ok := a.(k8stesting.PatchActionImpl)
	return ok && pa.GetPatchType() == types.ApplyPatchType && slices.Contains(pa.PatchOptions.DryRun, metav1.DryRunAll)
}
