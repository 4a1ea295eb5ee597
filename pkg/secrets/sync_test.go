package secrets_test

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	ssv1alpha1 "github.com/bitnami-labs/sealed-secrets/pkg/apis/sealedsecrets/v1alpha1"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/org/platform/internal/controlplane"
	"github.com/org/platform/internal/reconcile"
	"github.com/org/platform/internal/shared"
	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/secrets"
	"github.com/org/platform/pkg/spec"
)

func TestMain(m *testing.M) { os.Exit(controlplane.Main(m)) }

// writeCounter records every request that is not a read, as "METHOD path".
type writeCounter struct {
	rt  http.RoundTripper
	mu  sync.Mutex
	log []string
}

func (c *writeCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		c.mu.Lock()
		c.log = append(c.log, r.Method+" "+r.URL.Path)
		c.mu.Unlock()
	}
	return c.rt.RoundTrip(r)
}

func (c *writeCounter) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.log
	c.log = nil
	return out
}

var crdOnce sync.Once

// installCRD creates the SealedSecret CRD from the chart's crds/ file, read
// from the shared chart archive, and waits until it serves.
func installCRD(t *testing.T, kube secrets.Clients) {
	t.Helper()
	var err error
	crdOnce.Do(func() { err = applyChartCRD(t.Context(), kube) })
	if err != nil {
		t.Fatalf("install the SealedSecret CRD: %v", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := kube.Dynamic.Resource(secrets.SealedSecretGVR).Namespace("default").List(t.Context(), metav1.ListOptions{})
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the SealedSecret CRD does not serve: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func applyChartCRD(ctx context.Context, kube secrets.Clients) error {
	path, err := shared.Find("charts/sealed-secrets-2.18.5.tgz")
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err != nil {
			return fmt.Errorf("no crds/bitnami.com_sealedsecrets.yaml in %s: %w", path, err)
		}
		if h.Name != "sealed-secrets/crds/bitnami.com_sealedsecrets.yaml" {
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return err
		}
		var u unstructured.Unstructured
		if err := yaml.Unmarshal(b, &u.Object); err != nil {
			return err
		}
		gvr := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
		_, err = kube.Dynamic.Resource(gvr).Apply(ctx, u.GetName(), &u, metav1.ApplyOptions{FieldManager: "test", Force: true})
		return err
	}
}

// cluster returns clients of the shared control plane whose writes are
// counted, with the CRD installed and the namespaces made.
func cluster(t *testing.T, namespaces ...string) (secrets.Clients, *writeCounter) {
	t.Helper()
	cp := controlplane.Require(t)
	plain, err := secrets.NewClients(cp.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	installCRD(t, plain)
	for _, ns := range namespaces {
		if _, err := plain.Core.CoreV1().Namespaces().Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create namespace %s: %v", ns, err)
		}
	}
	cfg := cp.RESTConfig()
	wc := &writeCounter{}
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { wc.rt = rt; return wc })
	kube, err := secrets.NewClients(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return kube, wc
}

// liveSealed reads a SealedSecret back from the cluster.
func liveSealed(t *testing.T, kube secrets.Clients, ns, name string) (*ssv1alpha1.SealedSecret, []byte) {
	t.Helper()
	u, err := kube.Dynamic.Resource(secrets.SealedSecretGVR).Namespace(ns).Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get SealedSecret %s/%s: %v", ns, name, err)
	}
	raw, err := u.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var ss ssv1alpha1.SealedSecret
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &ss); err != nil {
		t.Fatal(err)
	}
	return &ss, raw
}

// values is a Source over a map, so that tests change values without
// touching the process environment.
type values struct {
	mu sync.Mutex
	m  map[string]string
}

func (v *values) set(k, val string) { v.mu.Lock(); v.m[k] = val; v.mu.Unlock() }

func (v *values) lookup(k string) (string, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	s, ok := v.m[k]
	return s, ok
}

// leakChecker gathers every text a run produced, to look for a value.
type leakChecker struct {
	t     *testing.T
	texts map[string]string // what → text
}

func (l *leakChecker) add(what string, v any) {
	switch v := v.(type) {
	case string:
		l.texts[what] = v
	case []byte:
		l.texts[what] = string(v)
	default:
		b, err := json.Marshal(v)
		if err != nil {
			l.t.Fatal(err)
		}
		l.texts[what] = string(b)
	}
}

