package access

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/linode/linodego"
	"go.uber.org/zap"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/spec"
)

// LKEAPI is the part of the Linode API NewSource's source calls: exactly
// these linodego methods. The real *linodego.Client satisfies it; so does
// the client pkg/linodetest returns.
type LKEAPI interface {
	ListLKEClusters(ctx context.Context, opts *linodego.ListOptions) ([]linodego.LKECluster, error)
	ListLKEClusterAPIEndpoints(ctx context.Context, clusterID int, opts *linodego.ListOptions) ([]linodego.LKEClusterAPIEndpoint, error)
}

var _ LKEAPI = (*linodego.Client)(nil)

// PlatformDashboards are the dashboards the platform's observability stack
// ships (pkg/observability), by uid and title; an environment's dashboard
// title is the title followed by " (<environment>)". NewSource lists them
// for every environment with observability enabled unless WithDashboards
// says otherwise. A test holds this list equal to pkg/observability's.
var PlatformDashboards = []Dashboard{
	{UID: "platform-overview", Title: "Platform overview"},
	{UID: "platform-logs", Title: "Platform logs"},
}

// DashboardPath is where Grafana serves the dashboard with uid.
func DashboardPath(uid string) string { return "/d/" + uid }

type sourceOptions struct {
	logger     *zap.Logger
	dashboards func(spec.Environment) []Dashboard
	hosts      map[string]string
}

// Option configures NewSource.
type Option func(*sourceOptions) error

// WithLogger sets the logger. Default: zap.NewNop().
func WithLogger(l *zap.Logger) Option {
	return func(o *sourceOptions) error {
		if l == nil {
			return errors.New("access: WithLogger: nil logger")
		}
		o.logger = l
		return nil
	}
}

// WithDashboards sets the dashboards of each environment: fn is called with
// the environment's spec (defaults applied) on every request. A dashboard
// with an empty Path gets DashboardPath(UID). Default: PlatformDashboards
// for an environment with observability enabled, none otherwise.
func WithDashboards(fn func(spec.Environment) []Dashboard) Option {
	return func(o *sourceOptions) error {
		if fn == nil {
			return errors.New("access: WithDashboards: nil function")
		}
		o.dashboards = fn
		return nil
	}
}

// WithIngressHosts sets the ingress host of environments, by environment
// name: a DNS name or an IP address, such as the address of the NodeBalancer
// in front of the ingress controller. Default: none, and Ingress.Host is
// empty. A host for an environment not served, a host that is neither, or a
// host for an environment whose ingress is disabled fails NewSource.
func WithIngressHosts(hosts map[string]string) Option {
	return func(o *sourceOptions) error {
		o.hosts = make(map[string]string, len(hosts))
		for env, h := range hosts {
			if net.ParseIP(h) == nil && len(validation.IsDNS1123Subdomain(h)) > 0 {
				return fmt.Errorf("access: WithIngressHosts[%s]: %q is neither a DNS name nor an IP address", env, h)
			}
			o.hosts[env] = h
		}
		return nil
	}
}

// SpecSource is the Source NewSource returns: specs plus, on each request,
// what Linode says of their clusters.
type SpecSource struct {
	api  LKEAPI
	envs []spec.Environment // defaults applied, sorted by name
	o    sourceOptions
}

var _ Source = (*SpecSource)(nil)

// NewSource returns a Source serving envs: each environment's spec
// (defaults applied) for its region, version, namespaces, ingress, alert
// routes and dashboards, and api for its cluster and API endpoints, read
// again on every request. Each spec must pass Validate and names must be
// unique; a bad spec fails here, naming it, before any request.
func NewSource(api LKEAPI, envs []spec.Environment, opts ...Option) (*SpecSource, error) {
	if api == nil {
		return nil, errors.New("access: NewSource: nil LKEAPI")
	}
	o := sourceOptions{logger: zap.NewNop(), dashboards: defaultDashboards}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	s := &SpecSource{api: api, o: o}
	seen := map[string]bool{}
	for _, e := range envs {
		e = e.WithDefaults()
		if err := e.Validate(); err != nil {
			return nil, fmt.Errorf("access: spec of environment %q: %w", e.Name, err)
		}
		if seen[e.Name] {
			return nil, fmt.Errorf("access: environment %q is given twice", e.Name)
		}
		seen[e.Name] = true
		s.envs = append(s.envs, e)
	}
	for env := range o.hosts {
		i := slices.IndexFunc(s.envs, func(e spec.Environment) bool { return e.Name == env })
		switch {
		case i < 0:
			return nil, fmt.Errorf("access: WithIngressHosts[%s]: no such environment", env)
		case !s.envs[i].Ingress.Enabled:
			return nil, fmt.Errorf("access: WithIngressHosts[%s]: the environment's ingress is not enabled", env)
		}
	}
	slices.SortFunc(s.envs, func(a, b spec.Environment) int { return strings.Compare(a.Name, b.Name) })
	return s, nil
}

