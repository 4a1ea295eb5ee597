package helmrelease

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	kubefake "helm.sh/helm/v3/pkg/kube/fake"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/repo"
	"helm.sh/helm/v3/pkg/storage"
	"helm.sh/helm/v3/pkg/storage/driver"
	helmtime "helm.sh/helm/v3/pkg/time"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/org/platform/pkg/change"
)

// demoChart is a chart of a ConfigMap whose data come from the values.
func demoChart() *chart.Chart {
	return &chart.Chart{
		Metadata: &chart.Metadata{APIVersion: chart.APIVersionV2, Name: "demo", Version: "0.1.0"},
		Templates: []*chart.File{{Name: "templates/configmap.yaml", Data: []byte(`apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-settings
data:
  greeting: {{ .Values.greeting | quote }}
  password: {{ .Values.password | default "none" | quote }}
`)}},
		Values: map[string]any{"greeting": "hello"},
	}
}

// chartRepo serves a repository holding demoChart and counts its requests.
func chartRepo(t *testing.T) (url string, hits *atomic.Int64) {
	t.Helper()
	dir := t.TempDir()
	if _, err := chartutil.Save(demoChart(), dir); err != nil {
		t.Fatal(err)
	}
	idx, err := repo.IndexDirectory(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := idx.WriteFile(filepath.Join(dir, "index.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
	hits = &atomic.Int64{}
	fs := http.FileServer(http.Dir(dir))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		fs.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, hits
}

// fakeObjects is an objectAPI over a map: every kind is namespaced; a
// dry-run apply merges the object into the live one, map by map. Helm's
// printing fake kube client writes nothing, so the live objects follow
// the release: when a new revision is deployed they become its manifest's
// objects, as the real kube client would have made them (edits a test
// made since are overwritten).
type fakeObjects struct {
	mu      sync.Mutex
	cfg     *action.Configuration
	name    string
	ns      string
	version int
	live    map[string]*unstructured.Unstructured
}

func key(o *unstructured.Unstructured) string {
	return o.GetKind() + "/" + o.GetNamespace() + "/" + o.GetName()
}

func (f *fakeObjects) scope(o *unstructured.Unstructured, ns string) (bool, error) {
	if o.GetNamespace() == "" {
		o.SetNamespace(ns)
	}
	return true, nil
}

// edit changes the live objects.
func (f *fakeObjects) edit(fn func(live map[string]*unstructured.Unstructured)) {
	f.refresh()
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f.live)
}

func (f *fakeObjects) refresh() {
	f.mu.Lock()
	defer f.mu.Unlock()
	last, err := f.cfg.Releases.Deployed(f.name)
	if err != nil || last.Version == f.version {
		return
	}
	objs, err := parseObjects(last.Manifest)
	if err != nil {
		panic(err)
	}
	f.version = last.Version
	f.live = map[string]*unstructured.Unstructured{}
	for _, o := range objs {
		o.SetNamespace(f.ns)
		helmMetadata(o, f.name, f.ns)
		f.live[key(o)] = o
	}
}

func (f *fakeObjects) get(_ context.Context, o *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	f.refresh()
	f.mu.Lock()
	defer f.mu.Unlock()
	if l, ok := f.live[key(o)]; ok {
		return l.DeepCopy(), nil
	}
	return nil, nil
}

func (f *fakeObjects) dryRun(ctx context.Context, o *unstructured.Unstructured, _ string) (*unstructured.Unstructured, error) {
	l, _ := f.get(ctx, o)
	if l == nil {
		return o.DeepCopy(), nil
	}
	merge(l.Object, o.DeepCopy().Object)
	return l, nil
}

func merge(dst, src map[string]any) {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				merge(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
}

type unitEnv struct {
	cfg   *action.Configuration
	objs  *fakeObjects
	opts  []Option
	rel   Release
	hits  *atomic.Int64
	clock *fixedClock
}

type fixedClock struct{ now time.Time }

func (c *fixedClock) Now() time.Time                         { return c.now }
func (c *fixedClock) After(d time.Duration) <-chan time.Time { return time.After(0) }

func newUnitEnv(t *testing.T) *unitEnv {
	t.Helper()
	url, hits := chartRepo(t)
	mem := driver.NewMemory()
	mem.SetNamespace("apps")
	cfg := &action.Configuration{
		Releases:     storage.Init(mem),
		KubeClient:   &kubefake.PrintingKubeClient{Out: io.Discard},
		Capabilities: chartutil.DefaultCapabilities,
		Log:          t.Logf,
	}
	objs := &fakeObjects{cfg: cfg, name: "demo", ns: "apps"}
	clk := &fixedClock{now: time.Now()}
	return &unitEnv{
		cfg: cfg, objs: objs, hits: hits, clock: clk,
		opts: []Option{withHelm(cfg, objs), WithCacheDir(t.TempDir()), WithLogger(zaptest.NewLogger(t)), WithClock(clk), WithEnvironment("test")},
		rel: Release{Name: "demo", Namespace: "apps", Chart: Chart{Name: "demo", Version: "0.1.0", RepoURL: url},
			Values: map[string]any{"greeting": "hello"}},
	}
}

func (e *unitEnv) ensure(t *testing.T, rel Release) Result {
	t.Helper()
	res, err := Ensure(t.Context(), nil, rel, e.opts...)
	if err != nil {
		t.Fatalf("Ensure: %v", err)
	}
	return res
}

func (e *unitEnv) history(t *testing.T) []*release.Release {
	t.Helper()
	h, err := e.cfg.Releases.History(e.rel.Name)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(h, func(a, b *release.Release) int { return a.Version - b.Version })
	return h
}

func TestPinnedVersionRequired(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, version, repoURL string
		wantField              string // "" for valid
	}{
		{"empty version", "", "https://charts.example", "chart.version: required"},
		{"latest", "latest", "https://charts.example", "chart.version: an exact version"},
		{"range", "^2.18.0", "https://charts.example", "chart.version: an exact version"},
		{"no repository", "2.18.5", "", "chart.repoURL: required"},
		{"file path repository", "2.18.5", "/tmp/charts", "chart.repoURL: http(s):// or oci://"},
		{"pinned https", "2.18.5", "https://charts.example", ""},
		{"pinned oci", "2.18.5", "oci://ghcr.io/org/charts", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := Release{Name: "sealed-secrets", Namespace: "kube-system", Chart: Chart{Name: "sealed-secrets", Version: tt.version, RepoURL: tt.repoURL}}.Validate()
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.wantField) {
				t.Fatalf("Validate() = %v, want ErrInvalid naming %q", err, tt.wantField)
			}
		})
	}
	t.Run("plan sends no request", func(t *testing.T) {
		t.Parallel()
		e := newUnitEnv(t)
		rel := e.rel
		rel.Chart.Version = ""
		if _, err := Plan(t.Context(), nil, rel, e.opts...); !errors.Is(err, ErrInvalid) {
			t.Fatalf("Plan with no version = %v, want ErrInvalid", err)
		}
		if n := e.hits.Load(); n != 0 {
			t.Errorf("Plan of an unpinned chart sent %d requests to the repository, want 0", n)
		}
	})
}

