package helmrelease

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/kube"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage/driver"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/org/platform/internal/livediff"
	"github.com/org/platform/pkg/change"
)

// StepRelease is the kind of the one step a release plans: install or
// upgrade the release (helm upgrade --install). Its Action is an Action.
const StepRelease = "helm.release"

// Action is the Action of a helm.release step: everything ApplyStep needs
// to install or upgrade the release exactly as planned, except the values
// of sensitive keys, which it holds as references and fingerprints only.
type Action struct {
	// Release and Namespace name the release.
	Release   string `json:"release"`
	Namespace string `json:"namespace"`
	// Chart is the chart, pinned.
	Chart Chart `json:"chart"`
	// Values are the release's values without the sensitive keys.
	Values map[string]any `json:"values,omitempty"`
	// Sensitive lists the sensitive keys: reference and fingerprint.
	Sensitive []SensitiveRef `json:"sensitive,omitempty"`
	// ValuesDigest is the SHA-256 of the canonical values, sensitive
	// values counted by their fingerprints ("sha256:<hex>").
	ValuesDigest string `json:"valuesDigest"`
	// ManifestDigest is the SHA-256 of the rendered manifest; ApplyStep
	// refuses to run when a fresh render differs.
	ManifestDigest string `json:"manifestDigest"`
	// Revision is the revision the install or upgrade will make.
	Revision int `json:"revision"`
	// Install says the release does not exist: helm install.
	Install bool `json:"install,omitempty"`
	// DriftCorrection marks an update whose chart and values are the
	// deployed release's: only live objects differ from it.
	DriftCorrection bool `json:"driftCorrection,omitempty"`
	// Unlock names the pending revision found stale, which ApplyStep
	// unlocks first (see ApplyStep).
	Unlock *Unlock `json:"unlock,omitempty"`
	// KubeVersion, set by PlanNew, pins the capabilities the chart is
	// rendered with to Helm's built-in ones with this Kubernetes version
	// ("v1.34.0"), at plan and at apply, instead of the cluster's.
	KubeVersion string `json:"kubeVersion,omitempty"`
}

// Unlock is a pending revision to unlock before the upgrade.
type Unlock struct {
	// Revision and Status are the stuck revision's.
	Revision int            `json:"revision"`
	Status   release.Status `json:"status"`
	// Since is when it started.
	Since time.Time `json:"since"`
	// RollbackTo is the last deployed revision to roll back to; 0 means
	// there is none and the pending install is uninstalled.
	RollbackTo int `json:"rollbackTo,omitempty"`
}

// ErrPending is wrapped by the error of a plan or apply that finds the
// release in a pending state younger than WithStaleAfter: another
// operation may be running on it.
var ErrPending = errors.New("another operation is in progress on the release")

// StepID returns the ID of the step of environment env that installs or
// upgrades a release: "<env>/<layer>/release/<namespace>/<name>"
// ("production/secrets/release/kube-system/sealed-secrets"); without the
// environment segment when env is empty.
func StepID(env string, layer change.Layer, namespace, name string) string {
	id := string(layer) + "/release/" + namespace + "/" + name
	if env != "" {
		id = env + "/" + id
	}
	return id
}

// objectName names a release in changes and the base:
// "release/<namespace>/<name>".
func objectName(namespace, name string) string { return "release/" + namespace + "/" + name }

// Plan reads the release's history and live objects and returns the plan
// that would make them match rel, without writing anything: every request
// it sends is a read, a discovery request or a server-side apply in
// dry-run. The plan has one step (kind StepRelease) or none:
//
//   - Create when the release does not exist (or only as a stale
//     pending-install, which ApplyStep uninstalls first);
//   - Update when the deployed revision's chart version or values differ
//     from rel's, listing "chart" and "values.<path>" changes and, per
//     rendered object, what the upgrade would change;
//   - Update with Action.DriftCorrection when chart and values are the
//     deployed release's but live objects differ from the render: the
//     changes are per object and per field, computed by the API server
//     (a forced server-side apply in dry-run of each rendered object,
//     compared with the live object, as pkg/network plans), not by Helm's
//     client-side three-way merge;
//   - no step when chart, values and live objects all match: applying
//     nothing makes no new revision.
//
// A stale pending revision adds a "status" change to the step (see
// ApplyStep for the rule); a pending revision younger than WithStaleAfter
// is an error wrapping ErrPending.
//
// The plan's Base records "<release> chart" (the deployed chart version,
// or "absent"), "<release> values" (the deployed values' digest),
// "<release> status", and per rendered object "<object> fields": a
// digest of the live fields the release sets (never resourceVersion,
// status or managedFields), or "absent".
//
// The chart is rendered with exactly rel.Values, not merged with the
// deployed ones, and with the cluster's version and API groups; a
// sensitive value appears in the plan as its reference and fingerprint.
func Plan(ctx context.Context, kube genericclioptions.RESTClientGetter, rel Release, opts ...Option) (change.Plan, error) {
	o, err := newOptions(opts)
	if err != nil {
		return change.Plan{}, err
	}
	if err := rel.Validate(); err != nil {
		return change.Plan{}, err
	}
	r, err := newRun(kube, rel.Namespace, o)
	if err != nil {
		return change.Plan{}, err
	}
	return r.plan(ctx, rel)
}

