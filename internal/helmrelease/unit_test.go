package helmrelease

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
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
  kube: {{ .Capabilities.KubeVersion.Version | quote }}
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

func TestPlanNewKubeVersion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string // want "" for an error
	}{
		{"1.34", "v1.34.0"},
		{"v1.34.2", "v1.34.2"},
		{"1.34.2", "v1.34.2"},
		{"", ""},
		{"latest", ""},
	}
	e := newUnitEnv(t)
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, err := PlanNew(e.rel, tt.in, e.opts...)
			if tt.want == "" {
				if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "kubeVersion") {
					t.Fatalf("PlanNew(kubeVersion %q) = %v, want ErrInvalid naming kubeVersion", tt.in, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var a Action
			if err := p.Steps[0].Decode(&a); err != nil {
				t.Fatal(err)
			}
			if a.KubeVersion != tt.want {
				t.Errorf("Action.KubeVersion = %q, want %q", a.KubeVersion, tt.want)
			}
		})
	}
}

// TestPlanNewIsPlanOfAnAbsentRelease checks that PlanNew, without a
// cluster, plans what Plan plans for a release that is absent from a
// cluster of the same version: the same step, Base and changes, the Action
// differing only in its pinned KubeVersion.
func TestPlanNewIsPlanOfAnAbsentRelease(t *testing.T) {
	t.Parallel()
	e := newUnitEnv(t)
	rel := e.rel
	rel.Values = map[string]any{"greeting": "hello", "password": "hunter2"}
	rel.Sensitive = []SensitiveValue{{Path: "password", Ref: "secret/apps/demo#password"}}
	live, err := Plan(t.Context(), nil, rel, e.opts...)
	if err != nil {
		t.Fatal(err)
	}
	offline, err := PlanNew(rel, chartutil.DefaultCapabilities.KubeVersion.Version, e.opts...)
	if err != nil {
		t.Fatal(err)
	}
	if len(live.Steps) != 1 || len(offline.Steps) != 1 {
		t.Fatalf("steps: live %d, PlanNew %d, want 1 each", len(live.Steps), len(offline.Steps))
	}
	var la, oa Action
	if err := live.Steps[0].Decode(&la); err != nil {
		t.Fatal(err)
	}
	if err := offline.Steps[0].Decode(&oa); err != nil {
		t.Fatal(err)
	}
	if oa.KubeVersion != chartutil.DefaultCapabilities.KubeVersion.Version || la.KubeVersion != "" {
		t.Errorf("KubeVersion: PlanNew %q, Plan %q; want the pinned one and none", oa.KubeVersion, la.KubeVersion)
	}
	if !oa.Install || oa.Revision != 1 || oa.ManifestDigest == "" || oa.ValuesDigest == "" {
		t.Errorf("PlanNew action = %+v, want an install of revision 1 with both digests", oa)
	}
	oa.KubeVersion = ""
	lj, _ := json.Marshal(la)
	oj, _ := json.Marshal(oa)
	if string(lj) != string(oj) {
		t.Errorf("actions differ:\nPlan    %s\nPlanNew %s", lj, oj)
	}
	ls, os := live.Steps[0], offline.Steps[0]
	ls.Action, os.Action = nil, nil
	lj, _ = json.Marshal(ls)
	oj, _ = json.Marshal(os)
	if string(lj) != string(oj) {
		t.Errorf("steps differ:\nPlan    %s\nPlanNew %s", lj, oj)
	}
	if lb, ob := fmt.Sprint(live.Base), fmt.Sprint(offline.Base); lb != ob {
		t.Errorf("base: Plan %s, PlanNew %s", lb, ob)
	}
	if b, _ := json.Marshal(offline); strings.Contains(string(b), "hunter2") {
		t.Errorf("PlanNew's plan carries the secret: %s", b)
	}
}

