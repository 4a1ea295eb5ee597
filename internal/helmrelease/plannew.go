package helmrelease

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"helm.sh/helm/v3/pkg/chartutil"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/version"

	"github.com/org/platform/pkg/change"
)

// PlanNew plans the install of rel on a cluster that does not exist yet,
// or cannot be reached, pinned to Kubernetes kubeVersion ("1.34",
// "v1.34.2"; recorded as "v1.34.0", "v1.34.2"). It sends no request to
// any cluster; it may download the chart (see LoadChart).
//
// It returns the one step Plan returns for a release that is absent: the
// same ID, kind, op (create) and Action — chart, values, sensitive
// references, values and manifest digests, Revision 1, Install — plus
// Action.KubeVersion, and the same changes: the release's, then one
// create per rendered object, named as Plan names them. There is no
// dry-run, so no per-field changes, and nothing is checked by the API
// server before ApplyStep. The plan's Base records what Plan records of a
// cluster without the release: the chart, the values and every object
// "absent".
//
// The chart is rendered with Helm's built-in capabilities
// (chartutil.DefaultCapabilities: the API versions compiled into Helm)
// with the Kubernetes version set to kubeVersion, and without lookup (as
// on a cluster where the looked-up objects do not exist). ApplyStep of
// the step renders with the same pinned capabilities, so the plan does
// not go stale when the cluster comes to exist. A namespaced object
// without a namespace gets rel.Namespace, and a cluster-scoped built-in
// kind loses its namespace, as on the cluster; an object of a kind no
// built-in API serves (of a CRD) keeps the namespace it was rendered
// with, as Plan names it on a cluster that does not serve the kind yet.
func PlanNew(rel Release, kubeVersion string, opts ...Option) (change.Plan, error) {
	var p change.Plan
	o, err := newOptions(opts)
	if err != nil {
		return p, err
	}
	if err := rel.Validate(); err != nil {
		return p, err
	}
	caps, err := pinnedCapabilities(kubeVersion)
	if err != nil {
		return p, fmt.Errorf("%w %s/%s: kubeVersion: %w", ErrInvalid, rel.Namespace, rel.Name, err)
	}
	r := &run{o: o, caps: caps}
	want, err := r.desired(rel)
	if err != nil {
		return p, err
	}
	ch, err := o.loadChart(rel.Chart)
	if err != nil {
		return p, err
	}
	values, err := deepCopy(rel.Values)
	if err != nil {
		return p, fmt.Errorf("release %s/%s: copy values: %w", rel.Namespace, rel.Name, err)
	}
	out, err := renderChart(ch, values, releaseOptions(rel.Name, rel.Namespace, 1), caps, nil)
	if err != nil {
		return p, fmt.Errorf("release %s/%s: %w", rel.Namespace, rel.Name, err)
	}
	id := objectName(rel.Namespace, rel.Name)
	p.Observe(id+" chart", absent)
	p.Observe(id+" values", absent)
	changes := []change.Change{{Layer: o.layer, Object: id, Op: change.Create, To: rel.Chart.String()}}
	for _, obj := range out.objects {
		obj = obj.DeepCopy()
		helmMetadata(obj, rel.Name, rel.Namespace)
		staticScope(obj, rel.Namespace)
		oid := objID(obj)
		p.Observe(oid+" fields", absent)
		changes = append(changes, change.Change{Layer: o.layer, Object: oid, Op: change.Create})
	}
	a := Action{
		Release: rel.Name, Namespace: rel.Namespace, Chart: rel.Chart,
		Values: want.public, Sensitive: want.refs, ValuesDigest: want.digest, ManifestDigest: out.digest,
		Revision: 1, Install: true, KubeVersion: caps.KubeVersion.Version,
	}
	step, err := change.NewStep(StepID(o.env, o.layer, rel.Namespace, rel.Name), o.layer, StepRelease, change.Create, id, a, changes...)
	if err != nil {
		return p, err
	}
	step.Env = o.env
	step.Creates = true
	p.Add(step)
	return p, nil
}

// pinnedCapabilities returns Helm's built-in capabilities with the
// Kubernetes version set to v ("1.34", "v1.34.2"), written
// "v<major>.<minor>.<patch>" as a server reports it.
func pinnedCapabilities(v string) (*chartutil.Capabilities, error) {
	if v == "" {
		return nil, errors.New("required: the Kubernetes version to render for (\"1.34\")")
	}
	sv, err := version.ParseGeneric(v)
	if err != nil {
		return nil, fmt.Errorf("not a Kubernetes version (got %q): %w", v, err)
	}
	caps := *chartutil.DefaultCapabilities
	caps.KubeVersion = chartutil.KubeVersion{
		Version: fmt.Sprintf("v%d.%d.%d", sv.Major(), sv.Minor(), sv.Patch()),
		Major:   strconv.FormatUint(uint64(sv.Major()), 10),
		Minor:   strconv.FormatUint(uint64(sv.Minor()), 10),
	}
	return &caps, nil
}