// run is one Plan or ApplyStep: Helm's configuration for the release's
// namespace, the live objects and the cluster's capabilities.
type run struct {
	o    *options
	cfg  *action.Configuration
	objs objectAPI
	rc   *rest.Config // lookup in templates; nil in unit tests
	caps *chartutil.Capabilities
}

func newRun(getter genericclioptions.RESTClientGetter, namespace string, o *options) (*run, error) {
	if o.helmConfig != nil {
		caps := o.helmConfig.Capabilities
		if caps == nil {
			caps = chartutil.DefaultCapabilities
		}
		return &run{o: o, cfg: o.helmConfig, objs: o.objects, caps: caps}, nil
	}
	cfg, err := o.config(getter, namespace)
	if err != nil {
		return nil, err
	}
	rc, err := getter.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("Helm configuration: %w", err)
	}
	dc, err := getter.ToDiscoveryClient()
	if err != nil {
		return nil, fmt.Errorf("Helm configuration: discovery: %w", err)
	}
	mapper, err := getter.ToRESTMapper()
	if err != nil {
		return nil, fmt.Errorf("Helm configuration: REST mapper: %w", err)
	}
	dyn, err := dynamic.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("Helm configuration: dynamic client: %w", err)
	}
	// The capabilities Helm would discover itself, read once through the
	// getter's cache and handed to Helm, so that the plan's render and the
	// upgrade's see the same cluster.
	kv, err := dc.ServerVersion()
	if err != nil {
		return nil, fmt.Errorf("read the Kubernetes version of %s: %w", rc.Host, err)
	}
	vs, err := action.GetVersionSet(dc)
	if err != nil {
		return nil, fmt.Errorf("read the API versions of %s: %w", rc.Host, err)
	}
	cfg.Capabilities = &chartutil.Capabilities{
		APIVersions: vs,
		KubeVersion: chartutil.KubeVersion{Version: kv.GitVersion, Major: kv.Major, Minor: kv.Minor},
		HelmVersion: chartutil.DefaultCapabilities.HelmVersion,
	}
	return &run{o: o, cfg: cfg, objs: &dynamicObjects{client: dyn, mapper: mapper}, rc: rc, caps: cfg.Capabilities}, nil
}

// config returns Helm's configuration for namespace (its storage, Secrets
// in namespace, and kube client), or the one given by withHelm.
func (o *options) config(getter genericclioptions.RESTClientGetter, namespace string) (*action.Configuration, error) {
	if o.helmConfig != nil {
		return o.helmConfig, nil
	}
	if getter == nil {
		return nil, errors.New("Helm release: nil Kubernetes client getter")
	}
	cfg := new(action.Configuration)
	logf := func(format string, v ...any) { o.log.Debug(fmt.Sprintf(format, v...), zap.String("source", "helm")) }
	if err := cfg.Init(getter, namespace, "secret", logf); err != nil {
		return nil, fmt.Errorf("Helm configuration for namespace %s: %w", namespace, err)
	}
	if kc, ok := cfg.KubeClient.(*kube.Client); ok {
		kc.Namespace = namespace
	}
	return cfg, nil
}

// state is what the release's history says.
type state struct {
	history  []*release.Release // by version
	last     *release.Release   // nil: no release
	deployed *release.Release   // the revision an upgrade starts from
}

