package secrets_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
	"helm.sh/helm/v3/pkg/action"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/org/platform/internal/controlplane"
	"github.com/org/platform/internal/helmrelease"
	"github.com/org/platform/internal/httpcount"
	"github.com/org/platform/internal/shared"
	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/secrets"
	"github.com/org/platform/pkg/spec"
)

// chartRepo serves the shared upstream chart repository and returns the
// options that load the sealed-secrets chart from it, as from upstream.
func chartRepo(t *testing.T) []helmrelease.Option {
	t.Helper()
	idx, err := shared.Find("charts/index.yaml")
	if err != nil {
		if shared.Required() {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(filepath.Dir(idx))))
	t.Cleanup(srv.Close)
	return []helmrelease.Option{
		helmrelease.WithRepository(secrets.ChartRepoURL, srv.URL),
		helmrelease.WithCacheDir(t.TempDir()),
		helmrelease.WithLogger(zaptest.NewLogger(t)),
	}
}

func TestControllerRelease(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		secrets   spec.Secrets
		wantNS    string
		wantErr   error  // nil: valid
		wantField string // in the error
	}{
		{"default namespace", spec.Secrets{SealedSecrets: true}, "kube-system", nil, ""},
		{"namespace of the spec", spec.Secrets{SealedSecrets: true, Namespace: "sealed"}, "sealed", nil, ""},
		{"no controller", spec.Secrets{Namespace: "kube-system"}, "", secrets.ErrControllerDisabled, "secrets.sealedSecrets"},
		{"bad namespace", spec.Secrets{SealedSecrets: true, Namespace: "Kube_System"}, "", helmrelease.ErrInvalid, "secrets.namespace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rel, err := secrets.ControllerRelease(spec.Environment{Name: "test", Secrets: tt.secrets})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.wantField) {
					t.Fatalf("ControllerRelease = %v, want %v naming %s", err, tt.wantErr, tt.wantField)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if rel.Namespace != tt.wantNS || rel.Name != "sealed-secrets" || rel.Chart != (helmrelease.Chart{Name: "sealed-secrets", Version: "2.18.5", RepoURL: "https://bitnami-labs.github.io/sealed-secrets"}) {
				t.Errorf("release = %s/%s of %+v, want sealed-secrets in %s of chart sealed-secrets 2.18.5 from upstream", rel.Namespace, rel.Name, rel.Chart, tt.wantNS)
			}
		})
	}
}

// TestControllerChartNamesWhatKubesealFinds renders the real chart with
// the controller's values, without a cluster: every value is one the
// chart knows, and the Service is the one kubeseal's defaults
// (--controller-namespace kube-system, --controller-name
// sealed-secrets-controller) and FetchCert's find.
func TestControllerChartNamesWhatKubesealFinds(t *testing.T) {
	t.Parallel()
	opts := chartRepo(t)
	rel, err := secrets.ControllerRelease(spec.Environment{Name: "test", Secrets: spec.Secrets{SealedSecrets: true}})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := helmrelease.LoadChart(rel.Chart, opts...)
	if err != nil {
		t.Fatal(err)
	}
	unknown, err := helmrelease.UnknownValues(ch, rel.Values, nil)
	if err != nil || len(unknown) > 0 {
		t.Errorf("values unknown to the chart: %v (%v)", unknown, err)
	}
	// The check has teeth: a misspelt key is caught.
	misspelt := map[string]any{"fullNameOverride": secrets.DefaultControllerName}
	if u, _ := helmrelease.UnknownValues(ch, misspelt, nil); !slices.Equal(u, []string{"fullNameOverride"}) {
		t.Errorf("UnknownValues of a misspelt key = %v, want it named", u)
	}
	p, err := helmrelease.PlanNew(rel, "1.34", append(opts, helmrelease.WithEnvironment("test"), helmrelease.WithLayer(change.LayerSecrets))...)
	if err != nil {
		t.Fatal(err)
	}
	want := "create service/" + secrets.DefaultControllerNamespace + "/" + secrets.DefaultControllerName
	if lines := p.Result().Lines(); !slices.Contains(lines, want) {
		t.Errorf("the plan does not %s:\n%s", want, strings.Join(lines, "\n"))
	}
	if id := p.Steps[0].ID; id != "test/secrets/release/kube-system/sealed-secrets" {
		t.Errorf("step ID %q", id)
	}
}

