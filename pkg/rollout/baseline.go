package rollout

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/org/platform/internal/helmrelease"
	"github.com/org/platform/internal/kubeobjects"
	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/cluster"
	"github.com/org/platform/pkg/gitops"
	"github.com/org/platform/pkg/ingress"
	"github.com/org/platform/pkg/network"
	"github.com/org/platform/pkg/observability"
	"github.com/org/platform/pkg/secrets"
	"github.com/org/platform/pkg/spec"
)

// item is one part of an environment's baseline: a Helm release or a set of
// plain objects, in apply order.
type item struct {
	layer   change.Layer
	release *helmrelease.Release
	objects []*unstructured.Unstructured
	// crds, when set, are the CRDs carried by this chart's crds subchart
	// (kube-prometheus-stack's), loaded when the baseline is planned.
	crds *helmrelease.Chart
	// clusters marks the hub's cluster Secrets (pkg/gitops).
	clusters bool
	// sealed, when set, are the environment's sealed secrets (pkg/secrets),
	// planned after the controller's release, whose chart brings the
	// SealedSecret CRD.
	sealed []secrets.Secret
}

// baseline returns env's baseline in apply order — the Sealed Secrets
// controller (layer secrets); cert-manager, the ingress controller and the
// ClusterIssuer (layer helm); the Prometheus operator's CRDs,
// kube-prometheus-stack, Loki, the OpenTelemetry Collector and the
// dashboards (layer observability) — and the warnings its plan carries.
// An environment whose baseline Argo CD owns (spec gitops.baselineOwner)
// has none: the SDK never installs what Argo CD owns.
func baseline(d Deps, env spec.Environment) ([]item, []string, error) {
	env = env.WithDefaults()
	var items []item
	var warnings []string
	if env.GitOps.BaselineOwner == spec.OwnerArgoCD {
		warnings = append(warnings, "the baseline releases are owned by Argo CD (gitops.baselineOwner: argocd): the hub's ApplicationSet installs them, this SDK does not")
	} else {
		sdk, w, err := sdkBaseline(d, env)
		if err != nil {
			return nil, nil, err
		}
		items, warnings = sdk, append(warnings, w...)
	}
	hub, err := gitopsItems(d, env)
	if err != nil {
		return nil, nil, err
	}
	return append(items, hub...), warnings, nil
}

// gitopsItems are env's part of GitOps (layer gitops): in the hub (the
// system environment), Argo CD, its AppProject, Applications and — for the
// environments whose baseline Argo CD owns — the ApplicationSet, then the
// cluster Secrets registering the fleet's other clusters; in every other
// environment, the ServiceAccount Argo CD manages it with.
func gitopsItems(d Deps, env spec.Environment) ([]item, error) {
	if !gitops.IsHub(env) {
		return []item{{layer: change.LayerGitOps, objects: gitops.ManagerObjects(env)}}, nil
	}
	rels, objs, err := gitops.Hub(env, d.Fleet, func(e spec.Environment) ([]helmrelease.Release, error) {
		items, _, err := sdkBaseline(d, e)
		var out []helmrelease.Release
		for _, it := range items {
			if it.release != nil {
				out = append(out, *it.release)
			}
		}
		return out, err
	})
	if err != nil {
		return nil, err
	}
	var items []item
	for i := range rels {
		rels[i].Values = overlay(rels[i].Values, d.ReleaseValues[rels[i].Namespace+"/"+rels[i].Name])
		items = append(items, item{layer: change.LayerGitOps, release: &rels[i]})
	}
	items = append(items, item{layer: change.LayerGitOps, objects: objs}, item{layer: change.LayerGitOps, clusters: true})
	return items, nil
}