// staticScope sets obj's namespace as the API server would scope it,
// without asking one: a cluster-scoped built-in kind has none; any other
// kind without a namespace gets ns, except kinds no built-in API serves,
// which keep what they were rendered with (see PlanNew).
func staticScope(obj *unstructured.Unstructured, ns string) {
	gk := obj.GroupVersionKind().GroupKind()
	switch {
	case clusterScoped[gk]:
		obj.SetNamespace("")
	case !builtinGroup(gk.Group):
	case obj.GetNamespace() == "":
		obj.SetNamespace(ns)
	}
}

// clusterScoped are the cluster-scoped kinds of Kubernetes' built-in APIs
// (1.37, alpha and beta APIs included). client-go has no static table of
// scopes (only discovery knows), so this one is written out; an
// integration test compares it with what the local control plane's
// discovery says of every built-in kind it serves.
var clusterScoped = map[schema.GroupKind]bool{
	{Group: "", Kind: "Namespace"}:                                                    true,
	{Group: "", Kind: "Node"}:                                                         true,
	{Group: "", Kind: "PersistentVolume"}:                                             true,
	{Group: "", Kind: "ComponentStatus"}:                                              true,
	{Group: "admissionregistration.k8s.io", Kind: "MutatingWebhookConfiguration"}:     true,
	{Group: "admissionregistration.k8s.io", Kind: "ValidatingWebhookConfiguration"}:   true,
	{Group: "admissionregistration.k8s.io", Kind: "ValidatingAdmissionPolicy"}:        true,
	{Group: "admissionregistration.k8s.io", Kind: "ValidatingAdmissionPolicyBinding"}: true,
	{Group: "admissionregistration.k8s.io", Kind: "MutatingAdmissionPolicy"}:          true,
	{Group: "admissionregistration.k8s.io", Kind: "MutatingAdmissionPolicyBinding"}:   true,
	{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}:                 true,
	{Group: "apiregistration.k8s.io", Kind: "APIService"}:                             true,
	{Group: "authentication.k8s.io", Kind: "TokenReview"}:                             true,
	{Group: "authentication.k8s.io", Kind: "SelfSubjectReview"}:                       true,
	{Group: "authorization.k8s.io", Kind: "SubjectAccessReview"}:                      true,
	{Group: "authorization.k8s.io", Kind: "SelfSubjectAccessReview"}:                  true,
	{Group: "authorization.k8s.io", Kind: "SelfSubjectRulesReview"}:                   true,
	{Group: "certificates.k8s.io", Kind: "CertificateSigningRequest"}:                 true,
	{Group: "certificates.k8s.io", Kind: "ClusterTrustBundle"}:                        true,
	{Group: "flowcontrol.apiserver.k8s.io", Kind: "FlowSchema"}:                       true,
	{Group: "flowcontrol.apiserver.k8s.io", Kind: "PriorityLevelConfiguration"}:       true,
	{Group: "internal.apiserver.k8s.io", Kind: "StorageVersion"}:                      true,
	{Group: "networking.k8s.io", Kind: "IngressClass"}:                                true,
	{Group: "networking.k8s.io", Kind: "IPAddress"}:                                   true,
	{Group: "networking.k8s.io", Kind: "ServiceCIDR"}:                                 true,
	{Group: "node.k8s.io", Kind: "RuntimeClass"}:                                      true,
	{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole"}:                         true,
	{Group: "rbac.authorization.k8s.io", Kind: "ClusterRoleBinding"}:                  true,
	{Group: "resource.k8s.io", Kind: "DeviceClass"}:                                   true,
	{Group: "resource.k8s.io", Kind: "ResourceSlice"}:                                 true,
	{Group: "resource.k8s.io", Kind: "DeviceTaintRule"}:                               true,
	{Group: "scheduling.k8s.io", Kind: "PriorityClass"}:                               true,
	{Group: "storage.k8s.io", Kind: "CSIDriver"}:                                      true,
	{Group: "storage.k8s.io", Kind: "CSINode"}:                                        true,
	{Group: "storage.k8s.io", Kind: "StorageClass"}:                                   true,
	{Group: "storage.k8s.io", Kind: "VolumeAttachment"}:                               true,
	{Group: "storage.k8s.io", Kind: "VolumeAttributesClass"}:                          true,
	{Group: "storagemigration.k8s.io", Kind: "StorageVersionMigration"}:               true,
}

// builtinGroup reports whether group is one of Kubernetes' built-in API
// groups: the core group, the unsuffixed ones, and those under k8s.io
// (which CRDs may not use without an approval annotation).
func builtinGroup(group string) bool {
	switch group {
	case "", "apps", "autoscaling", "batch", "policy":
		return true
	}
	return strings.HasSuffix(group, ".k8s.io")
}