// check fails for every text holding one of vals in clear or base64.
func (l *leakChecker) check(vals ...string) {
	for what, text := range l.texts {
		for _, v := range vals {
			for _, form := range []string{v, base64.StdEncoding.EncodeToString([]byte(v))} {
				if strings.Contains(text, form) {
					l.t.Errorf("%s holds a secret value: %.300s", what, text)
				}
			}
		}
	}
}

func logText(logs *observer.ObservedLogs) string {
	var b strings.Builder
	for _, e := range logs.All() {
		fmt.Fprintf(&b, "%s %s %v\n", e.Level, e.Message, e.ContextMap())
	}
	return b.String()
}

func TestSyncSealsOnceThenOnlyWhatChanged(t *testing.T) {
	t.Parallel()
	kube, wc := cluster(t, "sync-apps", "sync-ctrl")
	k0, k1 := key(t, 0), key(t, 1)
	const (
		fileValue = "file-canary-51aa"
		changed   = "canary-changed-0c4e"
	)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "db"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "db", "user"), []byte(fileValue), 0o600); err != nil {
		t.Fatal(err)
	}
	vals := &values{m: map[string]string{"DB_PASSWORD": canary, "API_TOKEN": canary + "-token"}}
	src := secrets.Sources{"env": secrets.Env{LookupEnv: vals.lookup}, "file": secrets.Files{Dir: dir}}
	env := spec.Environment{Name: "staging", Secrets: spec.Secrets{SealedSecrets: true, Namespace: "sync-ctrl"}}
	want := []secrets.Secret{
		{Namespace: "sync-apps", Name: "db", Labels: map[string]string{"team": "a"},
			Data: map[string]string{"password": "env:DB_PASSWORD", "user": "file:db/user"}},
		{Namespace: "sync-apps", Name: "api", Scope: secrets.NamespaceWide, Data: map[string]string{"token": "env:API_TOKEN"}},
	}
	core, logs := observer.New(zap.DebugLevel)
	log := zap.New(core)
	leaks := &leakChecker{t: t, texts: map[string]string{}}
	defer func() {
		leaks.add("logs", logText(logs))
		if logs.Len() == 0 {
			t.Error("no log was captured: the leak check of the logs would prove nothing")
		}
		leaks.check(canary, fileValue, changed)
	}()
	run := func(step string, cert testKey) secrets.Result {
		t.Helper()
		res, err := secrets.Sync(t.Context(), kube, src, env, want, secrets.WithCert(cert.cert), secrets.WithLogger(log.With(zap.String("step", step))))
		if err != nil {
			leaks.add(step+" error", err.Error())
			t.Fatalf("%s: Sync: %v", step, err)
		}
		leaks.add(step+" result (human)", res.String())
		leaks.add(step+" result (JSON)", res)
		return res
	}
	unsealed := func(name string, ks ...testKey) map[string][]byte {
		t.Helper()
		ss, raw := liveSealed(t, kube, "sync-apps", name)
		leaks.add("stored SealedSecret "+name, raw)
		data, err := unseal(ss, privKeys(t, ks...))
		if err != nil {
			t.Fatalf("unseal %s: %v", name, err)
		}
		return data
	}

	// A plan made before the fingerprint key exists holds only its creation.
	p, err := secrets.PlanSync(t.Context(), kube, src, env, want, secrets.WithCert(k0.cert), secrets.WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Steps) != 1 || p.Steps[0].Kind != secrets.StepFingerprintKeyCreate || p.Steps[0].ID != "staging/secrets/secret/sync-ctrl/platform-secrets-fingerprint-key" {
		t.Fatalf("first plan = %+v, want the fingerprint key's creation alone", p.Steps)
	}
	if w := wc.take(); len(w) != 0 {
		t.Fatalf("PlanSync wrote: %q", w)
	}

	// First run: the key, then both SealedSecrets, every value sealed.
	res := run("first", k0)
	if got, want := wc.take(), []string{
		"POST /api/v1/namespaces/sync-ctrl/secrets",
		"PATCH /apis/bitnami.com/v1alpha1/namespaces/sync-apps/sealedsecrets/api",
		"PATCH /apis/bitnami.com/v1alpha1/namespaces/sync-apps/sealedsecrets/db",
	}; !slices.Equal(got, want) {
		t.Errorf("first Sync wrote %q, want %q", got, want)
	}
	if n := res.Count(change.Create); n != 4 { // the key and three values
		t.Errorf("first Sync: %d creates, want 4:\n%s", n, res)
	}
	if d := unsealed("db", k0); string(d["password"]) != canary || string(d["user"]) != fileValue {
		t.Error("db does not unseal to the source's values")
	}
	if d := unsealed("api", k0); string(d["token"]) != canary+"-token" {
		t.Error("api does not unseal to the source's value")
	}
	before, _ := liveSealed(t, kube, "sync-apps", "db")

	// Second run, nothing changed: no write at all.
	if res := run("second", k0); res.Changed() {
		t.Errorf("second Sync reports changes:\n%s", res)
	}
	if w := wc.take(); len(w) != 0 {
		t.Errorf("second Sync wrote %q, want nothing", w)
	}

	// One value changes: exactly that key is sealed again.
	vals.set("DB_PASSWORD", changed)
	res = run("third", k0)
	if w := wc.take(); !slices.Equal(w, []string{"PATCH /apis/bitnami.com/v1alpha1/namespaces/sync-apps/sealedsecrets/db"}) {
		t.Errorf("Sync after one change wrote %q, want the db SealedSecret only", w)
	}
	if len(res.Changes) != 1 || res.Changes[0].Field != "data[password]" || res.Changes[0].Op != change.Update || !res.Changes[0].Sensitive {
		t.Errorf("Sync after one change reports %+v, want one sensitive update of data[password]", res.Changes)
	}
	after, _ := liveSealed(t, kube, "sync-apps", "db")
	if after.Spec.EncryptedData["user"] != before.Spec.EncryptedData["user"] {
		t.Error("the unchanged value user was sealed again")
	}
	if after.Spec.EncryptedData["password"] == before.Spec.EncryptedData["password"] {
		t.Error("the changed value password kept its old ciphertext")
	}
	if d := unsealed("db", k0); string(d["password"]) != changed || string(d["user"]) != fileValue {
		t.Error("db does not unseal to the changed value")
	}

	// The controller rotates its key: every value is sealed with the new one.
	res = run("rotation", k1)
	if w := wc.take(); len(w) != 2 {
		t.Errorf("Sync after a key rotation wrote %q, want both SealedSecrets", w)
	}
	fp1, _ := secrets.CertFingerprint(k1.cert)
	for _, name := range []string{"api", "db"} {
		ss, _ := liveSealed(t, kube, "sync-apps", name)
		if ss.Annotations[secrets.AnnotationSealedWith] != fp1 {
			t.Errorf("%s sealed-with = %q, want the new key's %q", name, ss.Annotations[secrets.AnnotationSealedWith], fp1)
		}
		unsealed(name, k1) // the new key alone opens it
	}
	if !slices.ContainsFunc(res.Changes, func(c change.Change) bool { return c.Field == "sealed-with" && c.To == fp1 }) {
		t.Errorf("the rotation is not shown as a sealed-with change:\n%s", res)
	}
	if w := wc.take(); len(w) != 0 {
		t.Errorf("reads wrote %q", w)
	}
	if res := run("after rotation", k1); res.Changed() {
		t.Errorf("Sync after the rotation settled reports changes:\n%s", res)
	}
}

