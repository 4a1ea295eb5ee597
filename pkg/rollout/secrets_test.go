package rollout_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	ssv1alpha1 "github.com/bitnami-labs/sealed-secrets/pkg/apis/sealedsecrets/v1alpha1"
	"github.com/bitnami-labs/sealed-secrets/pkg/crypto"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/org/platform/internal/controlplane"
	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/linodetest"
	"github.com/org/platform/pkg/observability"
	"github.com/org/platform/pkg/rollout"
	"github.com/org/platform/pkg/secrets"
	"github.com/org/platform/pkg/spec"
)

// secretCanary is a secret value that may surface only where it is unsealed.
const secretCanary = "canary-rollout-5d1e-do-not-leak-a7c4"

// values is a Source's store of environment variables, changeable mid-test.
type values struct {
	mu sync.Mutex
	m  map[string]string
}

func (v *values) lookup(k string) (string, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	s, ok := v.m[k]
	return s, ok
}

func (v *values) unset(k string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.m, k)
}

func (v *values) set(k, s string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.m[k] = s
}

// TestSealedSecretsInThePlan takes an environment's sealed secrets through
// rollout's plan → apply → plan on a real API server: the first plan (a new
// cluster) lists them as sealedsecret steps carrying references only; after
// apply each SealedSecret unseals, with the library's Unseal and the
// sealing key, to the Source's values; a second plan is empty (no
// re-seal); a changed value re-seals exactly that key. A canary value is
// never in a plan (JSON or human), a log line (debug, captured) or an
// error.
func TestSealedSecretsInThePlan(t *testing.T) {
	env, err := spec.Default("development")
	if err != nil {
		t.Fatal(err)
	}
	env = env.WithDefaults()
	ctx := t.Context()

	pool, deps := sealedBaseline(t, env)
	obsCore, logs := observer.New(zap.DebugLevel)
	deps.Logger = zap.New(zapcore.NewTee(obsCore, zaptest.NewLogger(t, zaptest.Level(zap.InfoLevel)).Core()))

	priv, cert, err := crypto.GeneratePrivateKeyAndCert(2048, time.Hour, "rollout-secrets-test")
	if err != nil {
		t.Fatal(err)
	}
	var certCalls atomic.Int64
	ns := env.Observability.Namespace
	slack := strings.Split(spec.AlertWebhookSecretRef, "/")
	refSlack := rollout.SecretRef(env.Name, slack[0], slack[1])
	refUser := rollout.SecretRef(env.Name, observability.GrafanaAdminSecret, "admin-user")
	refPass := rollout.SecretRef(env.Name, observability.GrafanaAdminSecret, "admin-password")
	if refPass != "PLATFORM_DEVELOPMENT_GRAFANA_ADMIN_ADMIN_PASSWORD" {
		t.Fatalf("reference of Grafana's admin password = %q", refPass)
	}
	vals := &values{m: map[string]string{
		refSlack: "https://hooks.slack.invalid/services/" + secretCanary,
		refUser:  "admin",
		refPass:  secretCanary,
	}}
	deps.Secrets = rollout.SecretsDeps{
		Source: secrets.Env{LookupEnv: vals.lookup},
		Cert: func(context.Context, spec.Environment, kubernetes.Interface) (*x509.Certificate, error) {
			certCalls.Add(1)
			return cert, nil
		},
	}

	var leaks []string // every text a value must never reach
	show := func(what string, p rollout.Artifact) {
		var j, h bytes.Buffer
		if err := p.WriteJSON(&j); err != nil {
			t.Fatal(err)
		}
		if err := p.Human(&h); err != nil {
			t.Fatal(err)
		}
		leaks = append(leaks, what+" JSON\n"+j.String(), what+" human\n"+h.String())
	}
	defer func() {
		if logs.Len() == 0 {
			t.Error("no log was captured: the leak check of the logs would prove nothing")
		}
		for _, e := range logs.All() {
			leaks = append(leaks, fmt.Sprintf("log %q %v", e.Message, e.ContextMap()))
		}
		for _, s := range leaks {
			if strings.Contains(s, secretCanary) || strings.Contains(s, "changed-"+secretCanary) {
				t.Errorf("the canary value leaked into %s", s[:min(len(s), 200)])
			}
		}
	}()
	sealedSteps := func(p rollout.Artifact) map[string]change.Step {
		out := map[string]change.Step{}
		for _, s := range p.Environments[0].Steps {
			if s.Layer == change.LayerSecrets && strings.HasPrefix(s.Object, "sealedsecret/") {
				out[s.Object] = s
			}
		}
		return out
	}

	// The first plan: a new cluster, so the values are sealed when applied;
	// the plan names their references.
	plan, err := rollout.Plan(ctx, deps, env)
	if err != nil {
		t.Fatal(err)
	}
	show("first plan", plan)
	got := sealedSteps(plan)
	wantRefs := map[string]map[string]string{
		"sealedsecret/" + ns + "/" + slack[0]:                         {"data[" + slack[1] + "]": refSlack},
		"sealedsecret/" + ns + "/" + observability.GrafanaAdminSecret: {"data[admin-user]": refUser, "data[admin-password]": refPass},
	}
	if len(got) != len(wantRefs) {
		t.Errorf("first plan has sealed secrets %v, want %v", keys(got), wantRefs)
	}
	for obj, refs := range wantRefs {
		s, ok := got[obj]
		if !ok {
			t.Errorf("first plan lacks %s", obj)
			continue
		}
		if s.Kind != secrets.StepSealedSecretSeal || s.Op != change.Create {
			t.Errorf("%s: kind %s op %s, want %s create", obj, s.Kind, s.Op, secrets.StepSealedSecretSeal)
		}
		for _, c := range s.Changes {
			if ref := refs[c.Field]; ref == "" || !strings.Contains(c.To, ref) {
				t.Errorf("%s %s: %q, want the reference %q", obj, c.Field, c.To, refs[c.Field])
			}
		}
	}
	if len(plan.Environments[0].Steps) > 0 && certCalls.Load() != 0 {
		t.Errorf("planning a new cluster asked for the sealing certificate %d times", certCalls.Load())
	}

	res, err := rollout.Apply(ctx, deps, plan, rollout.WithApproval(plan.Digest))
	if err != nil {
		leaks = append(leaks, err.Error())
		t.Fatalf("apply: %v", err)
	}
	leaks = append(leaks, res.Result().String())

	kc, err := pool.Kubeconfig(res.Environments[0].ClusterID)
	if err != nil {
		t.Fatal(err)
	}
	dyn := dynamicClient(t, kc)
	keyring := privKeyring(t, priv)
	unsealed := func(name string) (*ssv1alpha1.SealedSecret, map[string][]byte) {
		t.Helper()
		u, err := dyn.Resource(secrets.SealedSecretGVR).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("get SealedSecret %s/%s: %v", ns, name, err)
		}
		leaks = append(leaks, fmt.Sprint(u.Object))
		var ss ssv1alpha1.SealedSecret
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &ss); err != nil {
			t.Fatal(err)
		}
		s, err := ss.DeepCopy().Unseal(scheme.Codecs, keyring)
		if err != nil {
			t.Fatalf("unseal %s/%s: %v", ns, name, err)
		}
		return &ss, s.Data
	}
	if _, d := unsealed(slack[0]); string(d[slack[1]]) != vals.m[refSlack] {
		t.Errorf("%s does not unseal to the Source's value", slack[0])
	}
	before, d := unsealed(observability.GrafanaAdminSecret)
	if string(d["admin-user"]) != "admin" || string(d["admin-password"]) != secretCanary {
		t.Errorf("%s does not unseal to the Source's values", observability.GrafanaAdminSecret)
	}

	// A second plan: nothing to re-seal, nothing at all.
	again, err := rollout.Plan(ctx, deps, env)
	if err != nil {
		t.Fatal(err)
	}
	show("second plan", again)
	if !again.Empty() {
		t.Errorf("plan after apply is not empty:\n%s", again)
	}
	if certCalls.Load() == 0 {
		t.Error("a plan of the live cluster did not read the sealing certificate")
	}

	// One value changes: exactly its key is sealed again.
	vals.set(refPass, "changed-"+secretCanary)
	third, err := rollout.Plan(ctx, deps, env)
	if err != nil {
		t.Fatal(err)
	}
	show("third plan", third)
	steps := third.Environments[0].Steps
	if len(steps) != 1 || steps[0].Kind != secrets.StepSealedSecretApply || steps[0].Object != "sealedsecret/"+ns+"/"+observability.GrafanaAdminSecret {
		t.Fatalf("plan after one change = %v, want one %s of %s", steps, secrets.StepSealedSecretApply, observability.GrafanaAdminSecret)
	}
	if cs := steps[0].Changes; len(cs) != 1 || cs[0].Field != "data[admin-password]" || cs[0].Op != change.Update || !cs[0].Sensitive {
		t.Errorf("plan after one change has changes %+v, want one sensitive update of data[admin-password]", cs)
	}
	if _, err := rollout.Apply(ctx, deps, third, rollout.WithApproval(third.Digest)); err != nil {
		leaks = append(leaks, err.Error())
		t.Fatalf("apply: %v", err)
	}
	after, d := unsealed(observability.GrafanaAdminSecret)
	if string(d["admin-password"]) != "changed-"+secretCanary || string(d["admin-user"]) != "admin" {
		t.Error("after the change, grafana-admin does not unseal to the Source's values")
	}
	if after.Spec.EncryptedData["admin-user"] != before.Spec.EncryptedData["admin-user"] {
		t.Error("admin-user was sealed again, though its value did not change")
	}
	if after.Spec.EncryptedData["admin-password"] == before.Spec.EncryptedData["admin-password"] {
		t.Error("admin-password was not sealed again")
	}

	// An error names the reference, never a value.
	vals.unset(refUser)
	_, err = rollout.Plan(ctx, deps, env)
	if err == nil || !strings.Contains(err.Error(), refUser) {
		t.Errorf("plan with %s unset: error %v, want one naming it", refUser, err)
	}
	if err != nil {
		leaks = append(leaks, err.Error())
	}
}

