package access_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/linode/linodego"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/org/platform/pkg/access"
	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/linodetest"
	"github.com/org/platform/pkg/observability"
	"github.com/org/platform/pkg/spec"
)

func standard(t *testing.T, names ...string) []spec.Environment {
	t.Helper()
	var envs []spec.Environment
	for _, n := range names {
		e, err := spec.Default(n)
		if err != nil {
			t.Fatal(err)
		}
		envs = append(envs, e)
	}
	return envs
}

// cluster makes env's cluster on the simulator, out of band, and returns it.
func cluster(t *testing.T, srv *linodetest.Server, client *linodego.Client, env spec.Environment) *linodego.LKECluster {
	t.Helper()
	c, err := client.CreateLKECluster(t.Context(), linodego.LKEClusterCreateOptions{
		Label: env.Cluster.Label, Region: env.Cluster.Region, K8sVersion: env.Cluster.KubernetesVersion,
		NodePools: []linodego.LKENodePoolCreateOptions{{Count: 1, Type: "g6-standard-2"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.MarkClusterReady(c.ID); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestSpecSource: on the simulator, with staging's cluster made and the
// others absent, the list serves the four standard environments — staging
// with its id, status and the API endpoints Linode lists for it; the others
// absent with none — each with the spec's namespaces, ingress, alert routes
// by name/severity/channel and the observability dashboards; in one
// request listing the clusters by label plus one per cluster found. Every
// response passes openapi.yaml.
func TestSpecSource(t *testing.T) {
	t.Parallel()
	srv, client := linodetest.New(t)
	envs := standard(t, spec.StandardNames()...)
	staging := cluster(t, srv, client, envs[1])
	src, err := access.NewSource(client, envs, access.WithIngressHosts(map[string]string{"staging": "apps.staging.example.com"}))
	if err != nil {
		t.Fatal(err)
	}
	h := &access.Handler{Source: src}
	srv.ResetCounts()

	var list access.List
	if err := json.Unmarshal(serve(t, h, http.MethodGet, "/environments", nil).Body.Bytes(), &list); err != nil {
		t.Fatal(err)
	}
	if c := srv.Counts(); c.Mutating != 0 || c.ByEndpoint["GET /lke/clusters"] != 1 || c.ByEndpoint["GET /lke/clusters/{clusterId}/api-endpoints"] != 1 {
		t.Errorf("one list served with requests %v; want one cluster list and one endpoint list, no write", c.ByEndpoint)
	}
	var names []string
	for _, e := range list.Environments {
		names = append(names, e.Name)
	}
	if want := []string{"development", "production", "staging", "system"}; !slices.Equal(names, want) {
		t.Fatalf("environments %v; want %v", names, want)
	}
	for _, e := range list.Environments {
		spec := envs[slices.IndexFunc(envs, func(s spec.Environment) bool { return s.Name == e.Name })]
		if e.Region != spec.Cluster.Region || e.KubernetesVersion != spec.Cluster.KubernetesVersion || e.GitOpsOnly != spec.GitOps.GitOpsOnly {
			t.Errorf("%s: region/version/gitOpsOnly %s %s %v", e.Name, e.Region, e.KubernetesVersion, e.GitOpsOnly)
		}
		if e.Cluster.Label != spec.Cluster.Label {
			t.Errorf("%s: cluster label %q; want %q", e.Name, e.Cluster.Label, spec.Cluster.Label)
		}
		if e.Name == "staging" {
			if e.Cluster.ID != staging.ID || e.Cluster.Status != "ready" || len(e.Cluster.APIEndpoints) == 0 {
				t.Errorf("staging's cluster %+v; want id %d, ready, its endpoints", e.Cluster, staging.ID)
			}
			for _, ep := range e.Cluster.APIEndpoints {
				if !strings.HasPrefix(ep, "https://") {
					t.Errorf("staging: endpoint %q", ep)
				}
			}
			if e.Ingress == nil || e.Ingress.Host != "apps.staging.example.com" || e.Ingress.ClassName != "nginx" {
				t.Errorf("staging: ingress %+v", e.Ingress)
			}
		} else {
			if e.Cluster.ID != 0 || e.Cluster.Status != access.StatusAbsent || len(e.Cluster.APIEndpoints) != 0 {
				t.Errorf("%s: cluster %+v; want absent", e.Name, e.Cluster)
			}
			if e.Ingress == nil || e.Ingress.Host != "" {
				t.Errorf("%s: ingress %+v; want the controller, no host", e.Name, e.Ingress)
			}
		}
		var nsNames []string
		for _, ns := range e.Namespaces {
			nsNames = append(nsNames, ns.Name)
			if ns.Name == "apps" && !ns.Ingress {
				t.Errorf("%s: namespace apps not reachable by the ingress", e.Name)
			}
		}
		if !slices.Equal(nsNames, []string{"apps", "jobs"}) {
			t.Errorf("%s: namespaces %v", e.Name, nsNames)
		}
		if len(e.AlertRoutes) != len(spec.Observability.AlertRoutes) {
			t.Errorf("%s: %d alert routes; want %d", e.Name, len(e.AlertRoutes), len(spec.Observability.AlertRoutes))
		}
		for i, r := range e.AlertRoutes {
			want := spec.Observability.AlertRoutes[i]
			if r != (access.AlertRoute{Name: want.Name, Severity: want.Severity, Channel: want.SlackChannel}) {
				t.Errorf("%s: alert route %+v; want %+v", e.Name, r, want)
			}
		}
		if len(e.Dashboards) != len(access.PlatformDashboards) || e.Dashboards[0].Path != "/d/platform-overview" ||
			!strings.HasSuffix(e.Dashboards[0].Title, "("+e.Name+")") {
			t.Errorf("%s: dashboards %+v", e.Name, e.Dashboards)
		}
	}

	// One environment: one list, one endpoint request if its cluster exists.
	srv.ResetCounts()
	serve(t, h, http.MethodGet, "/environments/production", nil)
	if c := srv.Counts(); c.Reading != 1 {
		t.Errorf("GET /environments/production (absent cluster): %d reads (%v); want 1", c.Reading, c.ByEndpoint)
	}
	srv.ResetCounts()
	serve(t, h, http.MethodGet, "/environments/qa", nil)
	if c := srv.Counts(); c.Reading != 0 {
		t.Errorf("GET /environments/qa: %d reads; want none", c.Reading)
	}
}

// TestSpecSourceFailures: two clusters with one label is an error wrapping
// change.ErrConflict, served as 503.
func TestSpecSourceFailures(t *testing.T) {
	t.Parallel()
	srv, client := linodetest.New(t)
	envs := standard(t, spec.Staging)
	cluster(t, srv, client, envs[0])
	other := envs[0]
	other.Cluster.Label = "other"
	dup := cluster(t, srv, client, other)
	// Linode refuses a second label through its API: only out of band.
	srv.Mutate(func(st *linodetest.State) { st.Clusters[dup.ID].Label = envs[0].Cluster.Label })
	src, err := access.NewSource(client, envs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Environment(t.Context(), "staging"); !errors.Is(err, change.ErrConflict) {
		t.Errorf("two clusters labelled platform-staging: %v; want ErrConflict", err)
	}
	if rec := serve(t, &access.Handler{Source: src}, http.MethodGet, "/environments/staging", nil); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("conflict: %d; want 503", rec.Code)
	}
}

func TestNewSourceRefusesBadInput(t *testing.T) {
	t.Parallel()
	_, client := linodetest.New(t)
	dev := standard(t, spec.Development)
	noIngress := standard(t, spec.Development)
	noIngress[0].Ingress.Enabled = false
	bad := standard(t, spec.Development)
	bad[0].Cluster.NodePools[0].Count = 0
	for _, tc := range []struct {
		name string
		envs []spec.Environment
		opts []access.Option
		want string
	}{
		{"invalid spec", bad, nil, "cluster.nodePools[general].count"},
		{"twice", append(dev, dev...), nil, "given twice"},
		{"host for unknown env", dev, []access.Option{access.WithIngressHosts(map[string]string{"qa": "a.example.com"})}, "no such environment"},
		{"host not a name", dev, []access.Option{access.WithIngressHosts(map[string]string{"development": "https://a/"})}, "neither a DNS name nor an IP"},
		{"host without ingress", noIngress, []access.Option{access.WithIngressHosts(map[string]string{"development": "192.0.2.10"})}, "ingress is not enabled"},
		{"nil logger", dev, []access.Option{access.WithLogger(nil)}, "nil logger"},
	} {
		if _, err := access.NewSource(client, tc.envs, tc.opts...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want an error containing %q", tc.name, err, tc.want)
		}
	}
}

// TestDashboardsMatchObservability holds PlatformDashboards equal to the
// dashboards pkg/observability ships (uid, and title before the
// environment), and WithDashboards replaces them.
func TestDashboardsMatchObservability(t *testing.T) {
	t.Parallel()
	env := standard(t, spec.Staging)[0]
	cms, err := observability.Dashboards(env)
	if err != nil {
		t.Fatal(err)
	}
	var shipped []access.Dashboard
	for _, cm := range cms {
		for _, js := range cm.Data {
			var model struct{ UID, Title string }
			if err := json.Unmarshal([]byte(js), &model); err != nil {
				t.Fatal(err)
			}
			shipped = append(shipped, access.Dashboard{UID: model.UID, Title: strings.TrimSuffix(model.Title, " (staging)")})
		}
	}
	if !slices.Equal(shipped, access.PlatformDashboards) {
		t.Errorf("pkg/observability ships %+v; PlatformDashboards says %+v", shipped, access.PlatformDashboards)
	}

	_, client := linodetest.New(t)
	src, err := access.NewSource(client, []spec.Environment{env}, access.WithDashboards(func(e spec.Environment) []access.Dashboard {
		return []access.Dashboard{{UID: "slo", Title: "SLO " + e.Name}, {UID: "x", Title: "X", Path: "/d/x/custom"}}
	}))
	if err != nil {
		t.Fatal(err)
	}
	got, err := src.Environment(t.Context(), "staging")
	if err != nil {
		t.Fatal(err)
	}
	if want := []access.Dashboard{{UID: "slo", Title: "SLO staging", Path: "/d/slo"}, {UID: "x", Title: "X", Path: "/d/x/custom"}}; !slices.Equal(got.Dashboards, want) {
		t.Errorf("dashboards %+v; want %+v", got.Dashboards, want)
	}
}

const canary = "canary7f3a9c51e2"

// TestNoCredentialServed: a canary set in every spec field that is not
// served (labels, tags, the alert routes' webhook Secret reference, the
// GitOps repository, the key-backup bucket, firewall descriptions) and the
// cluster's kubeconfig — its token, its CA, the whole document, plain or in
// base64 — never appear in any response of any route, nor in the logs.
func TestNoCredentialServed(t *testing.T) {
	t.Parallel()
	srv, client := linodetest.New(t)
	envs := standard(t, spec.Staging, spec.Production)
	for i := range envs {
		e := &envs[i]
		e.Cluster.Tags = append(e.Cluster.Tags, canary)
		e.Cluster.NodePools[0].Labels = map[string]string{"canary": canary}
		e.Namespaces[0].Labels = map[string]string{"canary": canary}
		for j := range e.Observability.AlertRoutes {
			e.Observability.AlertRoutes[j].WebhookSecretRef = canary + "/webhook-url"
		}
		e.GitOps.RepoURL = "https://git.example.com/org/" + canary + ".git"
		e.Secrets.KeyBackup.Bucket = canary + "-keys"
		e.Network.Firewall.Inbound[0].Description = canary
		if err := e.Validate(); err != nil {
			t.Fatalf("canary spec: %v", err)
		}
	}
	c := cluster(t, srv, client, envs[0])
	kc, err := client.GetLKEClusterKubeconfig(t.Context(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := base64.StdEncoding.DecodeString(kc.KubeConfig)
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{canary, kc.KubeConfig}
	for _, re := range []string{`token: (\S+)`, `certificate-authority-data: (\S+)`} {
		m := regexp.MustCompile(re).FindSubmatch(doc)
		if m == nil {
			t.Fatalf("kubeconfig has no %s", re)
		}
		secrets = append(secrets, string(m[1]))
	}

	core, logs := observer.New(zapcore.DebugLevel)
	src, err := access.NewSource(client, envs, access.WithLogger(zap.New(core)))
	if err != nil {
		t.Fatal(err)
	}
	h := &access.Handler{Source: src, Logger: zap.New(core)}
	var seen strings.Builder
	for _, target := range []string{"/environments", "/environments/staging", "/environments/production", "/environments/qa"} {
		for _, m := range []string{http.MethodGet, http.MethodPost} {
			rec := serve(t, h, m, target, nil)
			seen.WriteString(rec.Body.String())
			for k, vs := range rec.Header() {
				seen.WriteString(k + ": " + strings.Join(vs, ",") + "\n")
			}
		}
	}
	for _, e := range logs.All() {
		seen.WriteString(e.Message)
		for k, v := range e.ContextMap() {
			seen.WriteString(k + "=" + strings.ReplaceAll(strings.ReplaceAll(toString(v), "\n", " "), "\t", " "))
		}
	}
	out := seen.String()
	if !strings.Contains(out, "platform-staging") || !strings.Contains(out, "apiEndpoints") {
		t.Fatalf("the responses hold no environment at all:\n%s", out)
	}
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("a response or log holds %.12s…", s)
		}
	}
}

func toString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