// TestIntegrationEnsureController installs the controller from the real
// chart on a control plane of its own (Helm's atomic wait needs kwok's
// Ready pods, which the package's shared control plane does not run),
// then checks that the Service kubeseal looks for exists and that a second
// EnsureController makes no revision and no write.
func TestIntegrationEnsureController(t *testing.T) {
	t.Parallel()
	opts := chartRepo(t)
	cp := controlplane.RequireNew(t, controlplane.WithWorkloads(), controlplane.WithNodes(2))
	rc := cp.RESTConfig()
	count := &httpcount.Counter{}
	rc.WrapTransport = count.Wrap
	getter, err := helmrelease.GetterFor(rc)
	if err != nil {
		t.Fatal(err)
	}
	kube, err := kubernetes.NewForConfig(cp.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	env := spec.Environment{Name: "it", Secrets: spec.Secrets{SealedSecrets: true}}
	opts = append(opts, helmrelease.WithTimeout(2*time.Minute))
	ctx := t.Context()

	start := time.Now()
	res, err := secrets.EnsureController(ctx, getter, env, opts...)
	if err != nil {
		t.Fatalf("EnsureController: %v", err)
	}
	t.Logf("MEASURE install: %s, %d requests (%d writes), revision %d", time.Since(start).Round(time.Millisecond), count.Requests(), count.Writes(), res.Revision)
	if res.Revision != 1 || !res.Changed() {
		t.Errorf("first EnsureController: revision %d, changes %v; want revision 1 installed", res.Revision, res.Changes)
	}
	svc, err := kube.CoreV1().Services(secrets.DefaultControllerNamespace).Get(ctx, secrets.DefaultControllerName, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the Service kubeseal looks for: %v", err)
	}
	// kubeseal proxies to the name of the Service's first port.
	if len(svc.Spec.Ports) == 0 || svc.Spec.Ports[0].Name != secrets.DefaultControllerPort {
		t.Errorf("Service %s/%s ports %+v, want the first named %q", svc.Namespace, svc.Name, svc.Spec.Ports, secrets.DefaultControllerPort)
	}
	if _, err := kube.AppsV1().Deployments(secrets.DefaultControllerNamespace).Get(ctx, secrets.DefaultControllerName, metav1.GetOptions{}); err != nil {
		t.Errorf("the controller's Deployment: %v", err)
	}

	before, beforeW := count.Requests(), count.Writes()
	start = time.Now()
	res, err = secrets.EnsureController(ctx, getter, env, opts...)
	if err != nil {
		t.Fatalf("second EnsureController: %v", err)
	}
	t.Logf("MEASURE no-op re-ensure: %s, %d requests (%d writes)", time.Since(start).Round(time.Millisecond), count.Requests()-before, count.Writes()-beforeW)
	if res.Changed() || res.Revision != 0 {
		t.Errorf("second EnsureController: changes %v, revision %d; want none", res.Changes, res.Revision)
	}
	if w := count.Writes() - beforeW; w != 0 {
		t.Errorf("second EnsureController made %d writes, want 0", w)
	}
	cfg := new(action.Configuration)
	if err := cfg.Init(getter, secrets.DefaultControllerNamespace, "secret", t.Logf); err != nil {
		t.Fatal(err)
	}
	h, err := cfg.Releases.History(secrets.ReleaseName)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 1 {
		t.Errorf("history has %d revisions after two EnsureController, want 1", len(h))
	}
}
