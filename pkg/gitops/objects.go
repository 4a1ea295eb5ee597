package gitops

import (
	"errors"
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/org/platform/internal/helmrelease"
	"github.com/org/platform/pkg/spec"
)

// ProjectName is the AppProject every Application of the platform
// belongs to.
const ProjectName = "platform"

// ApplicationSetName is the ApplicationSet of the baseline releases.
const ApplicationSetName = "platform-baseline"

// InCluster is the name Argo CD gives the cluster it runs in; the hub's
// own Applications name it as their destination.
const InCluster = "in-cluster"

// InClusterServer is the API address Argo CD uses for the cluster it
// runs in.
const InClusterServer = "https://kubernetes.default.svc"

// apiArgo is the API version of Argo CD's kinds.
const apiArgo = "argoproj.io/v1alpha1"

// ErrSensitiveValues is returned when a release handed to ApplicationSet
// has sensitive values: an ApplicationSet is a plain object, readable by
// whoever reads the hub (and, for GitOps, the repository), so a secret
// never goes into one.
var ErrSensitiveValues = errors.New("a release with sensitive values cannot be rendered into an Argo CD object")

// ClusterName is the name under which Argo CD knows env's cluster — the
// destination name of its Applications, the name field of its cluster
// Secret: InCluster for the hub, else the environment's name.
func ClusterName(env spec.Environment) string {
	if IsHub(env) {
		return InCluster
	}
	return env.Name
}

// labels are the labels of every object this package renders.
func labels(env string) map[string]any {
	return map[string]any{"app.kubernetes.io/managed-by": "platform", "platform.org/environment": env}
}

// AppProject returns the AppProject ProjectName, in the hub: it may deploy
// from the environments' GitOps repositories (spec gitops.repoURL) and
// from chartRepos (the chart repositories of the ApplicationSet's
// releases: an Application of a Helm chart names the chart's repository
// as its source), to any namespace of the clusters of envs (the hub is
// InCluster); cluster-scoped kinds are allowed, since the baseline charts
// install CRDs, ClusterRoles and webhooks. Repositories and destinations
// are sorted and unique, so the object does not depend on the order of
// envs.
func AppProject(hub spec.Environment, envs []spec.Environment, chartRepos ...string) (*unstructured.Unstructured, error) {
	if !IsHub(hub) {
		return nil, fmt.Errorf("AppProject in %q: %w", hub.Name, ErrNotHub)
	}
	var repos, clusters []string
	for _, e := range envs {
		e = e.WithDefaults()
		if e.GitOps.RepoURL != "" {
			repos = append(repos, e.GitOps.RepoURL)
		}
		clusters = append(clusters, ClusterName(e))
	}
	repos = append(repos, chartRepos...)
	slices.Sort(repos)
	repos = slices.Compact(repos)
	slices.Sort(clusters)
	clusters = slices.Compact(clusters)
	if len(repos) == 0 {
		return nil, errors.New("AppProject: no source repository (gitops.repoURL of every environment is empty)")
	}
	var src, dst []any
	for _, r := range repos {
		src = append(src, r)
	}
	for _, c := range clusters {
		dst = append(dst, map[string]any{"name": c, "namespace": "*"})
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": apiArgo,
		"kind":       "AppProject",
		"metadata":   map[string]any{"name": ProjectName, "namespace": Namespace, "labels": labels(hub.Name)},
		"spec": map[string]any{
			"description":              "The platform's baseline and applications, in every environment",
			"sourceRepos":              src,
			"destinations":             dst,
			"clusterResourceWhitelist": []any{map[string]any{"group": "*", "kind": "*"}},
		},
	}}, nil
}

// Element is one element of the ApplicationSet's list generator: one
// release in one environment. Its fields are the template's parameters.
type Element struct {
	// Env is the environment.
	Env string `json:"env"`
	// Cluster is the destination cluster's name (ClusterName).
	Cluster string `json:"cluster"`
	// Release is the release name.
	Release string `json:"release"`
	// Namespace is the release's namespace.
	Namespace string `json:"namespace"`
	// Chart, Version and RepoURL locate the chart.
	Chart   string `json:"chart"`
	Version string `json:"version"`
	RepoURL string `json:"repoURL"`
	// Values are the release's values as a YAML document.
	Values string `json:"values"`
}

