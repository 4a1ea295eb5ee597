package secrets_test

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bitnami-labs/sealed-secrets/pkg/crypto"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/org/platform/pkg/secrets"
)

// fakeAPIServer emulates what FetchCert uses of kube-apiserver: GET of a
// Service, and the service proxy
// /api/v1/namespaces/<ns>/services/[<scheme>:]<name>[:<port>]/proxy/<path>,
// which resolves the port by name or number among the Service's ports and
// forwards the request to the backend (the controller) with the rest of the
// path, answering as kube-apiserver does when the Service or its port is
// missing (a Status of 404, or 503 "no endpoints available").
type fakeAPIServer struct {
	services map[string]corev1.Service // "ns/name"
	backend  *url.URL
	mu       sync.Mutex
	paths    []string
}

func (f *fakeAPIServer) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.paths)
}

func status(w http.ResponseWriter, code int, reason metav1.StatusReason, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status: metav1.StatusFailure, Reason: reason, Code: int32(code), Message: msg})
}

func (f *fakeAPIServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.paths = append(f.paths, r.Method+" "+r.URL.Path)
	f.mu.Unlock()
	parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/api/v1/namespaces/"), "/", 4)
	if r.Method != http.MethodGet || !strings.HasPrefix(r.URL.Path, "/api/v1/namespaces/") || len(parts) < 3 || parts[1] != "services" {
		status(w, http.StatusNotFound, metav1.StatusReasonNotFound, "the server could not find the requested resource")
		return
	}
	ns, id := parts[0], parts[2]
	// kube-apiserver's net.SplitSchemeNamePort: name, name:port, scheme:name:port.
	scheme, name, port := "", id, ""
	switch segs := strings.Split(id, ":"); len(segs) {
	case 2:
		name, port = segs[0], segs[1]
	case 3:
		scheme, name, port = segs[0], segs[1], segs[2]
	}
	svc, ok := f.services[ns+"/"+name]
	if !ok {
		status(w, http.StatusNotFound, metav1.StatusReasonNotFound, `services "`+name+`" not found`)
		return
	}
	if len(parts) == 3 { // GET the Service
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(svc)
		return
	}
	rest, ok := strings.CutPrefix(parts[3], "proxy")
	if !ok || (scheme != "" && scheme != "http" && scheme != "https") {
		status(w, http.StatusNotFound, metav1.StatusReasonNotFound, "the server could not find the requested resource")
		return
	}
	found := slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool {
		return port == "" || p.Name == port || strconv.Itoa(int(p.Port)) == port
	})
	if !found {
		status(w, http.StatusServiceUnavailable, metav1.StatusReasonServiceUnavailable, `no endpoints available for service "`+id+`"`)
		return
	}
	proxy := httputil.NewSingleHostReverseProxy(f.backend)
	r2 := r.Clone(r.Context())
	r2.URL.Path = rest
	proxy.ServeHTTP(w, r2)
}

// controllerService is the Service the chart makes (port "http", 8080).
func controllerService(ns, name, portName string) corev1.Service {
	return corev1.Service{TypeMeta: metav1.TypeMeta{Kind: "Service", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: portName, Port: 8080}}}}
}

// startProxy returns a clientset talking to a fakeAPIServer whose services
// proxy to a controller serving certPEM at /v1/cert.pem, as the
// controller's HTTP server does.
func startProxy(t *testing.T, certPEM []byte, services ...corev1.Service) (kubernetes.Interface, *fakeAPIServer) {
	t.Helper()
	ctrl := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/cert.pem" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/x-pem-file")
		_, _ = w.Write(certPEM)
	}))
	t.Cleanup(ctrl.Close)
	u, _ := url.Parse(ctrl.URL)
	f := &fakeAPIServer{services: map[string]corev1.Service{}, backend: u}
	for _, s := range services {
		f.services[s.Namespace+"/"+s.Name] = s
	}
	api := httptest.NewServer(f)
	t.Cleanup(api.Close)
	kube, err := kubernetes.NewForConfig(&rest.Config{Host: api.URL})
	if err != nil {
		t.Fatal(err)
	}
	return kube, f
}

