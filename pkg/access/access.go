package access

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrUnknownEnvironment is wrapped by a Source's Environment for a name it
// does not serve; the handler answers it with 404.
var ErrUnknownEnvironment = errors.New("unknown environment")

// Source is what the handler reads: the environments it serves. It belongs
// to this package, the consumer; NewSource and Static implement it.
type Source interface {
	// Environments returns every environment served, sorted by name.
	Environments(ctx context.Context) ([]Environment, error)
	// Environment returns the environment named name, or an error wrapping
	// ErrUnknownEnvironment.
	Environment(ctx context.Context, name string) (Environment, error)
}

// Environment is the access metadata of one environment, as served. It has
// no field for a credential.
type Environment struct {
	// Name is the environment's name.
	Name string `json:"name"`
	// Region is the Linode region of its cluster.
	Region string `json:"region"`
	// KubernetesVersion is the version the spec asks for.
	KubernetesVersion string `json:"kubernetesVersion"`
	// GitOpsOnly says that changes reach the environment only through Git,
	// with an approved plan.
	GitOpsOnly bool `json:"gitOpsOnly"`
	// Cluster is its LKE cluster and where its API answers.
	Cluster Cluster `json:"cluster"`
	// Namespaces are the namespaces the platform makes in it, by name.
	Namespaces []Namespace `json:"namespaces"`
	// Ingress is its ingress controller; nil when the spec enables none.
	Ingress *Ingress `json:"ingress,omitempty"`
	// Dashboards are its Grafana dashboards; empty without observability.
	Dashboards []Dashboard `json:"dashboards"`
	// AlertRoutes are where its alerts go, by severity.
	AlertRoutes []AlertRoute `json:"alertRoutes"`
}

// Cluster statuses beyond Linode's own ("ready", "not_ready").
const (
	// StatusAbsent is the status of a cluster that does not exist (yet).
	StatusAbsent = "absent"
)

// Cluster is an environment's LKE cluster.
type Cluster struct {
	// Label is the cluster's label in the Linode account.
	Label string `json:"label"`
	// ID is the LKE cluster id; 0 while the cluster is absent.
	ID int `json:"id,omitempty"`
	// Status is Linode's status of the cluster ("ready", "not_ready"), or
	// StatusAbsent.
	Status string `json:"status"`
	// APIEndpoints are the URLs of its Kubernetes API server, as Linode
	// lists them; empty while the cluster is absent.
	APIEndpoints []string `json:"apiEndpoints"`
}

// Namespace is a namespace the platform makes.
type Namespace struct {
	// Name is the namespace's name.
	Name string `json:"name"`
	// Team owns the namespace; empty when the spec names none.
	Team string `json:"team,omitempty"`
	// Ingress says whether the ingress controller may reach its pods.
	Ingress bool `json:"ingress"`
}

// Ingress is an environment's ingress controller.
type Ingress struct {
	// ClassName is the IngressClass to use.
	ClassName string `json:"className"`
	// Namespace is where the controller runs.
	Namespace string `json:"namespace"`
	// Host is the host name or address the controller answers on, when it
	// is known (WithIngressHosts); empty otherwise.
	Host string `json:"host,omitempty"`
}

// Dashboard is a Grafana dashboard of the environment.
type Dashboard struct {
	// UID is the dashboard's Grafana uid.
	UID string `json:"uid"`
	// Title is its title.
	Title string `json:"title"`
	// Path is where Grafana serves it, relative to the environment's
	// Grafana ("/d/<uid>").
	Path string `json:"path"`
}

// AlertRoute is where alerts of one severity go: its name, the severity it
// matches and the Slack channel, if any. Never the webhook URL, nor the
// Secret that holds it.
type AlertRoute struct {
	// Name names the route and its receiver.
	Name string `json:"name"`
	// Severity is the severity it matches: critical, warning or info.
	Severity string `json:"severity"`
	// Channel is the Slack channel it posts to; empty when it posts to none.
	Channel string `json:"channel,omitempty"`
}

// Static is a Source of fixed environments, for tests and for callers that
// build the metadata themselves. Environments returns them sorted by name;
// the values are copied out, never shared.
type Static []Environment

var _ Source = Static(nil)

// Environments returns the environments, sorted by name.
func (s Static) Environments(context.Context) ([]Environment, error) {
	out := make([]Environment, len(s))
	for i, e := range s {
		out[i] = e.clone()
	}
	slices.SortFunc(out, func(a, b Environment) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Environment returns the environment named name.
func (s Static) Environment(_ context.Context, name string) (Environment, error) {
	for _, e := range s {
		if e.Name == name {
			return e.clone(), nil
		}
	}
	return Environment{}, fmt.Errorf("environment %q: %w", name, ErrUnknownEnvironment)
}

// clone returns e sharing no slice or pointer with it.
func (e Environment) clone() Environment {
	e.Cluster.APIEndpoints = slices.Clone(e.Cluster.APIEndpoints)
	e.Namespaces = slices.Clone(e.Namespaces)
	e.Dashboards = slices.Clone(e.Dashboards)
	e.AlertRoutes = slices.Clone(e.AlertRoutes)
	if e.Ingress != nil {
		in := *e.Ingress
		e.Ingress = &in
	}
	return e
}

// normalized returns e with nil lists made empty, so that they are served
// as [] (the OpenAPI document says arrays, never null).
func (e Environment) normalized() Environment {
	if e.Cluster.APIEndpoints == nil {
		e.Cluster.APIEndpoints = []string{}
	}
	if e.Namespaces == nil {
		e.Namespaces = []Namespace{}
	}
	if e.Dashboards == nil {
		e.Dashboards = []Dashboard{}
	}
	if e.AlertRoutes == nil {
		e.AlertRoutes = []AlertRoute{}
	}
	return e
}