// sdkBaseline is the part of env's baseline this SDK installs when it owns
// it.
func sdkBaseline(d Deps, env spec.Environment) ([]item, []string, error) {
	env = env.WithDefaults()
	var items []item
	var warnings []string
	if env.Secrets.SealedSecrets {
		rel, err := secrets.ControllerRelease(env)
		if err != nil {
			return nil, nil, err
		}
		items = append(items, item{layer: change.LayerSecrets, release: &rel})
		want, w := SealedSecrets(env, d.ObservabilityOptions...)
		warnings = append(warnings, w...)
		switch {
		case len(want) == 0:
		case d.Secrets.Source == nil:
			warnings = append(warnings, fmt.Sprintf("no secrets source (Deps.Secrets.Source): the Secrets %s are not sealed, and what reads them does not start", secretNames(want)))
		default:
			items = append(items, item{layer: change.LayerSecrets, sealed: want})
		}
	} else if want, _ := SealedSecrets(env, d.ObservabilityOptions...); len(want) > 0 {
		warnings = append(warnings, fmt.Sprintf("secrets.sealedSecrets is false: the Secrets %s are not created by this SDK", secretNames(want)))
	}
	if env.Ingress.Enabled {
		rels, err := ingress.Releases(env)
		if err != nil {
			return nil, nil, err
		}
		for i := range rels {
			items = append(items, item{layer: change.LayerHelm, release: &rels[i]})
		}
		iss, err := ingress.ClusterIssuer(env)
		if err != nil {
			return nil, nil, err
		}
		if iss != nil {
			items = append(items, item{layer: change.LayerHelm, objects: []*unstructured.Unstructured{iss}})
		}
		warnings = append(warnings, ingress.Warnings(env)...)
	}
	if env.Observability.Enabled {
		rels, err := observability.Releases(env, d.ObservabilityOptions...)
		if err != nil {
			return nil, nil, err
		}
		for i := range rels {
			it := item{layer: change.LayerObservability, release: &rels[i]}
			if rels[i].Chart.Name == observability.PrometheusStack.Name {
				items = append(items, item{layer: change.LayerObservability, crds: &rels[i].Chart})
			}
			items = append(items, it)
		}
		dash, err := observability.DashboardObjects(env)
		if err != nil {
			return nil, nil, err
		}
		items = append(items, item{layer: change.LayerObservability, objects: dash})
	}
	for _, it := range items {
		if it.release != nil {
			it.release.Values = overlay(it.release.Values, d.ReleaseValues[it.release.Namespace+"/"+it.release.Name])
			if err := d.restoreRelease(env.Name, it.release); err != nil { // rollback.go
				return nil, nil, err
			}
		}
	}
	return items, warnings, nil
}

// declaredOpts declare to network.Posture what env's baseline writes
// besides pkg/network: the releases this SDK installs (their objects are
// compared with their manifests by their own plans) and the bindings it
// applies as plain objects (compared by internal/kubeobjects).
func declaredOpts(d Deps, env spec.Environment) []network.Option {
	if d.BaselineSkipped != "" {
		return nil
	}
	items, _, err := baseline(d, env)
	if err != nil {
		return nil
	}
	var rels, objs []string
	for _, it := range items {
		if it.release != nil {
			rels = append(rels, it.release.Namespace+"/"+it.release.Name)
		}
		for _, o := range it.objects {
			if strings.HasSuffix(o.GetKind(), "Binding") {
				objs = append(objs, kubeobjects.Object(o))
			}
		}
	}
	return []network.Option{network.WithReleases(rels...), network.WithDeclared(objs...)}
}

// overlay merges over into values, recursively, in a copy.
func overlay(values, over map[string]any) map[string]any {
	if len(over) == 0 {
		return values
	}
	out := maps.Clone(values)
	if out == nil {
		out = map[string]any{}
	}
	for k, v := range over {
		vm, vIsMap := v.(map[string]any)
		om, oIsMap := out[k].(map[string]any)
		if vIsMap && oIsMap {
			out[k] = overlay(om, vm)
			continue
		}
		out[k] = v
	}
	return out
}

// helmOpts are the options of every call into internal/helmrelease for env.
func (d Deps) helmOpts(env string, layer change.Layer) []helmrelease.Option {
	opts := []helmrelease.Option{
		helmrelease.WithLogger(d.logger(env)),
		helmrelease.WithClock(d.Clock),
		helmrelease.WithEnvironment(env),
		helmrelease.WithLayer(layer),
	}
	if d.ChartCacheDir != "" {
		opts = append(opts, helmrelease.WithCacheDir(d.ChartCacheDir))
	}
	if d.ReleaseTimeout > 0 {
		opts = append(opts, helmrelease.WithTimeout(d.ReleaseTimeout))
	}
	for from, to := range d.ChartRepositories {
		opts = append(opts, helmrelease.WithRepository(from, to))
	}
	return opts
}

// crdObjects loads the chart and returns the CRDs of its crds subchart.
func crdObjects(d Deps, env string, c helmrelease.Chart) ([]*unstructured.Unstructured, error) {
	ch, err := helmrelease.LoadChart(c, d.helmOpts(env, change.LayerObservability)...)
	if err != nil {
		return nil, fmt.Errorf("load chart %s: %w", c, err)
	}
	return observability.PrometheusOperatorCRDs(ch)
}