func TestSavedPlanAppliesExactly(t *testing.T) {
	t.Parallel()
	kube, wc := cluster(t, "plan-apps", "plan-ctrl")
	k := key(t, 0)
	vals := &values{m: map[string]string{"A": canary, "B": "b-value-3e1d"}}
	src := secrets.Env{LookupEnv: vals.lookup}
	env := spec.Environment{Name: "dev", Secrets: spec.Secrets{Namespace: "plan-ctrl"}}
	want := []secrets.Secret{{Namespace: "plan-apps", Name: "cfg", Scope: secrets.ClusterWide, Data: map[string]string{"a": "A", "b": "B"}}}
	if _, err := secrets.Sync(t.Context(), kube, src, env, want, secrets.WithCert(k.cert)); err != nil {
		t.Fatal(err)
	}
	wc.take()
	vals.set("B", canary+"-b2")

	p, err := secrets.PlanSync(t.Context(), kube, src, env, want, secrets.WithCert(k.cert))
	if err != nil {
		t.Fatal(err)
	}
	saved, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	human := p.Result().String()
	for what, text := range map[string]string{"plan JSON": string(saved), "plan text": human} {
		for _, v := range []string{canary, base64.StdEncoding.EncodeToString([]byte(canary))} {
			if strings.Contains(text, v) {
				t.Errorf("%s holds a value: %s", what, text)
			}
		}
	}
	if want := "update sealedsecret/plan-apps/cfg data[b]: (sensitive) → (sensitive)"; human != want {
		t.Errorf("plan text = %q, want %q", human, want)
	}
	var back change.Plan
	if err := json.Unmarshal(saved, &back); err != nil {
		t.Fatal(err)
	}
	if _, err := reconcile.Apply(t.Context(), back, &change.Outputs{}, func(ctx context.Context, s change.Step, out *change.Outputs) error {
		return secrets.ApplyStep(ctx, kube, s, out)
	}); err != nil {
		t.Fatalf("apply the saved plan: %v", err)
	}
	if w := wc.take(); !slices.Equal(w, []string{"PATCH /apis/bitnami.com/v1alpha1/namespaces/plan-apps/sealedsecrets/cfg"}) {
		t.Errorf("the saved plan wrote %q, want its one step", w)
	}
	again, err := secrets.PlanSync(t.Context(), kube, src, env, want, secrets.WithCert(k.cert))
	if err != nil || !again.Empty() {
		t.Errorf("after applying the saved plan, a new plan is %+v (%v), want empty", again.Steps, err)
	}
	ss, _ := liveSealed(t, kube, "plan-apps", "cfg")
	moved := ss.DeepCopy()
	moved.Namespace, moved.Name = "elsewhere", "other" // cluster-wide: may move
	if d, err := unseal(moved, privKeys(t, k)); err != nil || string(d["b"]) != canary+"-b2" || string(d["a"]) != canary {
		t.Errorf("the cluster-wide SealedSecret moved does not unseal to the values: %v", err)
	}
}

