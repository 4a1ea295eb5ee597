package secrets_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"log"
	"maps"
	"math/big"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/org/platform/pkg/secrets"
)

// Seal is `kubeseal --scope strict`: the value is encrypted for the
// controller's key and bound to its namespace and name; the plaintext is
// in no field of the result. A cluster's certificate comes from FetchCert
// or ReadCertFile; this one is made on the spot.
func ExampleSeal() {
	cert, err := secrets.ParseCert(selfSigned())
	if err != nil {
		log.Fatal(err)
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "payments", Name: "db"},
		Data:       map[string][]byte{"password": []byte("correct-horse-battery")},
	}
	sealed, err := secrets.Seal(cert, secret, secrets.Strict)
	if err != nil {
		log.Fatal(err)
	}
	keys := slices.Sorted(maps.Keys(sealed.Spec.EncryptedData))
	fmt.Println(sealed.Namespace, sealed.Name, keys)
	fmt.Println("plaintext inside:", strings.Contains(sealed.Spec.EncryptedData["password"], "correct-horse"))
	// Output:
	// payments db [password]
	// plaintext inside: false
}

// A keyed fingerprint says whether a value changed without revealing it:
// the same value under the same key and name gives the same fingerprint,
// and the same value under another Secret's name does not.
func ExampleFingerprint() {
	key := []byte("0123456789abcdef0123456789abcdef") // Sync keeps 32 random bytes in the cluster
	a := secrets.Fingerprint(key, "payments", "db", "password", []byte("hunter2"))
	b := secrets.Fingerprint(key, "payments", "db", "password", []byte("hunter2"))
	c := secrets.Fingerprint(key, "orders", "db", "password", []byte("hunter2"))
	fmt.Println(strings.HasPrefix(a, "hmac-sha256:"), a == b, a == c)
	// Output:
	// true true false
}

// selfSigned returns a PEM certificate holding a fresh RSA key, as the
// sealed-secrets controller serves at /v1/cert.pem.
func selfSigned() []byte {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		log.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sealed-secret"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageKeyEncipherment | x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		log.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