// checkValues refuses values with keys the chart does not know.
func checkValues(d Deps, env string, rel helmrelease.Release, layer change.Layer) error {
	ch, err := helmrelease.LoadChart(rel.Chart, d.helmOpts(env, layer)...)
	if err != nil {
		return fmt.Errorf("load chart %s: %w", rel.Chart, err)
	}
	unknown, err := observability.UnknownValues(ch, rel.Values)
	if err != nil {
		return err
	}
	if len(unknown) > 0 {
		return fmt.Errorf("release %s/%s: values the chart %s does not know: %s", rel.Namespace, rel.Name, rel.Chart, strings.Join(unknown, ", "))
	}
	return nil
}

// baselineHow says how the baseline is planned.
type baselineHow int

const (
	baselineLive   baselineHow = iota // against the live cluster
	baselineNew                       // the cluster does not exist: everything is created
	baselineRender                    // no Kubernetes API: rendered for the reader, not planned
	baselineNone                      // Deps.BaselineSkipped
)

// planBaseline plans env's baseline. kube is nil unless how is
// baselineLive.
func planBaseline(ctx context.Context, d Deps, env spec.Environment, kube genericclioptions.RESTClientGetter, how baselineHow) (change.Plan, []RenderedRelease, []string, error) {
	env = env.WithDefaults()
	var p change.Plan
	var rendered []RenderedRelease
	if how == baselineNone {
		return p, nil, nil, nil
	}
	items, warnings, err := baseline(d, env)
	if err != nil {
		return p, nil, nil, err
	}
	// The items are planned concurrently (each one's reads and dry-runs
	// are independent: a release's plan reads its own history and
	// objects), then put back in apply order.
	type result struct {
		plan     change.Plan
		rendered []RenderedRelease
		err      error
	}
	results := make([]result, len(items))
	sem := make(chan struct{}, planConcurrency)
	var wg sync.WaitGroup
	for i, it := range items {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			r := &results[i]
			r.plan, r.rendered, r.err = planItem(ctx, d, env, kube, how, it)
		})
	}
	wg.Wait()
	for _, r := range results {
		if r.err != nil {
			return p, nil, nil, r.err
		}
		p.Append(r.plan)
		rendered = append(rendered, r.rendered...)
	}
	return p, rendered, warnings, nil
}

// planConcurrency is how many baseline items of one environment are
// planned at once.
const planConcurrency = 4

// planItem plans one item of the baseline.
func planItem(ctx context.Context, d Deps, env spec.Environment, kube genericclioptions.RESTClientGetter, how baselineHow, it item) (change.Plan, []RenderedRelease, error) {
	var p change.Plan
	var err error
	if it.clusters {
		switch how {
		case baselineRender:
			return p, nil, nil
		case baselineLive:
			kube, err := kubeFromGetter(kube)
			if err != nil {
				return p, nil, err
			}
			p, err = gitops.PlanClusters(ctx, kube, fleetClusters{d: d}, env.Name, d.Fleet, gitops.WithLogger(d.logger(env.Name)))
			return p, nil, err
		default:
			p, err = gitops.PlanClustersNew(env.Name, d.Fleet)
			return p, nil, err
		}
	}
	if it.sealed != nil {
		p, err = planSealed(ctx, d, env, kube, how, it.sealed)
		return p, nil, err
	}
	objs := it.objects
	if it.crds != nil {
		if objs, err = crdObjects(d, env.Name, *it.crds); err != nil {
			return p, nil, err
		}
	}
	if it.release != nil {
		rel := *it.release
		if err := checkValues(d, env.Name, rel, it.layer); err != nil {
			return p, nil, err
		}
		switch how {
		case baselineLive:
			p, err = helmrelease.Plan(ctx, kube, rel, d.helmOpts(env.Name, it.layer)...)
		default:
			p, err = helmrelease.PlanNew(rel, env.Cluster.KubernetesVersion, d.helmOpts(env.Name, it.layer)...)
		}
		if err != nil {
			return p, nil, fmt.Errorf("plan release %s/%s: %w", rel.Namespace, rel.Name, err)
		}
		if how != baselineRender {
			return p, nil, nil
		}
		var rendered []RenderedRelease
		for _, s := range p.Steps {
			r, err := renderedOf(it.layer, s)
			if err != nil {
				return change.Plan{}, nil, err
			}
			rendered = append(rendered, r)
		}
		return change.Plan{}, rendered, nil
	}
	if how == baselineRender {
		return p, nil, nil
	}
	o := kubeobjects.Options{Env: env.Name, Layer: it.layer}
	if how == baselineLive {
		p, err = kubeobjects.Plan(ctx, kube, objs, o)
	} else {
		p, err = kubeobjects.PlanNew(objs, o)
	}
	return p, nil, err
}

