package rollout_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	ssv1alpha1 "github.com/bitnami-labs/sealed-secrets/pkg/apis/sealedsecrets/v1alpha1"
	"github.com/bitnami-labs/sealed-secrets/pkg/crypto"
	"github.com/linode/linodego"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"
	"helm.sh/helm/v3/pkg/action"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/org/platform/internal/controlplane"
	"github.com/org/platform/internal/helmrelease"
	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/network"
	"github.com/org/platform/pkg/observability"
	"github.com/org/platform/pkg/rollout"
	"github.com/org/platform/pkg/secrets"
	"github.com/org/platform/pkg/spec"
	"github.com/org/platform/pkg/store"
)

// driftCanary is the value of Grafana's admin password in
// TestDriftInEveryLayer: it may surface only where the SealedSecret is
// unsealed.
const driftCanary = "canary-7f3a-drift-layers-do-not-leak-91be"

// driftReleases are the baseline's Helm releases of development.
var driftReleases = []string{
	"kube-system/sealed-secrets",
	"cert-manager/cert-manager",
	"ingress-nginx/ingress-nginx",
	"monitoring/kube-prometheus-stack",
	"monitoring/loki",
	"monitoring/otel-collector",
}

// TestDriftInEveryLayer installs development's whole baseline with records
// and a secrets Source holding a canary, then drifts one thing in each
// layer out of band — a Cloud Firewall rule through the Linode API, a
// ResourceQuota of ours by another field manager, and the ingress
// controller's Deployment (a Helm release's live object) by another field
// manager. The drift check exits 2 and reports each field, the Helm one as
// a drift-correcting release step; the webhook gets all three; the next
// Ensure corrects them with exactly one new revision of that release, and
// a fresh plan is empty. The canary, shown to be sealed into the cluster,
// is in no snapshot or audit file, plan (human or JSON), Helm release
// record, webhook payload, result, error or log line.
func TestDriftInEveryLayer(t *testing.T) {
	t.Parallel()
	env, err := spec.Default(spec.Development)
	if err != nil {
		t.Fatal(err)
	}
	env = env.WithDefaults()
	ctx := t.Context()
	began := time.Now()

	pool, client, deps := driftBaseline(t, env)
	obsCore, logs := observer.New(zap.DebugLevel)
	deps.Logger = zap.New(zapcore.NewTee(obsCore, zaptest.NewLogger(t, zaptest.Level(zap.InfoLevel)).Core()))

	// The sealed secrets' values, the canary among them. No controller
	// runs under kwok, so the sealing key is ours and the certificate is
	// handed to the rollout directly.
	priv, cert, err := crypto.GeneratePrivateKeyAndCert(2048, time.Hour, "drift-layers-test")
	if err != nil {
		t.Fatal(err)
	}
	slack := strings.Split(spec.AlertWebhookSecretRef, "/")
	vals := map[string]string{
		rollout.SecretRef(env.Name, slack[0], slack[1]):                                 "https://hooks.slack.invalid/services/" + driftCanary,
		rollout.SecretRef(env.Name, observability.GrafanaAdminSecret, "admin-user"):     "admin",
		rollout.SecretRef(env.Name, observability.GrafanaAdminSecret, "admin-password"): driftCanary,
	}
	deps.Secrets = rollout.SecretsDeps{
		Source: secrets.Env{LookupEnv: func(k string) (string, bool) { v, ok := vals[k]; return v, ok }},
		Cert: func(context.Context, spec.Environment, kubernetes.Interface) (*x509.Certificate, error) {
			return cert, nil
		},
	}

	storeDir := t.TempDir()
	st, err := store.NewLocal(storeDir)
	if err != nil {
		t.Fatal(err)
	}
	records := rollout.WithRecords(rollout.Records{Store: st, Owner: "test:drift-layers"})

	// Every text the canary must never reach, with what it is.
	var mu sync.Mutex
	var texts []leakText
	keep := func(what string, b []byte) {
		mu.Lock()
		defer mu.Unlock()
		texts = append(texts, leakText{what, b})
	}
	keepPlan := func(what string, p rollout.Artifact) {
		var j, h bytes.Buffer
		if err := p.WriteJSON(&j); err != nil {
			t.Fatal(err)
		}
		if err := p.Human(&h); err != nil {
			t.Fatal(err)
		}
		keep(what+" (JSON)", j.Bytes())
		keep(what+" (human)", h.Bytes())
	}
	keepErr := func(what string, err error) {
		if err != nil {
			keep(what+" error", []byte(err.Error()))
		}
	}

	// The first plan names the sealed secrets by reference: they are
	// sealed when applied.
	first, err := rollout.Plan(ctx, deps, env)
	keepErr("first plan", err)
	if err != nil {
		t.Fatal(err)
	}
	keepPlan("first plan", first)
	seals := 0
	for _, s := range first.Environments[0].Steps {
		if s.Kind == secrets.StepSealedSecretSeal {
			seals++
		}
	}
	if seals == 0 {
		t.Fatalf("the first plan seals nothing: the canary would not pass through the apply:\n%s", first)
	}

	start := time.Now()
	res, err := rollout.Ensure(ctx, deps, []spec.Environment{env}, records, rollout.WithSimulationSelfApproval())
	keepErr("first Ensure", err)
	if err != nil {
		t.Fatalf("first Ensure: %v", err)
	}
	keep("first Ensure's result", []byte(res.Result().String()))
	t.Logf("MEASURE baseline ensured with records in %s (wall, cluster provisioning included)", time.Since(start).Round(time.Second))

	converged, err := rollout.Plan(ctx, deps, env)
	keepErr("converged plan", err)
	if code := rollout.ExitCode(converged, err); code != rollout.ExitNoDrift {
		t.Fatalf("after the first Ensure: exit %d (%v), want %d:\n%s", code, err, rollout.ExitNoDrift, converged)
	}
	keepPlan("converged plan", converged)
	clusterID := converged.Environments[0].ClusterID.Value
	kc, err := pool.Kubeconfig(clusterID)
	if err != nil {
		t.Fatal(err)
	}
	kube, err := rollout.DefaultKubeClient(ctx, env.Name, kc)
	if err != nil {
		t.Fatal(err)
	}

	// The canary passed through the apply: Grafana's admin SealedSecret
	// unseals, with the sealing key, to it.
	u, err := dynamicClient(t, kc).Resource(secrets.SealedSecretGVR).Namespace(env.Observability.Namespace).
		Get(ctx, observability.GrafanaAdminSecret, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get the SealedSecret of Grafana's admin: %v", err)
	}
	var ss ssv1alpha1.SealedSecret
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &ss); err != nil {
		t.Fatal(err)
	}
	unsealed, err := ss.DeepCopy().Unseal(scheme.Codecs, privKeyring(t, priv))
	if err != nil {
		t.Fatalf("unseal %s: %v", observability.GrafanaAdminSecret, err)
	}
	if string(unsealed.Data["admin-password"]) != driftCanary {
		t.Fatal("Grafana's admin SealedSecret does not unseal to the canary: the leak checks below would prove nothing")
	}

	revisionsBefore := driftRevisions(t, kc)

	// (a) Linode: someone opens a firewall rule to every port.
	fws, err := client.ListFirewalls(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var fw *linodego.Firewall
	for i := range fws {
		if slices.Contains(fws[i].Tags, network.EnvTagPrefix+env.Name) {
			fw = &fws[i]
		}
	}
	if fw == nil {
		t.Fatalf("no Cloud Firewall tagged %s%s among %d", network.EnvTagPrefix, env.Name, len(fws))
	}
	rules, err := client.GetFirewallRules(ctx, fw.ID)
	if err != nil {
		t.Fatal(err)
	}
	ruleAt := slices.IndexFunc(rules.Inbound, func(r linodego.FirewallRule) bool { return r.Ports != "" && r.Ports != "1-65535" })
	if ruleAt < 0 {
		t.Fatalf("firewall %s has no inbound rule with ports to widen: %+v", fw.Label, rules.Inbound)
	}
	rule := rules.Inbound[ruleAt]
	rules.Inbound[ruleAt].Ports = "1-65535"
	if _, err := client.UpdateFirewallRules(ctx, fw.ID, *rules); err != nil {
		t.Fatal(err)
	}

	// (b) Kubernetes: another field manager raises a quota of ours.
	ns := env.Namespaces[0].Name
	if _, err := kube.CoreV1().ResourceQuotas(ns).Patch(ctx, network.QuotaName, types.MergePatchType,
		[]byte(`{"spec":{"hard":{"pods":"999"}}}`), metav1.PatchOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatal(err)
	}

	// (c) Helm: another field manager scales the ingress controller that
	// the ingress-nginx release installed.
	const ctrl = "ingress-nginx-controller"
	dep, err := kube.AppsV1().Deployments("ingress-nginx").Get(ctx, ctrl, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	replicas := int32(1)
	if dep.Spec.Replicas != nil {
		replicas = *dep.Spec.Replicas
	}
	if int(replicas) != env.Ingress.Replicas {
		t.Fatalf("the controller runs %d replicas before the drift, the spec asks for %d", replicas, env.Ingress.Replicas)
	}
	scaled := replicas + 3
	if _, err := kube.AppsV1().Deployments("ingress-nginx").Patch(ctx, ctrl, types.MergePatchType,
		fmt.Appendf(nil, `{"spec":{"replicas":%d}}`, scaled), metav1.PatchOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatal(err)
	}

	// The drift check.
	start = time.Now()
	drift, err := rollout.Plan(ctx, deps, env)
	keepErr("drift plan", err)
	if code := rollout.ExitCode(drift, err); code != rollout.ExitDrift {
		t.Fatalf("after drift in every layer: exit %d (%v), want %d:\n%s", code, err, rollout.ExitDrift, drift)
	}
	t.Logf("MEASURE drift plan: %s", time.Since(start).Round(time.Millisecond))
	keepPlan("drift plan", drift)

	fwObj := "firewall/" + fw.Label
	quotaObj := "resourcequota/" + ns + "/" + network.QuotaName
	releaseObj := "release/ingress-nginx/ingress-nginx"
	depObj := "deployment/ingress-nginx/" + ctrl
	steps := map[string]change.Step{}
	for _, s := range drift.Environments[0].Steps {
		steps[s.Object] = s
	}
	if got := slices.Sorted(func(yield func(string) bool) {
		for k := range steps {
			if !yield(k) {
				return
			}
		}
	}); !slices.Equal(got, slices.Sorted(slices.Values([]string{fwObj, quotaObj, releaseObj}))) {
		t.Errorf("drift plan steps on %q, want exactly the three drifted objects:\n%s", got, drift)
	}
	type field struct {
		layer                   change.Layer
		object, field, from, to string
	}
	wantFields := []field{
		{change.LayerLinode, fwObj, "rules.inbound[" + rule.Label + "].ports", "1-65535", rule.Ports},
		{change.LayerKubernetes, quotaObj, "spec.hard.pods", "999", ""},
		{change.LayerHelm, depObj, "spec.replicas", strconv.Itoa(int(scaled)), strconv.Itoa(int(replicas))},
	}
	hasField := func(cs []change.Change, w field) bool {
		return slices.ContainsFunc(cs, func(c change.Change) bool {
			return c.Object == w.object && c.Field == w.field && c.From == w.from && (w.to == "" || c.To == w.to) && c.Op == change.Update
		})
	}
	for _, w := range wantFields {
		s, ok := steps[map[change.Layer]string{change.LayerLinode: fwObj, change.LayerKubernetes: quotaObj, change.LayerHelm: releaseObj}[w.layer]]
		if !ok {
			continue // reported above
		}
		if s.Layer != w.layer || !hasField(s.Changes, w) {
			t.Errorf("step %s (layer %s) lacks the change %s %s: %s → %s; changes:\n%s",
				s.Object, s.Layer, w.object, w.field, w.from, w.to, change.Result{Changes: s.Changes}.String())
		}
	}
	if s, ok := steps[releaseObj]; ok {
		var a helmrelease.Action
		if err := s.Decode(&a); err != nil {
			t.Fatal(err)
		}
		if s.Kind != helmrelease.StepRelease || s.Op != change.Update || !a.DriftCorrection {
			t.Errorf("%s: kind %s op %s driftCorrection %v, want a drift-correcting %s update", releaseObj, s.Kind, s.Op, a.DriftCorrection, helmrelease.StepRelease)
		}
	}

	// The webhook gets every drifted field.
	var payload []byte
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		payload = append(payload, b...)
		mu.Unlock()
	}))
	defer recv.Close()
	if err := (rollout.Notifier{URL: recv.URL + "/services/T000/B000/webhook-token"}).NotifyDrift(ctx, drift); err != nil {
		keepErr("notify", err)
		t.Fatal(err)
	}
	keep("webhook payload", payload)
	var msg map[string]string
	if err := json.Unmarshal(payload, &msg); err != nil {
		t.Fatalf("webhook payload %q: %v", payload, err)
	}
	for _, w := range wantFields {
		if !strings.Contains(msg["text"], w.object+" "+w.field) {
			t.Errorf("the webhook's message lacks %s %s:\n%s", w.object, w.field, msg["text"])
		}
	}

	// The next Ensure corrects all three; a fresh plan is empty.
	start = time.Now()
	fixed, err := rollout.Ensure(ctx, deps, []spec.Environment{env}, records, rollout.WithSimulationSelfApproval())
	keepErr("correcting Ensure", err)
	if err != nil {
		t.Fatalf("correcting Ensure: %v", err)
	}
	keep("correcting Ensure's result", []byte(fixed.Result().String()))
	t.Logf("MEASURE drift corrected by Ensure in %s", time.Since(start).Round(time.Millisecond))
	for _, w := range wantFields {
		if !hasField(fixed.Result().Changes, w) {
			t.Errorf("the correcting Ensure did not change %s %s:\n%s", w.object, w.field, fixed.Result())
		}
	}
	start = time.Now()
	after, err := rollout.Plan(ctx, deps, env)
	keepErr("plan after correction", err)
	if code := rollout.ExitCode(after, err); code != rollout.ExitNoDrift || !after.Empty() {
		t.Errorf("plan after the correction: exit %d (%v), want %d and empty:\n%s", code, err, rollout.ExitNoDrift, after)
	}
	t.Logf("MEASURE no-op plan after the correction: %s", time.Since(start).Round(time.Millisecond))
	keepPlan("plan after correction", after)

	live, err := client.GetFirewallRules(ctx, fw.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := live.Inbound[ruleAt].Ports; got != rule.Ports {
		t.Errorf("firewall rule %s: ports %s after the correction, want %s", rule.Label, got, rule.Ports)
	}
	q, err := kube.CoreV1().ResourceQuotas(ns).Get(ctx, network.QuotaName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p := q.Spec.Hard["pods"]; p.String() == "999" {
		t.Error("the quota's pods is still 999 after the correction")
	}
	if dep, err = kube.AppsV1().Deployments("ingress-nginx").Get(ctx, ctrl, metav1.GetOptions{}); err != nil {
		t.Fatal(err)
	}
	if dep.Spec.Replicas == nil || *dep.Spec.Replicas != replicas {
		t.Errorf("%s: replicas %v after the correction, want %d", depObj, dep.Spec.Replicas, replicas)
	}
	revisionsAfter := driftRevisions(t, kc)
	for _, r := range driftReleases {
		want := revisionsBefore[r]
		if r == "ingress-nginx/ingress-nginx" {
			want++
		}
		if revisionsAfter[r] != want {
			t.Errorf("release %s: %d revisions before the drift, %d after its correction; want %d", r, revisionsBefore[r], revisionsAfter[r], want)
		}
	}

	// The records: two audit records, the second naming the corrections.
	audit, err := store.ListAudit(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if len(audit) < 2 || audit[len(audit)-1].Result != "applied" {
		t.Errorf("audit: %d records, last %+v; want at least two, the last applied", len(audit), audit[len(audit)-1:])
	} else {
		for _, w := range wantFields {
			if !hasField(audit[len(audit)-1].Changes, w) {
				t.Errorf("the last audit record lacks the correction of %s %s", w.object, w.field)
			}
		}
	}

	// Where the canary must not be: every file of the records store, ...
	files := 0
	err = filepath.WalkDir(storeDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		keep("store file "+strings.TrimPrefix(path, storeDir), b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	snaps, err := store.ListSnapshots(ctx, st, env.Name)
	if err != nil || len(snaps) < 2 {
		t.Errorf("snapshots %v, %v; want at least one per Ensure", snaps, err)
	}
	// ... every Helm release record (base64 → gzip → JSON) ...
	helmSecrets, err := kube.CoreV1().Secrets("").List(ctx, metav1.ListOptions{LabelSelector: "owner=helm"})
	if err != nil {
		t.Fatal(err)
	}
	decoded := 0
	for _, s := range helmSecrets.Items {
		if !strings.HasPrefix(s.Name, "sh.helm.release.v1.") {
			continue
		}
		keep("helm storage Secret "+s.Namespace+"/"+s.Name+" (raw)", s.Data["release"])
		rel, err := decodeHelmRecord(s.Data["release"])
		if err != nil {
			t.Fatalf("decode the Helm release record %s/%s: %v", s.Namespace, s.Name, err)
		}
		if !bytes.Contains(rel, []byte(`"manifest"`)) {
			t.Fatalf("the Helm release record %s/%s decodes to no release: %.200s", s.Namespace, s.Name, rel)
		}
		keep("helm release record "+s.Namespace+"/"+s.Name, rel)
		decoded++
	}
	// ... and every log line (debug level).
	if logs.Len() == 0 {
		t.Error("no log was captured: the leak check of the logs would prove nothing")
	}
	for _, e := range logs.All() {
		keep("log", fmt.Appendf(nil, "%q %v", e.Message, e.ContextMap()))
	}
	forms := leakForms(driftCanary)
	for _, x := range texts {
		for _, f := range forms {
			if bytes.Contains(x.b, []byte(f)) {
				t.Errorf("the canary (as %q) leaked into %s: %.300s", f, x.what, x.b)
			}
		}
	}
	minRevisions := 0
	for _, n := range revisionsAfter {
		minRevisions += n
	}
	if decoded < minRevisions || files == 0 || len(payload) == 0 {
		t.Errorf("the leak check read %d Helm release records (want %d), %d store files and a %d-byte payload",
			decoded, minRevisions, files, len(payload))
	}
	t.Logf("MEASURE canary checked in %d texts: %d store files, %d Helm release records, %d log entries, 4 plans (human and JSON), the webhook payload; whole test %s",
		len(texts), files, decoded, logs.Len(), time.Since(began).Round(time.Second))
}

// leakText is a text the canary must not reach, and what it is.
type leakText struct {
	what string
	b    []byte
}

// leakForms are the forms a secret may leak in: itself, and its standard
// base64 encodings at each of the three byte alignments (a Secret's data,
// a Helm record), trimmed to the characters that depend on it alone.
func leakForms(secret string) []string {
	out := []string{secret}
	for k := range 3 {
		enc := base64.StdEncoding.EncodeToString(append(make([]byte, k), secret...))
		first := (4*k + 2) / 3
		last := 4 * (k + len(secret)) / 3
		out = append(out, enc[first:last])
	}
	return out
}

// decodeHelmRecord decodes a Helm storage Secret's release: base64, then
// gzip, to the release's JSON.
func decodeHelmRecord(data []byte) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(string(data))
	if err != nil {
		return nil, fmt.Errorf("base64: %w", err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	defer zr.Close()
	return io.ReadAll(zr)
}

// driftRevisions counts the revisions of each of driftReleases in the
// cluster reached with kubeconfig.
func driftRevisions(t *testing.T, kubeconfig []byte) map[string]int {
	t.Helper()
	getter, err := helmrelease.NewGetter(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, r := range driftReleases {
		ns, name, _ := strings.Cut(r, "/")
		cfg := new(action.Configuration)
		if err := cfg.Init(getter, ns, "secret", func(string, ...any) {}); err != nil {
			t.Fatal(err)
		}
		h, err := action.NewHistory(cfg).Run(name)
		if err != nil {
			t.Fatalf("history of release %s: %v", r, err)
		}
		out[r] = len(h)
	}
	return out
}

// driftBaseline is sealedBaseline (secrets_test.go) that also returns the
// simulator's Linode client, for out-of-band changes: a simulator whose
// clusters are real API servers with kwok nodes shaped like env's pools
// and the LKE stand-ins, and Deps that install the baseline from the
// shared chart repository.
func driftBaseline(t *testing.T, env spec.Environment) (*controlplane.Pool, *linodego.Client, rollout.Deps) {
	t.Helper()
	l := newLocalLKE(t, env, nil)
	return l.pool, l.client, l.deps
}