func TestValuesDigestStableAcrossMapOrders(t *testing.T) {
	t.Parallel()
	digest := func(t *testing.T, doc string) string {
		t.Helper()
		v, err := decodeValues([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		pub, refs, err := redacted(v, []SensitiveValue{{Path: "auth.password", Ref: "secret/apps/db#password"}}, []byte("k"))
		if err != nil {
			t.Fatal(err)
		}
		d, err := valuesDigest(pub, refs)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	a := digest(t, `{"replicas": 2, "auth": {"user": "app", "password": "hunter2"}, "labels": {"a": "1", "b": "2"}}`)
	tests := []struct {
		name, doc string
		same      bool
	}{
		{"keys in another order", `{"labels": {"b": "2", "a": "1"}, "auth": {"password": "hunter2", "user": "app"}, "replicas": 2}`, true},
		{"a value changed", `{"replicas": 3, "auth": {"user": "app", "password": "hunter2"}, "labels": {"a": "1", "b": "2"}}`, false},
		{"the secret changed", `{"replicas": 2, "auth": {"user": "app", "password": "hunter3"}, "labels": {"a": "1", "b": "2"}}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := digest(t, tt.doc); (got == a) != tt.same {
				t.Errorf("digest %s vs %s: same = %v, want %v", got, a, got == a, tt.same)
			}
		})
	}
}

func TestSensitiveValueNeverInPlan(t *testing.T) {
	t.Parallel()
	e := newUnitEnv(t)
	rel := e.rel
	rel.Values = map[string]any{"greeting": "hello", "password": "hunter2"}
	rel.Sensitive = []SensitiveValue{{Path: "password", Ref: "secret/apps/demo#password"}}
	p, err := Plan(t.Context(), nil, rel, e.opts...)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "hunter2") {
		t.Fatalf("the plan carries the secret: %s", b)
	}
	var a Action
	if err := p.Steps[0].Decode(&a); err != nil {
		t.Fatal(err)
	}
	if len(a.Sensitive) != 1 || a.Sensitive[0].Ref != "secret/apps/demo#password" || !strings.HasPrefix(a.Sensitive[0].Fingerprint, "hmac-sha256:") {
		t.Fatalf("sensitive refs = %+v, want the reference and a fingerprint", a.Sensitive)
	}
	// A saved plan applies with the value resolved from its reference, and
	// only with the value planned.
	wrong := WithSensitiveResolver(func(context.Context, string) (any, error) { return "guess", nil })
	if err := ApplyStep(t.Context(), nil, p.Steps[0], nil, append(e.opts, wrong)...); !errors.Is(err, ErrStalePlan) {
		t.Fatalf("ApplyStep with another secret = %v, want ErrStalePlan", err)
	}
	right := WithSensitiveResolver(func(_ context.Context, ref string) (any, error) { return "hunter2", nil })
	if err := ApplyStep(t.Context(), nil, p.Steps[0], nil, append(e.opts, right)...); err != nil {
		t.Fatal(err)
	}
	last, err := e.cfg.Releases.Last("demo")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(last.Manifest, `password: "hunter2"`) {
		t.Errorf("the release was not rendered with the resolved secret:\n%s", last.Manifest)
	}
}

func TestPlan(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		change    func(e *unitEnv, rel *Release) // after the first install
		wantSteps int
		wantOp    change.Op
		wantDrift bool
		wantLines []string
	}{
		{
			name:      "nothing changed",
			change:    func(*unitEnv, *Release) {},
			wantSteps: 0,
		},
		{
			name:      "values changed",
			change:    func(_ *unitEnv, rel *Release) { rel.Values["greeting"] = "bonjour" },
			wantSteps: 1, wantOp: change.Update,
			wantLines: []string{
				"update configmap/apps/demo-settings data.greeting: hello → bonjour",
				"update release/apps/demo values.greeting: hello → bonjour",
			},
		},
		{
			name: "live object edited",
			change: func(e *unitEnv, _ *Release) {
				e.objs.edit(func(live map[string]*unstructured.Unstructured) {
					for _, o := range live {
						_ = unstructured.SetNestedField(o.Object, "tampered", "data", "greeting")
					}
				})
			},
			wantSteps: 1, wantOp: change.Update, wantDrift: true,
			wantLines: []string{"update configmap/apps/demo-settings data.greeting: tampered → hello"},
		},
		{
			name: "live object deleted",
			change: func(e *unitEnv, _ *Release) {
				e.objs.edit(func(live map[string]*unstructured.Unstructured) { clear(live) })
			},
			wantSteps: 1, wantOp: change.Update, wantDrift: true,
			wantLines: []string{"create configmap/apps/demo-settings"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newUnitEnv(t)
			p, err := Plan(t.Context(), nil, e.rel, e.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Steps) != 1 || p.Steps[0].Op != change.Create || p.Steps[0].Kind != StepRelease {
				t.Fatalf("first plan = %+v, want one create step", p.Steps)
			}
			e.ensure(t, e.rel)
			rel := e.rel
			rel.Values = map[string]any{"greeting": "hello"}
			tt.change(e, &rel)
			p, err = Plan(t.Context(), nil, rel, e.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Steps) != tt.wantSteps {
				t.Fatalf("plan has %d steps, want %d:\n%s", len(p.Steps), tt.wantSteps, p.Result())
			}
			if tt.wantSteps == 0 {
				res := e.ensure(t, rel)
				if res.Changed() || len(e.history(t)) != 1 {
					t.Errorf("re-ensure changed %v and left %d revisions, want no change and 1 revision", res.Changes, len(e.history(t)))
				}
				return
			}
			s := p.Steps[0]
			var a Action
			if err := s.Decode(&a); err != nil {
				t.Fatal(err)
			}
			if s.Op != tt.wantOp || a.DriftCorrection != tt.wantDrift {
				t.Errorf("step op %s drift %v, want %s drift %v", s.Op, a.DriftCorrection, tt.wantOp, tt.wantDrift)
			}
			if got := strings.Join(p.Result().Lines(), "\n"); got != strings.Join(tt.wantLines, "\n") {
				t.Errorf("plan lines:\n%s\nwant:\n%s", got, strings.Join(tt.wantLines, "\n"))
			}
			if err := ApplyStep(t.Context(), nil, s, nil, e.opts...); err != nil {
				t.Fatal(err)
			}
			if n := len(e.history(t)); n != 2 {
				t.Errorf("applying the step left %d revisions, want 2", n)
			}
		})
	}
}

func TestChartCachedAcrossPlans(t *testing.T) {
	t.Parallel()
	e := newUnitEnv(t)
	if _, err := Plan(t.Context(), nil, e.rel, e.opts...); err != nil {
		t.Fatal(err)
	}
	first := e.hits.Load()
	if first == 0 {
		t.Fatal("the first plan did not download the chart")
	}
	if _, err := Plan(t.Context(), nil, e.rel, e.opts...); err != nil {
		t.Fatal(err)
	}
	if n := e.hits.Load() - first; n != 0 {
		t.Errorf("the second plan sent %d requests to the repository, want 0 (cached)", n)
	}
}

func TestStalePlanRefused(t *testing.T) {
	t.Parallel()
	e := newUnitEnv(t)
	p, err := Plan(t.Context(), nil, e.rel, e.opts...)
	if err != nil {
		t.Fatal(err)
	}
	s := p.Steps[0]
	var a Action
	if err := s.Decode(&a); err != nil {
		t.Fatal(err)
	}
	a.Values["greeting"] = "edited after review"
	a.ValuesDigest, _ = valuesDigest(a.Values, nil)
	s.Action, _ = json.Marshal(a)
	if err := ApplyStep(t.Context(), nil, s, nil, e.opts...); !errors.Is(err, ErrStalePlan) {
		t.Fatalf("ApplyStep of a step whose values no longer render the planned manifest = %v, want ErrStalePlan", err)
	}
	if h, _ := e.cfg.Releases.History("demo"); len(h) != 0 {
		t.Errorf("a refused step made %d revisions", len(h))
	}
}

func TestPendingReleaseUnlocked(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		deployFirst  bool
		status       release.Status
		age          time.Duration
		wantErr      error
		wantStatuses []release.Status // the history afterwards, by revision
	}{
		{"stale pending-upgrade rolls back, then upgrades", true, release.StatusPendingUpgrade, time.Hour, nil,
			[]release.Status{release.StatusSuperseded, release.StatusFailed, release.StatusSuperseded, release.StatusDeployed}},
		{"stale pending-rollback rolls back, then upgrades", true, release.StatusPendingRollback, time.Hour, nil,
			[]release.Status{release.StatusSuperseded, release.StatusFailed, release.StatusSuperseded, release.StatusDeployed}},
		{"stale pending-install is uninstalled, then installed", false, release.StatusPendingInstall, time.Hour, nil,
			[]release.Status{release.StatusDeployed}},
		{"young pending-upgrade is left alone", true, release.StatusPendingUpgrade, time.Minute, ErrPending, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newUnitEnv(t)
			rel := e.rel
			version := 1
			if tt.deployFirst {
				e.ensure(t, rel)
				version = 2
			}
			stuck := &release.Release{
				Name: rel.Name, Namespace: rel.Namespace, Version: version, Chart: demoChart(), Config: map[string]any{"greeting": "stuck"},
				Info: &release.Info{Status: tt.status, LastDeployed: helmtime.Time{Time: e.clock.now.Add(-tt.age)}},
			}
			if err := e.cfg.Releases.Create(stuck); err != nil {
				t.Fatal(err)
			}
			rel.Values = map[string]any{"greeting": "after"}
			_, err := Ensure(t.Context(), nil, rel, e.opts...)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Ensure = %v, want %v", err, tt.wantErr)
				}
				if last, _ := e.cfg.Releases.Last(rel.Name); last.Version != version || last.Info.Status != tt.status {
					t.Errorf("a young pending release was touched: now revision %d %s", last.Version, last.Info.Status)
				}
				return
			}
			if err != nil {
				t.Fatalf("Ensure: %v", err)
			}
			var got []release.Status
			for _, h := range e.history(t) {
				got = append(got, h.Info.Status)
			}
			if strings.Join(statusStrings(got), ",") != strings.Join(statusStrings(tt.wantStatuses), ",") {
				t.Errorf("history = %v, want %v", got, tt.wantStatuses)
			}
			last, _ := e.cfg.Releases.Last(rel.Name)
			if last.Config["greeting"] != "after" {
				t.Errorf("the last revision has values %v, want the new ones", last.Config)
			}
		})
	}
}

func statusStrings(s []release.Status) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = string(x)
	}
	return out
}