// ApplicationSet returns the ApplicationSet ApplicationSetName, in the hub,
// for the environments of envs whose baseline Argo CD owns (spec
// gitops.baselineOwner: argocd) — and only those: a release has one
// owner, never both. It is nil when no environment of envs hands its
// baseline to Argo CD.
//
// baseline returns an environment's releases exactly as the SDK would
// install them (pkg/rollout's baseline, regardless of the owner). The list
// generator has one Element per environment and release, in the order of
// envs and of each environment's releases; its template makes an
// Application "<env>-<release>" in project ProjectName that renders the
// chart with the element's values (helm.values, the YAML of the release's
// values) into the destination named Element.Cluster, syncing
// automatically with pruning and self-heal, server-side, creating the
// namespace.
//
// The values travel as a YAML string in helm.values rather than an object
// in helm.valuesObject: an ApplicationSet template substitutes strings,
// and an object could only be spliced in by a templatePatch; Argo CD reads
// both as the same values file. A release with sensitive values is an
// error wrapping ErrSensitiveValues.
//
// Limits: only releases. The baseline's plain objects (the Prometheus
// operator's CRDs, which kube-prometheus-stack's values leave to the SDK;
// the ClusterIssuer; the dashboards) are not in the ApplicationSet.
func ApplicationSet(envs []spec.Environment, baseline func(spec.Environment) ([]helmrelease.Release, error)) (*unstructured.Unstructured, error) {
	var elems []any
	for _, env := range envs {
		env = env.WithDefaults()
		if env.GitOps.BaselineOwner != spec.OwnerArgoCD {
			continue
		}
		rels, err := baseline(env)
		if err != nil {
			return nil, fmt.Errorf("ApplicationSet: baseline of %s: %w", env.Name, err)
		}
		for _, rel := range rels {
			e, err := element(env, rel)
			if err != nil {
				return nil, err
			}
			m, err := toMap(e)
			if err != nil {
				return nil, err
			}
			elems = append(elems, m)
		}
	}
	if len(elems) == 0 {
		return nil, nil
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": apiArgo,
		"kind":       "ApplicationSet",
		"metadata":   map[string]any{"name": ApplicationSetName, "namespace": Namespace, "labels": labels(HubName)},
		"spec": map[string]any{
			"goTemplate":        true,
			"goTemplateOptions": []any{"missingkey=error"},
			"generators":        []any{map[string]any{"list": map[string]any{"elements": elems}}},
			"template": map[string]any{
				"metadata": map[string]any{
					"name": "{{.env}}-{{.release}}",
					"labels": map[string]any{
						"app.kubernetes.io/managed-by": "platform",
						"platform.org/environment":     "{{.env}}",
					},
				},
				"spec": map[string]any{
					"project": ProjectName,
					"source": map[string]any{
						"repoURL":        "{{.repoURL}}",
						"chart":          "{{.chart}}",
						"targetRevision": "{{.version}}",
						"helm": map[string]any{
							"releaseName": "{{.release}}",
							"values":      "{{.values}}",
						},
					},
					"destination": map[string]any{"name": "{{.cluster}}", "namespace": "{{.namespace}}"},
					"syncPolicy":  syncPolicy(),
				},
			},
		},
	}}, nil
}

func syncPolicy() map[string]any {
	return map[string]any{
		"automated":   map[string]any{"prune": true, "selfHeal": true},
		"syncOptions": []any{"CreateNamespace=true", "ServerSideApply=true"},
	}
}

// element is rel of env as a list element.
func element(env spec.Environment, rel helmrelease.Release) (Element, error) {
	if len(rel.Sensitive) > 0 {
		return Element{}, fmt.Errorf("ApplicationSet: release %s/%s of %s: %w", rel.Namespace, rel.Name, env.Name, ErrSensitiveValues)
	}
	if err := rel.Validate(); err != nil {
		return Element{}, fmt.Errorf("ApplicationSet: %s: %w", env.Name, err)
	}
	values := rel.Values
	if values == nil {
		values = map[string]any{}
	}
	y, err := yaml.Marshal(values)
	if err != nil {
		return Element{}, fmt.Errorf("ApplicationSet: values of %s/%s of %s: %w", rel.Namespace, rel.Name, env.Name, err)
	}
	return Element{
		Env: env.Name, Cluster: ClusterName(env), Release: rel.Name, Namespace: rel.Namespace,
		Chart: rel.Chart.Name, Version: rel.Chart.Version, RepoURL: rel.Chart.RepoURL, Values: string(y),
	}, nil
}

