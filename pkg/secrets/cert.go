package secrets

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	certutil "k8s.io/client-go/util/cert"
)

// The controller kubeseal talks to unless told otherwise (its
// --controller-namespace and --controller-name defaults), and the scheme
// and path of the certificate it fetches through the API server's service
// proxy.
const (
	DefaultControllerNamespace = "kube-system"
	DefaultControllerName      = "sealed-secrets-controller"
	// DefaultControllerPort is the name of the port the chart gives the
	// controller's Service. kubeseal reads the name of the Service's first
	// port instead; FetchCert does the same unless WithControllerPort is
	// given.
	DefaultControllerPort = "http"
	certScheme            = "http"
	certPath              = "/v1/cert.pem"
	maxCertBytes          = 1 << 20
)

// CertOption changes where FetchCert looks.
type CertOption func(*certOptions)

type certOptions struct {
	namespace, name, port string
	now                   func() time.Time
}

// WithController names the controller's namespace and Service. Defaults
// DefaultControllerNamespace and DefaultControllerName.
func WithController(namespace, name string) CertOption {
	return func(o *certOptions) {
		if namespace != "" {
			o.namespace = namespace
		}
		if name != "" {
			o.name = name
		}
	}
}

// WithControllerPort names the Service port (by name or number) to proxy
// to, which skips reading the Service. Default: the name of the Service's
// first port, as kubeseal does (the chart names it DefaultControllerPort).
func WithControllerPort(port string) CertOption {
	return func(o *certOptions) { o.port = port }
}

// FetchCert fetches the controller's current sealing certificate the way
// kubeseal does: GET
// /api/v1/namespaces/<namespace>/services/http:<name>:<port>/proxy/v1/cert.pem
// through the API server's service proxy, the port being the name of the
// Service's first port (read first) unless WithControllerPort names it.
// The controller serves the certificate of its newest active key, so after
// a key rotation FetchCert returns the new one.
//
// The answer must be a PEM certificate with an RSA public key that has not
// expired; otherwise the error matches ErrUnusableCert. It only reads.
func FetchCert(ctx context.Context, kube kubernetes.Interface, opts ...CertOption) (*x509.Certificate, error) {
	o := certOptions{namespace: DefaultControllerNamespace, name: DefaultControllerName, now: time.Now}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	svc := o.namespace + "/" + o.name
	port := o.port
	if port == "" {
		s, err := kube.CoreV1().Services(o.namespace).Get(ctx, o.name, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("get the Sealed Secrets controller's Service %s: %w", svc, err)
		}
		if len(s.Spec.Ports) == 0 {
			return nil, fmt.Errorf("get the Sealed Secrets controller's Service %s: it has no port", svc)
		}
		port = s.Spec.Ports[0].Name
		if port == "" {
			port = fmt.Sprint(s.Spec.Ports[0].Port)
		}
	}
	rc, err := kube.CoreV1().Services(o.namespace).ProxyGet(certScheme, o.name, port, certPath, nil).Stream(ctx)
	if err != nil {
		return nil, fmt.Errorf("fetch the sealing certificate from %s port %s: %w", svc, port, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxCertBytes))
	if err != nil {
		return nil, fmt.Errorf("fetch the sealing certificate from %s port %s: %w", svc, port, err)
	}
	cert, err := parseCert(b, o.now())
	if err != nil {
		return nil, fmt.Errorf("sealing certificate from %s port %s: %w", svc, port, err)
	}
	return cert, nil
}

// ReadCertFile reads a sealing certificate from a PEM file (what `kubeseal
// --fetch-cert` prints, or the chart's offline copy) and checks it as
// FetchCert does. It sends no request.
func ReadCertFile(path string) (*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read sealing certificate: %w", err)
	}
	cert, err := parseCert(b, time.Now())
	if err != nil {
		return nil, fmt.Errorf("sealing certificate %s: %w", path, err)
	}
	return cert, nil
}

// ParseCert parses the first certificate of PEM data and checks that it
// can seal (RSA, not expired), as kubeseal's ParseKey does.
func ParseCert(pemData []byte) (*x509.Certificate, error) {
	return parseCert(pemData, time.Now())
}

func parseCert(b []byte, now time.Time) (*x509.Certificate, error) {
	certs, err := certutil.ParseCertsPEM(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnusableCert, err)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%w: %w", ErrUnusableCert, errors.New("no certificate in the PEM data"))
	}
	if _, err := checkCert(certs[0], now); err != nil {
		return nil, err
	}
	return certs[0], nil
}