// RenderedRelease is a release rendered for the reader of a plan made
// without a Kubernetes API: what would be installed, not a step.
type RenderedRelease struct {
	Layer          change.Layer `json:"layer"`
	Release        string       `json:"release"`
	Chart          string       `json:"chart"`
	ValuesDigest   string       `json:"valuesDigest"`
	ManifestDigest string       `json:"manifestDigest"`
	Objects        int          `json:"objects"`
}

func (r RenderedRelease) String() string {
	return fmt.Sprintf("%s (%s): %d objects, manifest %s", r.Release, r.Chart, r.Objects, short(r.ManifestDigest))
}

func short(d string) string {
	d = strings.TrimPrefix(d, "sha256:")
	if len(d) > 12 {
		return d[:12]
	}
	return d
}

func renderedOf(layer change.Layer, s change.Step) (RenderedRelease, error) {
	var a helmrelease.Action
	if err := s.Decode(&a); err != nil {
		return RenderedRelease{}, err
	}
	objs := map[string]bool{}
	for _, c := range s.Changes {
		if c.Object != s.Object {
			objs[c.Object] = true
		}
	}
	return RenderedRelease{Layer: layer, Release: a.Namespace + "/" + a.Release, Chart: a.Chart.String(),
		ValuesDigest: a.ValuesDigest, ManifestDigest: a.ManifestDigest, Objects: len(objs)}, nil
}

// Repositories returns, sorted, the upstream chart repositories the
// baseline of the standard environments installs from: the keys
// Deps.ChartRepositories may map to a mirror.
func Repositories() []string {
	var repos []string
	for _, name := range spec.StandardNames() {
		env, err := spec.Default(name)
		if err != nil {
			continue
		}
		items, _, err := baseline(Deps{}, env)
		if err != nil {
			continue
		}
		for _, it := range items {
			if it.release != nil {
				repos = append(repos, it.release.Chart.RepoURL)
			}
		}
	}
	slices.Sort(repos)
	return slices.Compact(repos)
}

// kubeFromGetter builds a clientset on the Helm client's configuration.
func kubeFromGetter(g genericclioptions.RESTClientGetter) (kubernetes.Interface, error) {
	rc, err := g.ToRESTConfig()
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(rc)
}

// fleetClusters reaches the fleet's clusters for the hub (gitops.Clusters):
// each environment's cluster found on Linode as a plan finds it, its
// kubeconfig read, its API endpoint and CA taken from the kubeconfig.
type fleetClusters struct{ d Deps }

func (f fleetClusters) Managed(ctx context.Context, name string) (gitops.Managed, error) {
	var env *spec.Environment
	for i := range f.d.Fleet {
		if f.d.Fleet[i].Name == name {
			env = &f.d.Fleet[i]
		}
	}
	if env == nil {
		return gitops.Managed{}, fmt.Errorf("environment %q is not in the fleet", name)
	}
	api := f.d.linodeFor(name)
	e := env.WithDefaults()
	obs, err := observe(ctx, f.d, api, []spec.Environment{e})
	if err != nil {
		return gitops.Managed{}, err
	}
	cl, err := cluster.PlanFrom(obs.lke, e, cluster.Placement{FirewallID: change.Known(1)}, f.d.clusterOpts(name)...)
	if err != nil {
		return gitops.Managed{}, err
	}
	if cl.ID.Ref != nil {
		return gitops.Managed{}, fmt.Errorf("the cluster of environment %q does not exist yet", name)
	}
	kube, kc, err := kubeClient(ctx, f.d, api, name, cl.ID.Value)
	if err != nil {
		return gitops.Managed{}, err
	}
	rc, err := clientcmd.RESTConfigFromKubeConfig(kc)
	if err != nil {
		return gitops.Managed{}, fmt.Errorf("read the kubeconfig of environment %q: %w", name, err)
	}
	return gitops.Managed{Server: rc.Host, CAData: rc.CAData, Kube: kube}, nil
}

