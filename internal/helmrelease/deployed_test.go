package helmrelease

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestDeployed: the deployed revision is read back with its chart, its
// values without the sensitive key (kept as reference and fingerprint),
// the digest a plan of the same release records, and its revision; an
// absent release is not found; no plaintext secret is in what is read.
func TestDeployed(t *testing.T) {
	t.Parallel()
	e := newUnitEnv(t)
	const secret = "canary-7f3a-do-not-leak"
	rel := e.rel
	rel.Values = map[string]any{"greeting": "hello", "password": secret}
	rel.Sensitive = []SensitiveValue{{Path: "password", Ref: "secret/apps/demo#password"}}

	if _, found, err := Deployed(t.Context(), nil, rel.Namespace, rel.Name, rel.Sensitive, e.opts...); err != nil || found {
		t.Fatalf("before install: found %v, err %v; want not found", found, err)
	}
	p, err := Plan(t.Context(), nil, rel, e.opts...)
	if err != nil || len(p.Steps) != 1 {
		t.Fatalf("plan: %v, %d steps", err, len(p.Steps))
	}
	var a Action
	if err := p.Steps[0].Decode(&a); err != nil {
		t.Fatal(err)
	}
	e.ensure(t, rel)

	got, found, err := Deployed(t.Context(), nil, rel.Namespace, rel.Name, rel.Sensitive, e.opts...)
	if err != nil || !found {
		t.Fatalf("after install: found %v, err %v", found, err)
	}
	if got.Chart.Name != "demo" || got.Chart.Version != "0.1.0" || got.Revision != 1 || got.Status != "deployed" {
		t.Errorf("deployed %+v; want chart demo 0.1.0, revision 1, deployed", got)
	}
	if got.ValuesDigest != a.ValuesDigest {
		t.Errorf("values digest %s; the plan recorded %s", got.ValuesDigest, a.ValuesDigest)
	}
	if got.Values["greeting"] != "hello" || len(got.Sensitive) != 1 || got.Sensitive[0].Ref != "secret/apps/demo#password" || got.Sensitive[0].Fingerprint == "" {
		t.Errorf("values %v, sensitive %+v", got.Values, got.Sensitive)
	}
	b, _ := json.Marshal(got)
	if strings.Contains(string(b), secret) {
		t.Errorf("the deployed release as read holds the secret: %s", b)
	}
}
