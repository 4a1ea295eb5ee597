package secrets_test

import (
	"crypto/rsa"
	"crypto/x509"
	"sync"
	"testing"
	"time"

	"github.com/bitnami-labs/sealed-secrets/pkg/crypto"
	"k8s.io/client-go/kubernetes/scheme"

	ssv1alpha1 "github.com/bitnami-labs/sealed-secrets/pkg/apis/sealedsecrets/v1alpha1"
)

// canary is a secret value that must surface only where it is unsealed.
const canary = "canary-7f3c-do-not-leak-9b21"

// testKey is a sealing key made as the controller makes its keys
// (crypto.GeneratePrivateKeyAndCert, called by its key registry), at 2048
// bits instead of the controller's 4096 to keep the tests fast.
type testKey struct {
	priv *rsa.PrivateKey
	cert *x509.Certificate
}

var keys = sync.OnceValues(func() ([2]testKey, error) {
	var out [2]testKey
	for i := range out {
		k, c, err := crypto.GeneratePrivateKeyAndCert(2048, time.Hour, "sealed-secrets-test")
		if err != nil {
			return out, err
		}
		out[i] = testKey{k, c}
	}
	return out, nil
})

// key returns test key i (0 or 1), the same across the package's tests.
func key(t *testing.T, i int) testKey {
	t.Helper()
	ks, err := keys()
	if err != nil {
		t.Fatalf("generate sealing keys: %v", err)
	}
	return ks[i]
}

// privKeys is the controller's key registry map for the given keys.
func privKeys(t *testing.T, ks ...testKey) map[string]*rsa.PrivateKey {
	t.Helper()
	m := map[string]*rsa.PrivateKey{}
	for _, k := range ks {
		fp, err := crypto.PublicKeyFingerprint(&k.priv.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		m[fp] = k.priv
	}
	return m
}

// unseal opens ss as the controller does.
func unseal(ss *ssv1alpha1.SealedSecret, priv map[string]*rsa.PrivateKey) (map[string][]byte, error) {
	s, err := ss.DeepCopy().Unseal(scheme.Codecs, priv)
	if err != nil {
		return nil, err
	}
	return s.Data, nil
}
