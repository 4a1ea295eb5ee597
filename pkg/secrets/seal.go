package secrets

import (
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	ssv1alpha1 "github.com/bitnami-labs/sealed-secrets/pkg/apis/sealedsecrets/v1alpha1"
	"github.com/bitnami-labs/sealed-secrets/pkg/crypto"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Scope is how far a sealed value may travel: the names are kubeseal's
// --scope values.
type Scope string

// The three sealing scopes of Sealed Secrets.
const (
	// Strict pins a value to its Secret's namespace and name: the
	// encryption label is "<namespace>/<name>". It is the default.
	Strict Scope = "strict"
	// NamespaceWide pins a value to its namespace only (label
	// "<namespace>"); the SealedSecret carries the annotation
	// sealedsecrets.bitnami.com/namespace-wide: "true".
	NamespaceWide Scope = "namespace-wide"
	// ClusterWide lets a value be unsealed under any name in any namespace
	// (empty label); the SealedSecret carries the annotation
	// sealedsecrets.bitnami.com/cluster-wide: "true".
	ClusterWide Scope = "cluster-wide"
)

// sealingScope returns the library's scope for s ("" is Strict).
func (s Scope) sealingScope() (ssv1alpha1.SealingScope, error) {
	var v ssv1alpha1.SealingScope
	if err := v.Set(string(s)); err != nil {
		return 0, fmt.Errorf("scope %q: %w", s, err)
	}
	return v, nil
}

// ErrUnusableCert means a certificate cannot seal: it does not hold an RSA
// public key, or it has expired.
var ErrUnusableCert = errors.New("certificate unusable for sealing")

// checkCert returns cert's RSA public key when it can seal at now, as
// kubeseal's ParseKey checks it.
func checkCert(cert *x509.Certificate, now time.Time) (*rsa.PublicKey, error) {
	if cert == nil {
		return nil, fmt.Errorf("%w: no certificate", ErrUnusableCert)
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: public key is %T, not RSA", ErrUnusableCert, cert.PublicKey)
	}
	if now.After(cert.NotAfter) {
		return nil, fmt.Errorf("%w: expired on %s", ErrUnusableCert, cert.NotAfter.UTC().Format(time.RFC3339))
	}
	return pub, nil
}

// CertFingerprint returns the fingerprint of cert's public key as
// sealed-secrets computes it (crypto.PublicKeyFingerprint, the key of the
// controller's key registry): "SHA256:<base64>". It is public.
func CertFingerprint(cert *x509.Certificate) (string, error) {
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return "", fmt.Errorf("%w: public key is %T, not RSA", ErrUnusableCert, cert.PublicKey)
	}
	fp, err := crypto.PublicKeyFingerprint(pub)
	if err != nil {
		return "", fmt.Errorf("fingerprint the sealing certificate: %w", err)
	}
	return fp, nil
}

// Seal encrypts every value of secret (Data and StringData) with cert's
// public key into a SealedSecret of the same name and namespace, as
// `kubeseal --scope <scope>` does: through sealed-secrets' own
// v1alpha1.NewSealedSecret, with the scope annotations that
// v1alpha1.UpdateScopeAnnotations sets on both the SealedSecret and its
// template, the encryption label v1alpha1.EncryptionLabel derives from the
// scope, the server-set metadata (uid, resourceVersion, timestamps) and
// kubectl's last-applied annotation stripped. One difference: the scope
// argument always decides, so Strict removes a scope annotation the input
// carries (kubeseal's default scope defers to it).
//
// secret is not modified. A Secret without a name, without a namespace
// (unless ClusterWide) or without any value is an error, and so is a
// certificate that is not RSA or has expired (ErrUnusableCert). Sealing is
// randomised: two calls give different ciphertexts that unseal alike.
func Seal(cert *x509.Certificate, secret *corev1.Secret, scope Scope) (*ssv1alpha1.SealedSecret, error) {
	if secret == nil {
		return nil, errors.New("seal: no Secret")
	}
	what := "seal Secret " + secret.Namespace + "/" + secret.Name
	if _, err := checkCert(cert, time.Now()); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	sc, err := scope.sealingScope()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if secret.Name == "" {
		return nil, fmt.Errorf("%s: metadata.name is empty", what)
	}
	if sc != ssv1alpha1.ClusterWideScope && secret.Namespace == "" {
		return nil, fmt.Errorf("%s: metadata.namespace is empty (only a cluster-wide value may omit it)", what)
	}
	if len(secret.Data) == 0 && len(secret.StringData) == 0 {
		return nil, fmt.Errorf("%s: it holds no value", what)
	}
	s := secret.DeepCopy()
	// As kubeseal strips read-only server-side metadata.
	s.SetSelfLink("")
	s.SetUID("")
	s.SetResourceVersion("")
	s.Generation = 0
	s.SetCreationTimestamp(metav1.Time{})
	s.SetDeletionTimestamp(nil)
	s.DeletionGracePeriodSeconds = nil
	s.ManagedFields = nil
	ss, err := sealObject(cert, s, scope)
	if err != nil {
		// The library's errors carry no plaintext.
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return ss, nil
}