// SealedSecrets returns the Secrets env's baseline delivers sealed, in the
// observability namespace, and a warning for each it cannot name: the
// Secrets Alertmanager's receivers read their Slack webhook URL and
// PagerDuty routing key from (observability.AlertSecrets; the keys are
// those of the spec's alert routes' webhookSecretRef and of the PagerDuty
// reference), and Grafana's admin Secret (observability.GrafanaAdminSecret,
// keys admin-user and admin-password). None when observability is off.
// Each value's reference is SecretRef(env, secret, key).
func SealedSecrets(env spec.Environment, opts ...observability.Option) ([]secrets.Secret, []string) {
	env = env.WithDefaults()
	if !env.Observability.Enabled {
		return nil, nil
	}
	ns := env.Observability.Namespace
	keys := map[string][]string{}
	refs := []string{observability.PagerDutySecretRef, observability.DefaultAlerting(env).PagerDutySecretRef}
	for _, r := range env.Observability.AlertRoutes {
		refs = append(refs, r.WebhookSecretRef)
	}
	for _, ref := range refs {
		if name, key, ok := strings.Cut(ref, "/"); ok && name != "" && key != "" && !slices.Contains(keys[name], key) {
			keys[name] = append(keys[name], key)
		}
	}
	var out []secrets.Secret
	var warnings []string
	add := func(name string, ks []string) {
		data := map[string]string{}
		for _, k := range ks {
			data[k] = SecretRef(env.Name, name, k)
		}
		out = append(out, secrets.Secret{Namespace: ns, Name: name, Data: data})
	}
	for _, name := range observability.AlertSecrets(env, opts...) {
		if len(keys[name]) == 0 {
			warnings = append(warnings, fmt.Sprintf("the Secret %s/%s that Alertmanager mounts is not sealed: its keys are unknown to the baseline (a PagerDuty reference set by observability.WithAlerting)", ns, name))
			continue
		}
		add(name, keys[name])
	}
	add(observability.GrafanaAdminSecret, []string{"admin-user", "admin-password"})
	return out, warnings
}

// SecretRef is the reference of the value of data key key of Secret name
// in environment env: the environment variable
// PLATFORM_<ENV>_<SECRET>_<KEY>, each part upper-cased with every
// character other than a letter or digit made "_":
// PLATFORM_PRODUCTION_ALERTMANAGER_SLACK_WEBHOOK_URL.
func SecretRef(env, name, key string) string {
	up := func(s string) string {
		return strings.Map(func(r rune) rune {
			switch {
			case r >= 'a' && r <= 'z':
				return r - 'a' + 'A'
			case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
				return r
			}
			return '_'
		}, s)
	}
	return "PLATFORM_" + up(env) + "_" + up(name) + "_" + up(key)
}

func secretNames(want []secrets.Secret) string {
	names := make([]string, len(want))
	for i, w := range want {
		names[i] = w.Namespace + "/" + w.Name
	}
	return strings.Join(names, ", ")
}

// planSealed plans env's sealed secrets: against the live cluster with
// secrets.PlanSync once the fingerprint key exists; before (a new cluster,
// or a live one whose controller is installed by this same plan) as
// sealedsecret.seal steps that read, fingerprint and seal when applied
// (secrets.PlanSyncNew). A plan without a Kubernetes API has none.
func planSealed(ctx context.Context, d Deps, env spec.Environment, kube genericclioptions.RESTClientGetter, how baselineHow, want []secrets.Secret) (change.Plan, error) {
	opts := []secrets.Option{secrets.WithLogger(d.logger(env.Name))}
	switch how {
	case baselineRender, baselineNone:
		return change.Plan{}, nil
	case baselineNew:
		p, err := secrets.PlanSyncNew(env, want, opts...)
		return p.Plan, err
	}
	clients, err := secretsClients(kube)
	if err != nil {
		return change.Plan{}, err
	}
	ns := env.Secrets.Namespace
	keyObj := "secret/" + ns + "/" + secrets.FingerprintKeyName
	_, err = clients.Core.CoreV1().Secrets(ns).Get(ctx, secrets.FingerprintKeyName, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		p, err := secrets.PlanSyncNew(env, want, opts...)
		p.Observe(keyObj+" uid", "absent") // as PlanSync records it
		return p.Plan, err
	case err != nil:
		return change.Plan{}, fmt.Errorf("get the fingerprint key secret %s/%s: %w", ns, secrets.FingerprintKeyName, err)
	}
	cert, err := d.sealingCert(ctx, env, clients.Core)
	if err != nil {
		return change.Plan{}, err
	}
	p, err := secrets.PlanSync(ctx, clients, d.Secrets.Source, env, want, append(opts, secrets.WithCert(cert))...)
	if err != nil {
		return change.Plan{}, fmt.Errorf("plan the sealed secrets: %w", err)
	}
	return p.Plan, nil
}

// secretsClients builds pkg/secrets' clients on the Helm client's
// configuration.
func secretsClients(g genericclioptions.RESTClientGetter) (secrets.Clients, error) {
	rc, err := g.ToRESTConfig()
	if err != nil {
		return secrets.Clients{}, err
	}
	return secrets.NewClients(rc)
}