func (r *run) state(name string) (state, error) {
	h, err := r.cfg.Releases.History(name)
	if errors.Is(err, driver.ErrReleaseNotFound) || (err == nil && len(h) == 0) {
		return state{}, nil
	}
	if err != nil {
		return state{}, fmt.Errorf("read the history of release %s: %w", name, err)
	}
	slices.SortFunc(h, func(a, b *release.Release) int { return a.Version - b.Version })
	s := state{history: h, last: h[len(h)-1]}
	for _, rel := range slices.Backward(h) {
		if rel.Info.Status == release.StatusDeployed {
			s.deployed = rel
			break
		}
	}
	if s.deployed == nil && !s.last.Info.Status.IsPending() {
		s.deployed = s.last // a failed first install: Helm upgrades from it
	}
	return s, nil
}

// unlockRule applies the rule for a pending last revision: nil when it
// is not pending; an Unlock when it is older than WithStaleAfter; an
// error wrapping ErrPending otherwise.
func (r *run) unlockRule(s state) (*Unlock, error) {
	if s.last == nil || !s.last.Info.Status.IsPending() {
		return nil, nil
	}
	since := s.last.Info.LastDeployed.Time
	age := r.o.clock.Now().Sub(since)
	if age < r.o.staleAfter {
		return nil, fmt.Errorf("release %s/%s: revision %d is %s since %s (%s ago, unlocked only after %s): %w",
			s.last.Namespace, s.last.Name, s.last.Version, s.last.Info.Status, since.Format(time.RFC3339), age.Round(time.Second), r.o.staleAfter, ErrPending)
	}
	u := &Unlock{Revision: s.last.Version, Status: s.last.Info.Status, Since: since}
	for _, rel := range slices.Backward(s.history) {
		if rel.Info.Status == release.StatusDeployed || rel.Info.Status == release.StatusSuperseded {
			u.RollbackTo = rel.Version
			break
		}
	}
	return u, nil
}

// desired is a release's values as a plan holds them.
type desired struct {
	public map[string]any
	refs   []SensitiveRef
	digest string
}

func (r *run) desired(rel Release) (desired, error) {
	public, refs, err := redacted(rel.Values, rel.Sensitive, r.o.key(rel.Namespace, rel.Name))
	if err != nil {
		return desired{}, fmt.Errorf("release %s/%s: %w", rel.Namespace, rel.Name, err)
	}
	d, err := valuesDigest(public, refs)
	if err != nil {
		return desired{}, err
	}
	return desired{public: public, refs: refs, digest: d}, nil
}

// deployedValues returns the deployed revision's values as a plan would
// hold them, with the same sensitive paths.
func (r *run) deployedValues(cur *release.Release, rel Release) (desired, error) {
	var sens []SensitiveValue
	for _, s := range rel.Sensitive {
		if _, ok := lookup(cur.Config, s.Path); ok {
			sens = append(sens, s)
		}
	}
	return r.desired(Release{Name: rel.Name, Namespace: rel.Namespace, Values: cur.Config, Sensitive: sens})
}

// releaseOptions are the render options of the revision Helm will make.
func releaseOptions(name, namespace string, revision int) chartutil.ReleaseOptions {
	return chartutil.ReleaseOptions{Name: name, Namespace: namespace, Revision: revision, IsInstall: revision == 1, IsUpgrade: revision > 1}
}

// nextRevision is the revision an install or upgrade after unlock makes.
func nextRevision(s state, u *Unlock) int {
	switch {
	case s.last == nil:
		return 1
	case u != nil && u.RollbackTo == 0:
		return 1 // the pending install is uninstalled
	case u != nil:
		return s.last.Version + 2 // the rollback makes one revision first
	}
	return s.last.Version + 1
}

