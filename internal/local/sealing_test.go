package local

import (
	"crypto/rsa"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/util/keyutil"

	"github.com/org/platform/pkg/secrets"
	"github.com/org/platform/pkg/spec"
)

// TestSealingKeyCert: the first call makes the controller's active key
// Secret (what the real controller would adopt) whose private key opens
// what the returned certificate seals; later calls return the same
// certificate and write nothing.
func TestSealingKeyCert(t *testing.T) {
	t.Parallel()
	kube := fake.NewClientset()
	var creates int
	kube.PrependReactor("create", "secrets", func(a k8stesting.Action) (bool, runtime.Object, error) {
		creates++
		s := a.(k8stesting.CreateAction).GetObject().(*corev1.Secret)
		if s.Name == "" && s.GenerateName != "" { // the fake does not generate names
			s.Name = s.GenerateName + "x7k2p"
		}
		return false, nil, nil
	})
	env, err := spec.Default("development")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := SealingKeyCert(t.Context(), env, kube)
	if err != nil {
		t.Fatal(err)
	}
	list, err := kube.CoreV1().Secrets(secrets.DefaultControllerNamespace).List(t.Context(), metav1.ListOptions{LabelSelector: secrets.KeyLabel + "=active"})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 1 {
		t.Fatalf("%d active key Secrets in %s, want 1", len(list.Items), secrets.DefaultControllerNamespace)
	}
	s := list.Items[0]
	if s.Type != corev1.SecretTypeTLS || !strings.HasPrefix(s.Name, "sealed-secrets-key") {
		t.Errorf("key Secret %s of type %s, want sealed-secrets-key… of type %s", s.Name, s.Type, corev1.SecretTypeTLS)
	}
	k, err := keyutil.ParsePrivateKeyPEM(s.Data[corev1.TLSPrivateKeyKey])
	if err != nil {
		t.Fatal(err)
	}
	priv, ok := k.(*rsa.PrivateKey)
	if !ok || !priv.PublicKey.Equal(cert.PublicKey) || priv.N.BitLen() != 4096 {
		t.Fatalf("the key Secret's private key (%T) is not the 4096-bit key of the certificate returned", k)
	}
	again, err := SealingKeyCert(t.Context(), env, kube)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Equal(cert) || creates != 1 {
		t.Errorf("second call: same certificate %v, %d creates in all; want the same and 1", again.Equal(cert), creates)
	}
}

// TestDemoSourceIsFake: the simulator's values say they are fake, and a
// webhook URL points at the reserved .invalid domain.
func TestDemoSourceIsFake(t *testing.T) {
	t.Parallel()
	for ref, want := range map[string]string{
		"PLATFORM_DEVELOPMENT_ALERTMANAGER_SLACK_WEBHOOK_URL": "https://alerts.invalid/simulated/",
		"PLATFORM_DEVELOPMENT_GRAFANA_ADMIN_ADMIN_PASSWORD":   "simulated-not-a-secret-",
	} {
		v, err := DemoSource.Value(t.Context(), ref)
		if err != nil || !strings.HasPrefix(string(v), want) {
			t.Errorf("DemoSource(%s) = %q, %v; want %s…", ref, v, err, want)
		}
	}
}