func certPEM(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

func TestFetchCertThroughTheServiceProxy(t *testing.T) {
	t.Parallel()
	k := key(t, 0)
	expired, err := crypto.SignKeyWithNotBefore(rand.Reader, k.priv, time.Now().Add(-2*time.Hour), time.Hour, "old")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		served    []byte
		services  []corev1.Service
		opts      []secrets.CertOption
		wantPaths []string
		wantErr   func(error) bool
	}{
		{
			name:     "kubeseal's defaults",
			served:   certPEM(k.cert),
			services: []corev1.Service{controllerService("kube-system", "sealed-secrets-controller", "http")},
			wantPaths: []string{
				"GET /api/v1/namespaces/kube-system/services/sealed-secrets-controller",
				"GET /api/v1/namespaces/kube-system/services/http:sealed-secrets-controller:http/proxy/v1/cert.pem",
			},
		},
		{
			name:     "another controller, its first port's name read from its Service",
			served:   certPEM(k.cert),
			services: []corev1.Service{controllerService("secrets", "sealed-secrets", "web")},
			opts:     []secrets.CertOption{secrets.WithController("secrets", "sealed-secrets")},
			wantPaths: []string{
				"GET /api/v1/namespaces/secrets/services/sealed-secrets",
				"GET /api/v1/namespaces/secrets/services/http:sealed-secrets:web/proxy/v1/cert.pem",
			},
		},
		{
			name:      "a port given skips reading the Service",
			served:    certPEM(k.cert),
			services:  []corev1.Service{controllerService("kube-system", "sealed-secrets-controller", "http")},
			opts:      []secrets.CertOption{secrets.WithControllerPort("8080")},
			wantPaths: []string{"GET /api/v1/namespaces/kube-system/services/http:sealed-secrets-controller:8080/proxy/v1/cert.pem"},
		},
		{
			name:    "no controller Service",
			served:  certPEM(k.cert),
			wantErr: apierrors.IsNotFound,
		},
		{
			name:     "a port the Service lacks",
			served:   certPEM(k.cert),
			services: []corev1.Service{controllerService("kube-system", "sealed-secrets-controller", "http")},
			opts:     []secrets.CertOption{secrets.WithControllerPort("metrics")},
			wantErr:  apierrors.IsServiceUnavailable,
		},
		{
			name:     "not a certificate",
			served:   []byte("<html>hello</html>"),
			services: []corev1.Service{controllerService("kube-system", "sealed-secrets-controller", "http")},
			wantErr:  func(err error) bool { return errors.Is(err, secrets.ErrUnusableCert) },
		},
		{
			name:     "an expired certificate",
			served:   certPEM(expired),
			services: []corev1.Service{controllerService("kube-system", "sealed-secrets-controller", "http")},
			wantErr: func(err error) bool {
				return errors.Is(err, secrets.ErrUnusableCert) && strings.Contains(err.Error(), "expired")
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			kube, api := startProxy(t, tt.served, tt.services...)
			got, err := secrets.FetchCert(t.Context(), kube, tt.opts...)
			if tt.wantErr != nil {
				if err == nil || !tt.wantErr(err) {
					t.Fatalf("FetchCert error = %v, not the one expected", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("FetchCert: %v", err)
			}
			if !got.Equal(k.cert) {
				t.Error("FetchCert returned another certificate than the controller serves")
			}
			if !slices.Equal(api.requests(), tt.wantPaths) {
				t.Errorf("requests = %q, want %q", api.requests(), tt.wantPaths)
			}
		})
	}
}

func TestReadCertFile(t *testing.T) {
	t.Parallel()
	k := key(t, 0)
	dir := t.TempDir()
	good := filepath.Join(dir, "cert.pem")
	bad := filepath.Join(dir, "key.pem")
	if err := os.WriteFile(good, certPEM(k.cert), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := secrets.ReadCertFile(good)
	if err != nil || !c.Equal(k.cert) {
		t.Fatalf("ReadCertFile(%s) = %v", good, err)
	}
	if _, err := secrets.ReadCertFile(bad); !errors.Is(err, secrets.ErrUnusableCert) {
		t.Errorf("a file without a certificate: error %v, want ErrUnusableCert", err)
	}
	if _, err := secrets.ReadCertFile(filepath.Join(dir, "missing.pem")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing file: error %v, want one matching os.ErrNotExist", err)
	}
}
