package secrets_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bitnami-labs/sealed-secrets/pkg/crypto"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/util/keyutil"

	"github.com/org/platform/pkg/secrets"
)

// keySecret is a key Secret as the controller's writeKey makes it.
func keySecret(name, status string, priv *rsa.PrivateKey, cert *x509.Certificate) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: name, UID: types.UID("uid-" + name), ResourceVersion: "7",
			Labels: map[string]string{secrets.KeyLabel: status}},
		Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{
			corev1.TLSPrivateKeyKey: pem.EncodeToMemory(&pem.Block{Type: keyutil.RSAPrivateKeyBlockType, Bytes: x509.MarshalPKCS1PrivateKey(priv)}),
			corev1.TLSCertKey:       pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}),
		},
	}
}

func TestBackupKeysWritesEveryKeyAndNamesTheNewest(t *testing.T) {
	t.Parallel()
	k0, k1 := key(t, 0), key(t, 1)
	older, err := crypto.SignKeyWithNotBefore(rand.Reader, k0.priv, time.Now().Add(-30*24*time.Hour), 365*24*time.Hour, "old")
	if err != nil {
		t.Fatal(err)
	}
	kube := fake.NewClientset(
		keySecret("sealed-secrets-keynew01", "active", k1.priv, k1.cert),
		keySecret("sealed-secrets-keyold01", "active", k0.priv, older),
		keySecret("sealed-secrets-keybad01", "compromised", k0.priv, older),
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "unrelated"}, Data: map[string][]byte{"x": []byte(canary)}},
	)
	got := map[string][]byte{}
	dest := secrets.DestinationFunc(func(_ context.Context, name string, manifest []byte) error {
		got[name] = manifest
		return nil
	})
	core, logs := observer.New(zap.DebugLevel)
	res, err := secrets.BackupKeys(t.Context(), kube, dest, secrets.WithLogger(zap.New(core)))
	if err != nil {
		t.Fatalf("BackupKeys: %v", err)
	}
	if names := slices.Sorted(maps.Keys(got)); !slices.Equal(names, []string{"sealed-secrets-keybad01", "sealed-secrets-keynew01", "sealed-secrets-keyold01"}) {
		t.Errorf("backed up %q, want the three key Secrets and nothing else", names)
	}
	if res.Newest != "sealed-secrets-keynew01" {
		t.Errorf("Newest = %q, want the active key whose certificate starts last", res.Newest)
	}
	fp1, _ := secrets.CertFingerprint(k1.cert)
	if last := res.Keys[len(res.Keys)-1]; last.Name != "sealed-secrets-keynew01" || last.CertFingerprint != fp1 {
		t.Errorf("keys are not listed oldest first: %+v", res.Keys)
	}
	// Each backup restores: a Secret without server fields whose key is the
	// controller's private key.
	for name, m := range got {
		var s corev1.Secret
		if err := json.Unmarshal(m, &s); err != nil {
			t.Fatalf("backup %s is not a Secret: %v", name, err)
		}
		if s.Kind != "Secret" || s.Namespace != "kube-system" || s.UID != "" || s.ResourceVersion != "" || s.Labels[secrets.KeyLabel] == "" {
			t.Errorf("backup %s is not restorable as is: %+v", name, s.ObjectMeta)
		}
		k, err := keyutil.ParsePrivateKeyPEM(s.Data[corev1.TLSPrivateKeyKey])
		if err != nil {
			t.Fatalf("backup %s: %v", name, err)
		}
		want := k0.priv
		if name == "sealed-secrets-keynew01" {
			want = k1.priv
		}
		if !want.Equal(k) {
			t.Errorf("backup %s holds another private key", name)
		}
	}
	// Key material reaches the destination only.
	if logs.Len() == 0 {
		t.Fatal("no log captured: the check below would prove nothing")
	}
	resJSON, _ := json.Marshal(res)
	for _, k := range []*rsa.PrivateKey{k0.priv, k1.priv} {
		der := x509.MarshalPKCS1PrivateKey(k)
		pemKey := pem.EncodeToMemory(&pem.Block{Type: keyutil.RSAPrivateKeyBlockType, Bytes: der})
		for what, text := range map[string]string{"logs": logText(logs), "result": string(resJSON)} {
			for _, form := range []string{base64.StdEncoding.EncodeToString(der[:64]), string(pemKey[40:120]), base64.StdEncoding.EncodeToString(pemKey)[:80]} {
				if strings.Contains(text, form) {
					t.Errorf("%s holds private key material", what)
				}
			}
		}
	}

	// A destination that fails stops the backup, naming the key.
	boom := errors.New("bucket unreachable")
	_, err = secrets.BackupKeys(t.Context(), kube, secrets.DestinationFunc(func(context.Context, string, []byte) error { return boom }))
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "back up sealing key kube-system/sealed-secrets-key") {
		t.Errorf("BackupKeys with a failing destination: %v", err)
	}
}