func (r *run) plan(ctx context.Context, rel Release) (change.Plan, error) {
	var p change.Plan
	id := objectName(rel.Namespace, rel.Name)
	s, err := r.state(rel.Name)
	if err != nil {
		return p, err
	}
	unlock, err := r.unlockRule(s)
	if err != nil {
		return p, err
	}
	want, err := r.desired(rel)
	if err != nil {
		return p, err
	}
	install := s.last == nil || (unlock != nil && unlock.RollbackTo == 0)
	cur := s.deployed
	if unlock != nil && unlock.RollbackTo > 0 {
		for _, h := range s.history {
			if h.Version == unlock.RollbackTo {
				cur = h
			}
		}
	}
	if install {
		cur = nil
	}
	if s.last != nil {
		p.Observe(id+" status", string(s.last.Info.Status))
	}
	var changes []change.Change
	sameRelease := false
	if cur == nil {
		p.Observe(id+" chart", absent)
		p.Observe(id+" values", absent)
		changes = append(changes, change.Change{Layer: r.o.layer, Object: id, Op: change.Create, To: rel.Chart.String()})
	} else {
		have, err := r.deployedValues(cur, rel)
		if err != nil {
			return p, err
		}
		curChart := Chart{Name: cur.Chart.Name(), Version: cur.Chart.Metadata.Version}
		p.Observe(id+" chart", curChart.String())
		p.Observe(id+" values", have.digest)
		if curChart.Name != rel.Chart.Name || curChart.Version != rel.Chart.Version {
			changes = append(changes, change.Change{Layer: r.o.layer, Object: id, Field: "chart", From: curChart.String(), To: rel.Chart.String(), Op: change.Update})
		}
		if have.digest != want.digest {
			changes = append(changes, valueChanges(r.o.layer, id, have, want)...)
		}
		sameRelease = len(changes) == 0
	}
	if unlock != nil {
		changes = append(changes, change.Change{Layer: r.o.layer, Object: id, Field: "status",
			From: fmt.Sprintf("revision %d %s since %s", unlock.Revision, unlock.Status, unlock.Since.UTC().Format(time.RFC3339)),
			To:   unlockTarget(unlock), Op: change.Update})
	}

	ch, err := r.o.loadChart(rel.Chart)
	if err != nil {
		return p, err
	}
	values, err := deepCopy(rel.Values)
	if err != nil {
		return p, fmt.Errorf("release %s/%s: copy values: %w", rel.Namespace, rel.Name, err)
	}
	revision := nextRevision(s, unlock)
	out, err := renderChart(ch, values, releaseOptions(rel.Name, rel.Namespace, revision), r.caps, r.rc)
	if err != nil {
		return p, fmt.Errorf("release %s/%s: %w", rel.Namespace, rel.Name, err)
	}
	objChanges, err := r.objectChanges(ctx, &p, rel, out, cur)
	if err != nil {
		return p, err
	}
	changes = append(changes, objChanges...)

	a := Action{
		Release: rel.Name, Namespace: rel.Namespace, Chart: rel.Chart,
		Values: want.public, Sensitive: want.refs, ValuesDigest: want.digest, ManifestDigest: out.digest,
		Revision: revision, Install: install, Unlock: unlock,
	}
	op := change.Update
	switch {
	case install:
		op = change.Create
	case sameRelease && unlock == nil && len(objChanges) == 0:
		return p, nil // chart, values and live objects match: no revision
	case sameRelease && unlock == nil:
		a.DriftCorrection = true
	}
	step, err := change.NewStep(StepID(r.o.env, r.o.layer, rel.Namespace, rel.Name), r.o.layer, StepRelease, op, id, a, changes...)
	if err != nil {
		return p, err
	}
	step.Env = r.o.env
	step.Creates = install
	p.Add(step)
	return p, nil
}

func unlockTarget(u *Unlock) string {
	if u.RollbackTo == 0 {
		return "uninstalled, then installed"
	}
	return fmt.Sprintf("rolled back to revision %d, then upgraded", u.RollbackTo)
}

const absent = "absent"

