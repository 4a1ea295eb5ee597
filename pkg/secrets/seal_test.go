package secrets_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	ssv1alpha1 "github.com/bitnami-labs/sealed-secrets/pkg/apis/sealedsecrets/v1alpha1"
	"github.com/bitnami-labs/sealed-secrets/pkg/crypto"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"

	"github.com/org/platform/pkg/secrets"
)

func TestSealUnsealsOnlyWhereItsScopeAllows(t *testing.T) {
	t.Parallel()
	type move struct{ namespace, name string }
	var (
		same      = move{"apps", "db"}
		otherName = move{"apps", "db-copy"}
		otherNS   = move{"other", "db"}
		elsewhere = move{"other", "db-copy"}
	)
	tests := []struct {
		scope      secrets.Scope
		annotation string // the scope annotation kubeseal sets, "" for strict
		unseals    map[move]bool
	}{
		{secrets.Strict, "", map[move]bool{same: true, otherName: false, otherNS: false, elsewhere: false}},
		{secrets.NamespaceWide, ssv1alpha1.SealedSecretNamespaceWideAnnotation, map[move]bool{same: true, otherName: true, otherNS: false, elsewhere: false}},
		{secrets.ClusterWide, ssv1alpha1.SealedSecretClusterWideAnnotation, map[move]bool{same: true, otherName: true, otherNS: true, elsewhere: true}},
	}
	for _, tt := range tests {
		t.Run(string(tt.scope), func(t *testing.T) {
			t.Parallel()
			k := key(t, 0)
			in := &corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "db", Labels: map[string]string{"team": "a"},
					Annotations: map[string]string{"kubectl.kubernetes.io/last-applied-configuration": `{"data":{"password":"` + canary + `"}}`}},
				Type:       corev1.SecretTypeOpaque,
				Data:       map[string][]byte{"password": []byte(canary)},
				StringData: map[string]string{"user": "admin"},
			}
			before := in.DeepCopy()
			ss, err := secrets.Seal(k.cert, in, tt.scope)
			if err != nil {
				t.Fatalf("Seal: %v", err)
			}
			if in.Annotations[ssv1alpha1.SealedSecretClusterWideAnnotation] != "" || len(in.Annotations) != len(before.Annotations) {
				t.Errorf("Seal changed its input's annotations: %v", in.Annotations)
			}
			for _, anno := range []map[string]string{ss.Annotations, ss.Spec.Template.Annotations} {
				for _, a := range []string{ssv1alpha1.SealedSecretNamespaceWideAnnotation, ssv1alpha1.SealedSecretClusterWideAnnotation} {
					want := ""
					if a == tt.annotation {
						want = "true"
					}
					if anno[a] != want {
						t.Errorf("annotation %s = %q, want %q", a, anno[a], want)
					}
				}
			}
			rendered, err := yaml.Marshal(ss)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(rendered), canary) {
				t.Errorf("the sealed object holds the canary in clear (last-applied annotation not stripped?):\n%s", rendered)
			}
			for mv, want := range tt.unseals {
				moved := ss.DeepCopy()
				moved.Namespace, moved.Name = mv.namespace, mv.name
				data, err := unseal(moved, privKeys(t, k))
				if !want {
					if err == nil {
						t.Errorf("a %s value moved to %s/%s unsealed; its scope forbids it", tt.scope, mv.namespace, mv.name)
					}
					continue
				}
				if err != nil {
					t.Errorf("unseal at %s/%s: %v", mv.namespace, mv.name, err)
					continue
				}
				if string(data["password"]) != canary || string(data["user"]) != "admin" {
					t.Errorf("unsealed at %s/%s to the wrong values", mv.namespace, mv.name)
				}
				s, _ := moved.DeepCopy().Unseal(kscheme.Codecs, privKeys(t, k))
				if s.Namespace != mv.namespace || s.Name != mv.name || s.Labels["team"] != "a" || s.Type != corev1.SecretTypeOpaque {
					t.Errorf("unsealed Secret is %s/%s labels %v type %s", s.Namespace, s.Name, s.Labels, s.Type)
				}
			}
		})
	}
}

func TestSealWithAnotherKeyDoesNotUnseal(t *testing.T) {
	t.Parallel()
	ss, err := secrets.Seal(key(t, 0).cert, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "db"},
		Data: map[string][]byte{"password": []byte(canary)}}, secrets.Strict)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unseal(ss, privKeys(t, key(t, 1))); err == nil {
		t.Error("a value sealed with key 0 unsealed with key 1 only")
	}
	if data, err := unseal(ss, privKeys(t, key(t, 1), key(t, 0))); err != nil || string(data["password"]) != canary {
		t.Errorf("with both keys (as after a rotation) it must unseal: %v", err)
	}
}

func TestSealRefuses(t *testing.T) {
	t.Parallel()
	k := key(t, 0)
	expired, err := crypto.SignKeyWithNotBefore(rand.Reader, k.priv, time.Now().Add(-2*time.Hour), time.Hour, "old")
	if err != nil {
		t.Fatal(err)
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ec"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &ec.PublicKey, ec)
	if err != nil {
		t.Fatal(err)
	}
	ecCert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	data := map[string][]byte{"k": []byte(canary)}
	tests := []struct {
		name    string
		cert    *x509.Certificate
		secret  *corev1.Secret
		scope   secrets.Scope
		want    string
		wantErr error
	}{
		{"expired certificate", expired, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "b"}, Data: data}, secrets.Strict, "expired", secrets.ErrUnusableCert},
		{"not an RSA key", ecCert, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "b"}, Data: data}, secrets.Strict, "not RSA", secrets.ErrUnusableCert},
		{"strict without namespace", k.cert, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "b"}, Data: data}, secrets.Strict, "metadata.namespace is empty", nil},
		{"namespace-wide without namespace", k.cert, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "b"}, Data: data}, secrets.NamespaceWide, "metadata.namespace is empty", nil},
		{"without name", k.cert, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "a"}, Data: data}, secrets.Strict, "metadata.name is empty", nil},
		{"without values", k.cert, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "b"}}, secrets.Strict, "holds no value", nil},
		{"unknown scope", k.cert, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "b"}, Data: data}, "galaxy-wide", "must be one of", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := secrets.Seal(tt.cert, tt.secret, tt.scope)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Seal error = %v, want one saying %q", err, tt.want)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error %v does not match %v", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), canary) {
				t.Errorf("the error shows the value: %v", err)
			}
		})
	}
	// Cluster-wide needs no namespace.
	if _, err := secrets.Seal(k.cert, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "b"}, Data: data}, secrets.ClusterWide); err != nil {
		t.Errorf("cluster-wide Seal without namespace: %v", err)
	}
}