// TestNoSecretsSourceWarns: without a Source the plan holds no sealed
// secret and says which Secrets are left unsealed; it does not fail.
func TestNoSecretsSourceWarns(t *testing.T) {
	t.Parallel()
	env, err := spec.Default("production")
	if err != nil {
		t.Fatal(err)
	}
	want, warnings := rollout.SealedSecrets(env)
	if len(warnings) != 0 {
		t.Errorf("production's sealed secrets: warnings %q", warnings)
	}
	names := map[string][]string{}
	for _, s := range want {
		for k, ref := range s.Data {
			names[s.Name] = append(names[s.Name], k)
			if !strings.HasPrefix(ref, "PLATFORM_PRODUCTION_") {
				t.Errorf("%s %s: reference %q, want PLATFORM_PRODUCTION_…", s.Name, k, ref)
			}
		}
	}
	for _, n := range []string{"alertmanager-slack", "alertmanager-pagerduty", observability.GrafanaAdminSecret} {
		if len(names[n]) == 0 {
			t.Errorf("production's sealed secrets lack %s (have %v)", n, names)
		}
	}

	_, client := linodetest.New(t)
	deps := rollout.Deps{Linode: client, KubernetesSkipped: "unit test"}
	p, err := rollout.Plan(t.Context(), deps, env)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, w := range p.Environments[0].Warnings {
		if strings.Contains(w, "Deps.Secrets.Source") && strings.Contains(w, observability.GrafanaAdminSecret) {
			found = true
		}
	}
	if !found {
		t.Errorf("plan without a secrets Source lacks the warning naming the unsealed Secrets: %q", p.Environments[0].Warnings)
	}
}

func keys(m map[string]change.Step) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func privKeyring(t *testing.T, priv *rsa.PrivateKey) map[string]*rsa.PrivateKey {
	t.Helper()
	fp, err := crypto.PublicKeyFingerprint(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]*rsa.PrivateKey{fp: priv}
}

func dynamicClient(t *testing.T, kubeconfig []byte) dynamic.Interface {
	t.Helper()
	cfg, err := clientcmd.RESTConfigFromKubeConfig(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	d, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// sealedBaseline is backedBaseline (baseline_test.go) without the request
// counting: a simulator whose clusters are real API servers with kwok
// nodes shaped like env's pools and the LKE stand-ins, and Deps that
// install the baseline from the shared chart repository.
func sealedBaseline(t *testing.T, env spec.Environment) (*controlplane.Pool, rollout.Deps) {
	t.Helper()
	l := newLocalLKE(t, env, nil)
	return l.pool, l.deps
}