// TestPlanNewApplies checks that a step of PlanNew applies on the cluster
// that came to exist (no ErrStalePlan, revision 1, rendered with the
// pinned version), and what the next live Plan says: nothing when the
// cluster's version is the pinned one, an honest drift-correcting update
// of what the version changes in the render when it is not.
func TestPlanNewApplies(t *testing.T) {
	t.Parallel()
	server := chartutil.DefaultCapabilities.KubeVersion.Version // the fake cluster's
	tests := []struct {
		name, pinned, rendered string
		wantLines              []string // of the next live Plan; nil: no step
	}{
		{"same version as the cluster", server, server, nil},
		{"older version than the cluster", "1.30", "v1.30.0", []string{"update configmap/apps/demo-settings data.kube: v1.30.0 → " + server}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newUnitEnv(t)
			p, err := PlanNew(e.rel, tt.pinned, e.opts...)
			if err != nil {
				t.Fatal(err)
			}
			// The same step without its pin renders with the cluster's
			// capabilities: stale when they differ, which is what the pin
			// prevents. (When they do not, it would install.)
			var planned, a Action
			if err := p.Steps[0].Decode(&planned); err != nil {
				t.Fatal(err)
			}
			if err := p.Steps[0].Decode(&a); err != nil {
				t.Fatal(err)
			}
			unpinned := p.Steps[0]
			a.KubeVersion = ""
			unpinned.Action, _ = json.Marshal(a)
			if tt.wantLines != nil {
				if err := ApplyStep(t.Context(), nil, unpinned, nil, e.opts...); !errors.Is(err, ErrStalePlan) {
					t.Fatalf("ApplyStep without the pin = %v, want ErrStalePlan", err)
				}
			}
			out := &change.Outputs{}
			if err := ApplyStep(t.Context(), nil, p.Steps[0], out, e.opts...); err != nil {
				t.Fatalf("ApplyStep of PlanNew's step: %v", err)
			}
			h := e.history(t)
			if len(h) != 1 || h[0].Version != 1 || h[0].Info.Status != release.StatusDeployed {
				t.Fatalf("history after ApplyStep: %d revisions, want revision 1 deployed", len(h))
			}
			if want := "kube: \"" + tt.rendered + "\""; !strings.Contains(h[0].Manifest, want) {
				t.Errorf("the release was not rendered with the pinned version (%s):\n%s", want, h[0].Manifest)
			}
			if got := manifestDigest(h[0].Manifest); got != planned.ManifestDigest {
				t.Errorf("Helm stored manifest %s, PlanNew rendered %s", got, planned.ManifestDigest)
			}
			if v, ok := out.Get(change.Ref{Step: p.Steps[0].ID, Output: "revision"}); !ok || string(v) != "1" {
				t.Errorf("output revision = %s, want 1", v)
			}
			next, err := Plan(t.Context(), nil, e.rel, e.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if got := next.Result().Lines(); strings.Join(got, "\n") != strings.Join(tt.wantLines, "\n") {
				t.Errorf("live Plan after the install:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.wantLines, "\n"))
			}
		})
	}
}

// TestWithRepository checks that a chart named by its upstream repository
// loads from where WithRepository serves it, that the plan still names the
// upstream repository, and that LoadChart reads the same cache.
func TestWithRepository(t *testing.T) {
	t.Parallel()
	e := newUnitEnv(t)
	served := e.rel.Chart.RepoURL
	const upstream = "http://127.0.0.1:1/charts" // nothing listens there
	rel := e.rel
	rel.Chart.RepoURL = upstream
	if _, err := Plan(t.Context(), nil, rel, e.opts...); err == nil {
		t.Fatal("Plan of a chart whose repository cannot be reached succeeded")
	}
	mapped := append(slices.Clone(e.opts), WithRepository(upstream+"/", served))
	p, err := Plan(t.Context(), nil, rel, mapped...)
	if err != nil {
		t.Fatalf("Plan with the repository served elsewhere: %v", err)
	}
	var a Action
	if err := p.Steps[0].Decode(&a); err != nil {
		t.Fatal(err)
	}
	if a.Chart.RepoURL != upstream {
		t.Errorf("the plan names repository %q, want the upstream %q", a.Chart.RepoURL, upstream)
	}
	if e.hits.Load() == 0 {
		t.Error("the served repository was never asked")
	}
	hits := e.hits.Load()
	// Cached under the upstream URL: LoadChart needs no mapping now.
	ch, err := LoadChart(rel.Chart, e.opts...)
	if err != nil {
		t.Fatalf("LoadChart of the cached chart: %v", err)
	}
	if ch.Name() != "demo" || ch.Metadata.Version != "0.1.0" {
		t.Errorf("LoadChart = %s %s, want demo 0.1.0", ch.Name(), ch.Metadata.Version)
	}
	if n := e.hits.Load() - hits; n != 0 {
		t.Errorf("LoadChart sent %d requests, want 0 (cached)", n)
	}
	if err := ApplyStep(t.Context(), nil, p.Steps[0], nil, e.opts...); err != nil {
		t.Fatalf("ApplyStep of the plan, from the cache: %v", err)
	}
	if _, err := LoadChart(Chart{Name: "demo", RepoURL: upstream}, e.opts...); !errors.Is(err, ErrInvalid) {
		t.Errorf("LoadChart of an unpinned chart = %v, want ErrInvalid", err)
	}
	if _, err := LoadChart(rel.Chart, WithRepository("", served)); err == nil {
		t.Error("WithRepository with no upstream URL was accepted")
	}
}

func TestUninstall(t *testing.T) {
	t.Parallel()
	e := newUnitEnv(t)
	e.ensure(t, e.rel)
	if err := Uninstall(t.Context(), nil, "apps", "demo", e.opts...); err != nil {
		t.Fatalf("Uninstall: %v", err)
	}
	if h, err := e.cfg.Releases.History("demo"); !errors.Is(err, driver.ErrReleaseNotFound) || len(h) != 0 {
		t.Fatalf("after Uninstall: %d revisions (%v), want none", len(h), err)
	}
	if err := Uninstall(t.Context(), nil, "apps", "demo", e.opts...); err != nil {
		t.Errorf("Uninstall of an absent release = %v, want nil", err)
	}
	if err := Uninstall(t.Context(), nil, "apps", "Not_A_Name", e.opts...); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "name:") {
		t.Errorf("Uninstall of a bad name = %v, want ErrInvalid naming the name", err)
	}
	// A release stuck pending is uninstalled too.
	stuck := &release.Release{Name: "demo", Namespace: "apps", Version: 1, Chart: demoChart(),
		Info: &release.Info{Status: release.StatusPendingInstall, LastDeployed: helmtime.Time{Time: e.clock.now}}}
	if err := e.cfg.Releases.Create(stuck); err != nil {
		t.Fatal(err)
	}
	if err := Uninstall(t.Context(), nil, "apps", "demo", e.opts...); err != nil {
		t.Fatalf("Uninstall of a pending release: %v", err)
	}
	if h, _ := e.cfg.Releases.History("demo"); len(h) != 0 {
		t.Errorf("after Uninstall of a pending release: %d revisions, want none", len(h))
	}
}