// valueChanges lists the values that differ, one change per leaf;
// sensitive ones are marked so and compared by fingerprint.
func valueChanges(layer change.Layer, id string, have, want desired) []change.Change {
	hv, wv := map[string]string{}, map[string]string{}
	flatten("", have.public, hv)
	flatten("", want.public, wv)
	sens := sensitivePaths(want.refs)
	for _, ref := range have.refs {
		hv[ref.Path] = ref.Fingerprint
		sens[ref.Path] = true
	}
	for _, ref := range want.refs {
		wv[ref.Path] = ref.Fingerprint
	}
	var out []change.Change
	keys := make([]string, 0, len(hv)+len(wv))
	for k := range hv {
		keys = append(keys, k)
	}
	for k := range wv {
		if _, ok := hv[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		if hv[k] == wv[k] {
			continue
		}
		out = append(out, change.Change{Layer: layer, Object: id, Field: "values." + k, From: hv[k], To: wv[k], Op: change.Update, Sensitive: sens[k]})
	}
	return out
}

// helmMetadata adds what Helm writes on every object of a release (its
// ownership labels and annotations), so that the dry-run compares what
// the upgrade would send.
func helmMetadata(obj *unstructured.Unstructured, name, namespace string) {
	l := obj.GetLabels()
	if l == nil {
		l = map[string]string{}
	}
	l["app.kubernetes.io/managed-by"] = "Helm"
	obj.SetLabels(l)
	a := obj.GetAnnotations()
	if a == nil {
		a = map[string]string{}
	}
	a["meta.helm.sh/release-name"] = name
	a["meta.helm.sh/release-namespace"] = namespace
	obj.SetAnnotations(a)
}

// objID names an object in changes: "deployment/kube-system/sealed-secrets",
// "clusterrole/secrets-unsealer".
func objID(o *unstructured.Unstructured) string {
	id := strings.ToLower(o.GetKind()) + "/"
	if ns := o.GetNamespace(); ns != "" {
		id += ns + "/"
	}
	return id + o.GetName()
}

// objectChanges compares every rendered object with the live one through
// a dry-run apply, records each one's base, and lists the objects of the
// deployed manifest the render no longer has (the upgrade deletes them).
func (r *run) objectChanges(ctx context.Context, p *change.Plan, rel Release, out rendered, cur *release.Release) ([]change.Change, error) {
	var changes []change.Change
	seen := map[string]bool{}
	for _, obj := range out.objects {
		obj = obj.DeepCopy()
		helmMetadata(obj, rel.Name, rel.Namespace)
		known, err := r.objs.scope(obj, rel.Namespace)
		if err != nil {
			return nil, fmt.Errorf("release %s/%s: %w", rel.Namespace, rel.Name, err)
		}
		oid := objID(obj)
		seen[obj.GetKind()+"/"+oid] = true
		if !known {
			// A kind of a CRD the install brings: nothing to read yet.
			p.Observe(oid+" fields", absent)
			changes = append(changes, change.Change{Layer: r.o.layer, Object: oid, Op: change.Create})
			continue
		}
		live, err := r.objs.get(ctx, obj)
		if err != nil {
			return nil, fmt.Errorf("get %s of release %s/%s: %w", oid, rel.Namespace, rel.Name, err)
		}
		applied, err := r.objs.dryRun(ctx, obj, r.o.fieldManager)
		if err != nil && !(live == nil && apierrors.IsNotFound(err)) {
			// The server validates the object now rather than at apply
			// time. (A create in a namespace still to be made answers 404:
			// it is checked when applied.)
			return nil, fmt.Errorf("dry-run apply %s of release %s/%s: %w", oid, rel.Namespace, rel.Name, err)
		}
		if live == nil {
			p.Observe(oid+" fields", absent)
			changes = append(changes, change.Change{Layer: r.o.layer, Object: oid, Op: change.Create})
			continue
		}
		base, err := stripServer(live.Object)
		if err != nil {
			return nil, err
		}
		d, err := change.Digest(managed(base, obj.Object))
		if err != nil {
			return nil, fmt.Errorf("digest %s: %w", oid, err)
		}
		p.Observe(oid+" fields", "sha256:"+d)
		diffs, err := livediff.Diff(live.Object, applied.Object)
		if err != nil {
			return nil, fmt.Errorf("compare %s with its dry-run apply: %w", oid, err)
		}
		secret := obj.GetKind() == "Secret" && obj.GroupVersionKind().Group == ""
		for _, df := range diffs {
			changes = append(changes, change.Change{Layer: r.o.layer, Object: oid, Field: df.Path, From: df.From, To: df.To, Op: change.Update,
				Sensitive: secret && (strings.HasPrefix(df.Path, "data") || strings.HasPrefix(df.Path, "stringData"))})
		}
	}
	if cur == nil {
		return changes, nil
	}
	old, err := parseObjects(cur.Manifest)
	if err != nil {
		return nil, fmt.Errorf("read the manifest of release %s/%s revision %d: %w", rel.Namespace, rel.Name, cur.Version, err)
	}
	for _, obj := range old {
		if _, err := r.objs.scope(obj, rel.Namespace); err != nil {
			return nil, err
		}
		if !seen[obj.GetKind()+"/"+objID(obj)] {
			changes = append(changes, change.Change{Layer: r.o.layer, Object: objID(obj), Op: change.Delete})
		}
	}
	return changes, nil
}

// stripServer returns a copy of an object without what the server moves
// on its own.
func stripServer(obj map[string]any) (map[string]any, error) {
	m, err := livediff.ToMap(obj)
	if err != nil {
		return nil, err
	}
	livediff.StripServer(m)
	return m, nil
}