// Elements returns the list generator's elements of an ApplicationSet
// made by ApplicationSet.
func Elements(appSet *unstructured.Unstructured) ([]Element, error) {
	gens, _, err := unstructured.NestedSlice(appSet.Object, "spec", "generators")
	if err != nil || len(gens) != 1 {
		return nil, fmt.Errorf("ApplicationSet %s: want one generator (got %d): %v", appSet.GetName(), len(gens), err)
	}
	g, _ := gens[0].(map[string]any)
	list, _ := g["list"].(map[string]any)
	raw, _ := list["elements"].([]any)
	out := make([]Element, 0, len(raw))
	for i, r := range raw {
		var e Element
		if err := fromMap(r, &e); err != nil {
			return nil, fmt.Errorf("ApplicationSet %s: element %d: %w", appSet.GetName(), i, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// SampleServiceChartPath is where the sample service's chart lies in the
// repository Argo CD follows.
const SampleServiceChartPath = "charts/sample-service"

// SampleServiceNamespace is the namespace the sample service runs in: the
// standard environments' "apps", whose NetworkPolicies admit the ingress
// controller (spec namespaces[apps].ingress).
const SampleServiceNamespace = "apps"

// SampleServiceValues are the sample service chart's values for env: its
// Ingress in env's ingress class (spec ingress.className) and a host of
// its own.
func SampleServiceValues(env spec.Environment) map[string]any {
	env = env.WithDefaults()
	return map[string]any{
		"environment": env.Name,
		"ingress": map[string]any{
			"enabled":   env.Ingress.Enabled,
			"className": env.Ingress.ClassName,
			"host":      "sample-service." + env.Name + ".platform.internal",
		},
	}
}

// SampleServiceApplication returns the Argo CD Application of the sample
// service in env, made in the hub: "sample-service-<env>" (the hub holds
// one per environment, in one namespace), labelled
// app.kubernetes.io/name=sample-service, from env's GitOps repository and
// revision at SampleServiceChartPath, with SampleServiceValues, into
// SampleServiceNamespace of env's cluster. The namespace must be one of
// env's spec namespaces with ingress admitted; it is an error otherwise.
func SampleServiceApplication(env spec.Environment) (*unstructured.Unstructured, error) {
	env = env.WithDefaults()
	i := slices.IndexFunc(env.Namespaces, func(n spec.Namespace) bool { return n.Name == SampleServiceNamespace })
	if i < 0 || !env.Namespaces[i].Ingress {
		return nil, fmt.Errorf("sample service in %s: namespaces[%s]: must exist with ingress: true", env.Name, SampleServiceNamespace)
	}
	if env.GitOps.RepoURL == "" {
		return nil, fmt.Errorf("sample service in %s: gitops.repoURL: required", env.Name)
	}
	y, err := yaml.Marshal(SampleServiceValues(env))
	if err != nil {
		return nil, fmt.Errorf("sample service in %s: values: %w", env.Name, err)
	}
	lbl := labels(env.Name)
	lbl["app.kubernetes.io/name"] = "sample-service"
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": apiArgo,
		"kind":       "Application",
		"metadata":   map[string]any{"name": "sample-service-" + env.Name, "namespace": Namespace, "labels": lbl},
		"spec": map[string]any{
			"project": ProjectName,
			"source": map[string]any{
				"repoURL":        env.GitOps.RepoURL,
				"targetRevision": env.GitOps.Revision,
				"path":           SampleServiceChartPath,
				"helm":           map[string]any{"releaseName": "sample-service", "values": string(y)},
			},
			"destination": map[string]any{"name": ClusterName(env), "namespace": SampleServiceNamespace},
			"syncPolicy":  syncPolicy(),
		},
	}}, nil
}