func defaultDashboards(env spec.Environment) []Dashboard {
	if !env.Observability.Enabled {
		return nil
	}
	out := make([]Dashboard, len(PlatformDashboards))
	for i, d := range PlatformDashboards {
		out[i] = Dashboard{UID: d.UID, Title: d.Title + " (" + env.Name + ")"}
	}
	return out
}

// Environments returns every environment: one request listing their
// clusters, then one per cluster found for its API endpoints.
func (s *SpecSource) Environments(ctx context.Context) ([]Environment, error) {
	return s.read(ctx, s.envs)
}

// Environment returns the environment named name: one request for its
// cluster, and one for its API endpoints if it exists.
func (s *SpecSource) Environment(ctx context.Context, name string) (Environment, error) {
	i := slices.IndexFunc(s.envs, func(e spec.Environment) bool { return e.Name == name })
	if i < 0 {
		return Environment{}, fmt.Errorf("environment %q: %w", name, ErrUnknownEnvironment)
	}
	out, err := s.read(ctx, s.envs[i:i+1])
	if err != nil {
		return Environment{}, err
	}
	return out[0], nil
}

func (s *SpecSource) read(ctx context.Context, envs []spec.Environment) ([]Environment, error) {
	clusters, err := s.clusters(ctx, envs)
	if err != nil {
		return nil, err
	}
	out := make([]Environment, 0, len(envs))
	for _, env := range envs {
		e := s.fromSpec(env)
		if c, ok := clusters[env.Cluster.Label]; ok {
			e.Cluster.ID, e.Cluster.Status = c.ID, string(c.Status)
			eps, err := s.api.ListLKEClusterAPIEndpoints(ctx, c.ID, nil)
			if err != nil {
				return nil, fmt.Errorf("list API endpoints of LKE cluster %q (id %d): %w", c.Label, c.ID, err)
			}
			for _, ep := range eps {
				e.Cluster.APIEndpoints = append(e.Cluster.APIEndpoints, ep.Endpoint)
			}
		}
		s.o.logger.Debug("environment read", zap.String("environment", e.Name),
			zap.String("cluster", e.Cluster.Label), zap.String("status", e.Cluster.Status))
		out = append(out, e.normalized())
	}
	return out, nil
}

// clusters finds the clusters of envs by label, as pkg/cluster does: one
// list filtered on the labels, checked again here (the filter is a
// request, not a promise). Two clusters with one label is an error
// wrapping change.ErrConflict.
func (s *SpecSource) clusters(ctx context.Context, envs []spec.Environment) (map[string]linodego.LKECluster, error) {
	f := linodego.Filter{}
	if len(envs) > 1 {
		f.Operator = "+or"
	}
	want := map[string]bool{}
	for _, e := range envs {
		f.AddField(linodego.Eq, "label", e.Cluster.Label)
		want[e.Cluster.Label] = true
	}
	b, err := f.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("list LKE clusters: %w", err)
	}
	all, err := s.api.ListLKEClusters(ctx, &linodego.ListOptions{Filter: string(b)})
	if err != nil {
		return nil, fmt.Errorf("list LKE clusters: %w", err)
	}
	found := map[string]linodego.LKECluster{}
	for _, c := range all {
		if !want[c.Label] {
			continue
		}
		if prev, dup := found[c.Label]; dup {
			return nil, fmt.Errorf("find LKE cluster %q: several clusters have this label (ids %d, %d): %w", c.Label, prev.ID, c.ID, change.ErrConflict)
		}
		found[c.Label] = c
	}
	return found, nil
}

// fromSpec is the part of env's metadata its spec holds.
func (s *SpecSource) fromSpec(env spec.Environment) Environment {
	e := Environment{
		Name: env.Name, Region: env.Cluster.Region, KubernetesVersion: env.Cluster.KubernetesVersion,
		GitOpsOnly: env.GitOps.GitOpsOnly,
		Cluster:    Cluster{Label: env.Cluster.Label, Status: StatusAbsent},
	}
	for _, ns := range env.Namespaces {
		e.Namespaces = append(e.Namespaces, Namespace{Name: ns.Name, Team: ns.Team, Ingress: ns.Ingress})
	}
	if env.Ingress.Enabled {
		e.Ingress = &Ingress{ClassName: env.Ingress.ClassName, Namespace: env.Ingress.Namespace, Host: s.o.hosts[env.Name]}
	}
	for _, d := range s.o.dashboards(env) {
		if d.Path == "" {
			d.Path = DashboardPath(d.UID)
		}
		e.Dashboards = append(e.Dashboards, d)
	}
	if env.Observability.Enabled { // no Alertmanager, no routes
		for _, r := range env.Observability.AlertRoutes {
			e.AlertRoutes = append(e.AlertRoutes, AlertRoute{Name: r.Name, Severity: r.Severity, Channel: r.SlackChannel})
		}
	}
	return e
}
