package local

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bitnami-labs/sealed-secrets/pkg/crypto"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	certutil "k8s.io/client-go/util/cert"
	"k8s.io/client-go/util/keyutil"

	"github.com/org/platform/pkg/secrets"
	"github.com/org/platform/pkg/spec"
)

// The sealing key SealingKeyCert makes as the Sealed Secrets controller
// makes its own at start-up (its defaults: --key-size 4096, --key-ttl ten
// years, --key-prefix sealed-secrets-key).
const (
	sealingKeyBits   = 4096
	sealingKeyTTL    = 10 * 365 * 24 * time.Hour
	sealingKeyPrefix = "sealed-secrets-key"
	sealingKeyCN     = "sealed-secret"
)

// sealingKeyMu serialises SealingKeyCert, so that two concurrent first
// calls for one cluster do not both make a key.
var sealingKeyMu sync.Mutex

// SealingKeyCert is the sealing certificate of env's cluster on the local
// control planes (rollout.SecretsDeps.Cert there). No controller runs under
// kwok, so nothing serves /v1/cert.pem and nothing makes a key: this does
// what the controller does at start-up. It returns the certificate of the
// newest active key Secret in the controller's namespace (label
// sealedsecrets.bitnami.com/sealed-secrets-key=active); when there is
// none, it makes one with sealed-secrets' own key generation
// (crypto.GeneratePrivateKeyAndCert, 4096 bits, valid ten years) and
// creates it as the controller writes its keys — a kubernetes.io/tls
// Secret named sealed-secrets-key<random> holding tls.key and tls.crt —
// so a real controller started later adopts it, and tests unseal with its
// private key. It is a write the first time; every later call only reads.
func SealingKeyCert(ctx context.Context, env spec.Environment, kube kubernetes.Interface) (*x509.Certificate, error) {
	ns := env.WithDefaults().Secrets.Namespace
	sealingKeyMu.Lock()
	defer sealingKeyMu.Unlock()
	list, err := kube.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{LabelSelector: secrets.KeyLabel + "=active"})
	if err != nil {
		return nil, fmt.Errorf("list the sealing keys in %s: %w", ns, err)
	}
	if len(list.Items) > 0 {
		// The controller seals with the newest.
		newest := slices.MaxFunc(list.Items, func(a, b corev1.Secret) int {
			if c := a.CreationTimestamp.Compare(b.CreationTimestamp.Time); c != 0 {
				return c
			}
			return strings.Compare(a.Name, b.Name)
		})
		certs, err := certutil.ParseCertsPEM(newest.Data[corev1.TLSCertKey])
		if err != nil || len(certs) == 0 {
			return nil, fmt.Errorf("sealing key %s/%s: no certificate in %s: %v", ns, newest.Name, corev1.TLSCertKey, err)
		}
		return certs[0], nil
	}
	key, cert, err := crypto.GeneratePrivateKeyAndCert(sealingKeyBits, sealingKeyTTL, sealingKeyCN)
	if err != nil {
		return nil, fmt.Errorf("generate a sealing key: %w", err)
	}
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, GenerateName: sealingKeyPrefix, Labels: map[string]string{secrets.KeyLabel: "active"}},
		Type:       corev1.SecretTypeTLS,
		Data: map[string][]byte{
			corev1.TLSPrivateKeyKey: pem.EncodeToMemory(&pem.Block{Type: keyutil.RSAPrivateKeyBlockType, Bytes: x509.MarshalPKCS1PrivateKey(key)}),
			corev1.TLSCertKey:       pem.EncodeToMemory(&pem.Block{Type: certutil.CertificateBlockType, Bytes: cert.Raw}),
		},
	}
	if _, err := kube.CoreV1().Secrets(ns).Create(ctx, s, metav1.CreateOptions{}); err != nil {
		return nil, fmt.Errorf("create the sealing key in %s: %w", ns, err)
	}
	return cert, nil
}

// DemoSource is the Source of the sealed secrets on the simulator: clearly
// fake values, never real credentials, for the simulator only — a Slack
// webhook reference (…_URL) gets https://alerts.invalid/simulated/<ref>
// (the reserved .invalid domain: nothing is ever sent), every other
// reference "simulated-not-a-secret-<ref>". On the real Linode API the
// Source is the environment variables instead (secrets.Env).
var DemoSource secrets.Source = secrets.SourceFunc(func(_ context.Context, ref string) ([]byte, error) {
	if strings.HasSuffix(ref, "_URL") {
		return []byte("https://alerts.invalid/simulated/" + strings.ToLower(ref)), nil
	}
	return []byte("simulated-not-a-secret-" + strings.ToLower(ref)), nil
})
