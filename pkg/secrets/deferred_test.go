package secrets_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/org/platform/internal/reconcile"
	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/secrets"
	"github.com/org/platform/pkg/spec"
)

// TestPlanSyncNewThenSealWhenApplied: a plan made before the cluster runs
// anything names references only and sends no request (its clients are
// zero: a request would panic); applied, its seal steps read, fingerprint
// and seal, and the SealedSecrets unseal to the Source's values; PlanSync
// then finds nothing to do, and applying the same seal step again writes
// nothing.
func TestPlanSyncNewThenSealWhenApplied(t *testing.T) {
	t.Parallel()
	env := spec.Environment{Name: "staging", Secrets: spec.Secrets{SealedSecrets: true, Namespace: "new-ctrl"}}
	want := []secrets.Secret{
		{Namespace: "new-apps", Name: "db", Data: map[string]string{"password": "DB_PASSWORD", "user": "DB_USER"}},
		{Namespace: "new-apps", Name: "api", Data: map[string]string{"token": "API_TOKEN"}},
	}
	p, err := secrets.PlanSyncNew(env, want)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, s := range p.Steps {
		kinds = append(kinds, s.Kind+" "+s.ID)
	}
	if w := []string{
		secrets.StepFingerprintKeyCreate + " staging/secrets/secret/new-ctrl/platform-secrets-fingerprint-key",
		secrets.StepSealedSecretSeal + " staging/secrets/sealedsecret/new-apps/api",
		secrets.StepSealedSecretSeal + " staging/secrets/sealedsecret/new-apps/db",
	}; !slices.Equal(kinds, w) {
		t.Fatalf("PlanSyncNew steps = %q, want %q", kinds, w)
	}
	db := p.Steps[2]
	if len(db.Changes) != 2 || db.Changes[0].Field != "data[password]" || db.Changes[0].To != "ref DB_PASSWORD "+secrets.SealedWhenApplied || db.Changes[0].Op != change.Create {
		t.Errorf("db's changes = %+v, want a create per key naming its reference", db.Changes)
	}
	if _, err := secrets.PlanSyncNew(env, []secrets.Secret{{Namespace: "new-apps", Name: "db"}}); err == nil || !strings.Contains(err.Error(), "secrets[new-apps/db].data") {
		t.Errorf("a Secret without data: error %v, want one naming secrets[new-apps/db].data", err)
	}
	// A seal step without a Source fails before any request.
	if err := secrets.ApplyStep(t.Context(), secrets.Clients{}, db, nil); err == nil || !strings.Contains(err.Error(), "WithSource") {
		t.Errorf("seal step without a Source: error %v, want one asking for WithSource", err)
	}

	kube, wc := cluster(t, "new-apps", "new-ctrl")
	k0 := key(t, 0)
	vals := &values{m: map[string]string{"DB_PASSWORD": canary, "DB_USER": "app", "API_TOKEN": canary + "-api"}}
	core, logs := observer.New(zap.DebugLevel)
	opts := []secrets.Option{secrets.WithSource(secrets.Env{LookupEnv: vals.lookup}), secrets.WithCert(k0.cert), secrets.WithLogger(zap.New(core))}
	leaks := &leakChecker{t: t, texts: map[string]string{}}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	leaks.add("plan (JSON)", b)
	leaks.add("plan (human)", p.Result().String())
	res, err := reconcile.Apply(t.Context(), p.Plan, &change.Outputs{}, func(ctx2 context.Context, s change.Step, out *change.Outputs) error {
		return secrets.ApplyStep(ctx2, kube, s, out, opts...)
	})
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	leaks.add("result", res.String())
	if got, w := wc.take(), []string{
		"POST /api/v1/namespaces/new-ctrl/secrets",
		"PATCH /apis/bitnami.com/v1alpha1/namespaces/new-apps/sealedsecrets/api",
		"PATCH /apis/bitnami.com/v1alpha1/namespaces/new-apps/sealedsecrets/db",
	}; !slices.Equal(got, w) {
		t.Errorf("apply wrote %q, want %q", got, w)
	}
	ss, raw := liveSealed(t, kube, "new-apps", "db")
	leaks.add("stored db", raw)
	d, err := unseal(ss, privKeys(t, k0))
	if err != nil {
		t.Fatal(err)
	}
	if string(d["password"]) != canary || string(d["user"]) != "app" {
		t.Error("db does not unseal to the Source's values")
	}
	again, err := secrets.PlanSync(t.Context(), kube, secrets.Env{LookupEnv: vals.lookup}, env, want, secrets.WithCert(k0.cert))
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Steps) != 0 {
		t.Errorf("PlanSync after the seal steps: %d steps, want none: %+v", len(again.Steps), again.Steps)
	}
	if err := secrets.ApplyStep(t.Context(), kube, db, nil, opts...); err != nil {
		t.Fatal(err)
	}
	if w := wc.take(); len(w) != 0 {
		t.Errorf("a seal step applied again over a current SealedSecret wrote %q", w)
	}
	if logs.Len() == 0 {
		t.Error("no log was captured: the leak check of the logs would prove nothing")
	}
	leaks.add("logs", logText(logs))
	leaks.check(canary)
}