func TestSyncFailsBeforeWritingOnBadInputOrMissingValue(t *testing.T) {
	t.Parallel()
	kube, wc := cluster(t, "bad-apps", "bad-ctrl")
	k := key(t, 0)
	env := spec.Environment{Name: "dev", Secrets: spec.Secrets{Namespace: "bad-ctrl"}}
	src := secrets.Env{LookupEnv: (&values{m: map[string]string{"SET": canary}}).lookup}
	tests := []struct {
		name string
		want []secrets.Secret
		msg  string
	}{
		{"bad data key", []secrets.Secret{{Namespace: "bad-apps", Name: "x", Data: map[string]string{"no/slash": "SET"}}}, "secrets[bad-apps/x].data[no/slash]"},
		{"no values", []secrets.Secret{{Namespace: "bad-apps", Name: "x"}}, "secrets[bad-apps/x].data: Required"},
		{"bad scope", []secrets.Secret{{Namespace: "bad-apps", Name: "x", Scope: "wide", Data: map[string]string{"k": "SET"}}}, "secrets[bad-apps/x].scope"},
		{"twice", []secrets.Secret{{Namespace: "bad-apps", Name: "x", Data: map[string]string{"k": "SET"}}, {Namespace: "bad-apps", Name: "x", Data: map[string]string{"k": "SET"}}}, "Duplicate"},
	}
	for _, tt := range tests {
		// Not parallel: the writes of all cases are counted together below.
		t.Run(tt.name, func(t *testing.T) {
			_, err := secrets.Sync(t.Context(), kube, src, env, tt.want, secrets.WithCert(k.cert))
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Sync error = %v, want one naming %q", err, tt.msg)
			}
		})
	}
	if w := wc.take(); len(w) != 0 {
		t.Errorf("bad input wrote %q", w)
	}
	// A missing value fails after the key, before any SealedSecret, and its
	// error names the reference, never the values read before it.
	_, err := secrets.Sync(t.Context(), kube, src, env, []secrets.Secret{{Namespace: "bad-apps", Name: "x",
		Data: map[string]string{"a": "SET", "b": "UNSET"}}}, secrets.WithCert(k.cert))
	if !errors.Is(err, secrets.ErrNoValue) || !strings.Contains(err.Error(), "UNSET") || strings.Contains(err.Error(), canary) {
		t.Errorf("Sync with a missing value: error %v, want ErrNoValue naming UNSET and no value", err)
	}
	if w := wc.take(); !slices.Equal(w, []string{"POST /api/v1/namespaces/bad-ctrl/secrets"}) {
		t.Errorf("a missing value wrote %q, want only the fingerprint key", w)
	}
}