// ociRegistry serves demoChart from a registry that speaks the pull side
// of the OCI distribution API over plain HTTP, as repository
// charts/demo, tag 0.1.0, in the layout Helm pushes (config
// application/vnd.cncf.helm.config.v1+json, one layer
// application/vnd.cncf.helm.chart.content.v1.tar+gzip). It is written here
// because an in-process registry from the module proxy
// (distribution/v3's handlers) pulls some 30 modules and does not build
// against this module's OpenTelemetry versions.
func ociRegistry(t *testing.T) (host string, hits *atomic.Int64) {
	t.Helper()
	dir := t.TempDir()
	path, err := chartutil.Save(demoChart(), dir)
	if err != nil {
		t.Fatal(err)
	}
	layer, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	config, err := json.Marshal(demoChart().Metadata)
	if err != nil {
		t.Fatal(err)
	}
	digest := func(b []byte) string { return fmt.Sprintf("sha256:%x", sha256.Sum256(b)) }
	blobs := map[string][]byte{digest(layer): layer, digest(config): config}
	manifest, err := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.manifest.v1+json",
		"config":        map[string]any{"mediaType": "application/vnd.cncf.helm.config.v1+json", "digest": digest(config), "size": len(config)},
		"layers":        []any{map[string]any{"mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip", "digest": digest(layer), "size": len(layer)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	hits = &atomic.Int64{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		const repo = "/v2/charts/demo/"
		var body []byte
		switch p := r.URL.Path; {
		case p == "/v2/":
			body = []byte("{}")
		case p == repo+"tags/list":
			body = []byte(`{"name":"charts/demo","tags":["0.1.0"]}`)
		case p == repo+"manifests/0.1.0" || p == repo+"manifests/"+digest(manifest):
			w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
			w.Header().Set("Docker-Content-Digest", digest(manifest))
			body = manifest
		case strings.HasPrefix(p, repo+"blobs/") && blobs[strings.TrimPrefix(p, repo+"blobs/")] != nil:
			body = blobs[strings.TrimPrefix(p, repo+"blobs/")]
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Header().Set("Docker-Content-Digest", strings.TrimPrefix(p, repo+"blobs/"))
		default:
			http.Error(w, `{"errors":[{"code":"NAME_UNKNOWN"}]}`, http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		if r.Method != http.MethodHead {
			w.Write(body)
		}
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), hits
}

// TestOCIChart installs a chart named by an oci:// registry, served by
// a local registry through WithRepository, and cached like any other.
func TestOCIChart(t *testing.T) {
	t.Parallel()
	e := newUnitEnv(t)
	host, hits := ociRegistry(t)
	const upstream = "oci://ghcr.io/org/charts"
	rel := e.rel
	rel.Chart.RepoURL = upstream
	opts := append(slices.Clone(e.opts), WithRepository(upstream, "oci://"+host+"/charts"), WithPlainHTTP())
	p, err := Plan(t.Context(), nil, rel, opts...)
	if err != nil {
		t.Fatalf("Plan of an OCI chart: %v", err)
	}
	if hits.Load() == 0 {
		t.Fatal("the registry was never asked")
	}
	var a Action
	if err := p.Steps[0].Decode(&a); err != nil {
		t.Fatal(err)
	}
	if a.Chart.RepoURL != upstream {
		t.Errorf("the plan names %q, want the upstream registry %q", a.Chart.RepoURL, upstream)
	}
	n := hits.Load()
	if err := ApplyStep(t.Context(), nil, p.Steps[0], nil, opts...); err != nil {
		t.Fatalf("ApplyStep: %v", err)
	}
	if d := hits.Load() - n; d != 0 {
		t.Errorf("ApplyStep sent %d requests to the registry, want 0 (cached)", d)
	}
	last, err := e.cfg.Releases.Last(rel.Name)
	if err != nil || last.Chart.Metadata.Name != "demo" || last.Info.Status != release.StatusDeployed {
		t.Fatalf("after ApplyStep: %v, %+v", err, last)
	}
}

// TestParseKeepsFinalLineBreaks: a block scalar that ends a document keeps
// its final line break, as Helm's kube client reads it into the live
// object; trimming it would make every such ConfigMap a false drift.
func TestParseKeepsFinalLineBreaks(t *testing.T) {
	manifest := "---\n# Source: c/templates/a.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  conf: |\n    x = 1\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\ndata:\n  conf: |\n    y = 2\n"
	objs, err := parseObjects(manifest)
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 2 {
		t.Fatalf("%d objects, want 2", len(objs))
	}
	for i, want := range []string{"x = 1\n", "y = 2\n"} {
		got, _, _ := unstructured.NestedString(objs[i].Object, "data", "conf")
		if got != want {
			t.Errorf("object %d: data.conf %q, want %q", i, got, want)
		}
	}
}
