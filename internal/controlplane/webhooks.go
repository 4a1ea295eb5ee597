package controlplane

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
)

// ErrNoStandIns is returned by the methods that reach a stand-in on a
// control plane started without [WithStandIns].
var ErrNoStandIns = errors.New("controlplane: started without WithStandIns")

// WebhookCall is one review the webhook stand-in answered.
type WebhookCall struct {
	// Webhooks names the webhooks, of any Validating- or
	// MutatingWebhookConfiguration, whose clientConfig is the Service and
	// path called. kube-apiserver does not say which webhook it calls, so
	// webhooks that share a Service and a path are not told apart.
	Webhooks []string
	// Service is the Service called, "<namespace>/<name>", from the TLS
	// server name "<name>.<namespace>.svc" kube-apiserver verifies.
	Service string
	// Path is the HTTP path called (the clientConfig's service.path).
	Path string
	// Review is the review's kind: "AdmissionReview" or "ConversionReview".
	Review string
	// Operation, Resource ("<group>/<version>, Resource=<resource>" as
	// metav1.GroupVersionResource prints it; "configmaps" is
	// "/v1, Resource=configmaps"), Namespace and Name are the
	// AdmissionReview's request; empty for a ConversionReview.
	Operation, Resource, Namespace, Name string
	// Allowed is the answer: true unless [ControlPlane.DenyWebhook] was
	// called for one of Webhooks.
	Allowed bool
}

// webhookServer is the webhook stand-in: a TLS server on loopback that
// answers every AdmissionReview with allowed (no patch) and every
// ConversionReview by relabelling the objects with the desired version,
// presenting for each server name a certificate its own CA signs.
type webhookServer struct {
	log    *zap.Logger
	ca     *x509.Certificate
	caKey  *ecdsa.PrivateKey
	caPEM  []byte
	ln     net.Listener
	srv    *http.Server
	served chan struct{} // closed when Serve returned

	mu      sync.Mutex
	certs   map[string]*tls.Certificate // by server name
	calls   []WebhookCall
	deny    map[string]string // webhook name → message
	resolve func(service, path string) []string
}

// maxReview bounds the body of a review the stand-in reads (kube-apiserver
// sends objects up to its 3 MiB request limit, twice for an update).
const maxReview = 8 << 20

// startWebhookServer makes a CA and starts the stand-in on a free loopback
// port.
func startWebhookServer(log *zap.Logger) (*webhookServer, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate webhook CA key: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "controlplane webhook stand-in CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("create webhook CA: %w", err)
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse webhook CA: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the webhook stand-in: %w", err)
	}
	s := &webhookServer{
		log: log, ca: ca, caKey: caKey, ln: ln, served: make(chan struct{}),
		caPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		certs: map[string]*tls.Certificate{}, deny: map[string]string{},
	}
	s.srv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		TLSConfig:         &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: s.certificate},
		ErrorLog:          zap.NewStdLog(log.WithOptions(zap.IncreaseLevel(zap.WarnLevel))),
	}
	go func() {
		defer close(s.served)
		_ = s.srv.ServeTLS(ln, "", "")
	}()
	log.Debug("webhook stand-in listening", zap.String("addr", ln.Addr().String()))
	return s, nil
}

// addr is the stand-in's host:port.
func (s *webhookServer) addr() string { return s.ln.Addr().String() }

// close stops the server and waits for it.
func (s *webhookServer) close() {
	_ = s.srv.Close()
	<-s.served
}

// certificate returns the serving certificate for the client's server name
// ("<service>.<namespace>.svc" from kube-apiserver), issuing it on first
// use: valid for that name, or for 127.0.0.1 when none is sent.
func (s *webhookServer) certificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	name := strings.ToLower(hello.ServerName)
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.certs[name]; ok {
		return c, nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate webhook serving key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, fmt.Errorf("generate serial: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if name == "" {
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	} else {
		tmpl.DNSNames = []string{name}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, s.ca, &key.PublicKey, s.caKey)
	if err != nil {
		return nil, fmt.Errorf("issue webhook serving certificate for %q: %w", name, err)
	}
	c := &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	s.certs[name] = c
	return c, nil
}

// serviceOf turns the server name "<name>.<namespace>.svc" (or a longer
// form of it) into "<namespace>/<name>"; another name is returned as is.
func serviceOf(serverName string) string {
	parts := strings.Split(serverName, ".")
	if len(parts) >= 3 && parts[2] == "svc" {
		return parts[1] + "/" + parts[0]
	}
	return serverName
}

// review is what the stand-in reads of a request body: an AdmissionReview's
// request, or a ConversionReview's.
type review struct {
	APIVersion string                        `json:"apiVersion"`
	Kind       string                        `json:"kind"`
	Request    *admissionv1.AdmissionRequest `json:"request"`
}

type conversionRequest struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Request    *struct {
		UID               types.UID              `json:"uid"`
		DesiredAPIVersion string                 `json:"desiredAPIVersion"`
		Objects           []runtime.RawExtension `json:"objects"`
	} `json:"request"`
}

func (s *webhookServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "the webhook stand-in answers POSTed reviews only", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxReview))
	if err != nil {
		http.Error(w, "read review: "+err.Error(), http.StatusBadRequest)
		return
	}
	var rv review
	if err := json.Unmarshal(body, &rv); err != nil || rv.Request == nil {
		http.Error(w, fmt.Sprintf("decode review: not an AdmissionReview or ConversionReview with a request (%v)", err), http.StatusBadRequest)
		return
	}
	call := WebhookCall{Path: r.URL.Path, Review: rv.Kind}
	if r.TLS != nil {
		call.Service = serviceOf(r.TLS.ServerName)
	}
	s.mu.Lock()
	resolve := s.resolve
	s.mu.Unlock()
	if resolve != nil {
		call.Webhooks = resolve(call.Service, call.Path)
	}
	var resp any
	switch rv.Kind {
	case "ConversionReview":
		resp, err = convert(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		call.Allowed = true
	default:
		req := rv.Request
		call.Operation, call.Resource = string(req.Operation), req.Resource.String()
		call.Namespace, call.Name = req.Namespace, req.Name
		out := &admissionv1.AdmissionResponse{UID: req.UID, Allowed: true}
		if msg, denied := s.denied(call.Webhooks); denied {
			out.Allowed = false
			out.Result = &metav1.Status{Status: metav1.StatusFailure, Message: msg, Reason: metav1.StatusReasonForbidden, Code: http.StatusForbidden}
		}
		call.Allowed = out.Allowed
		// The answer's apiVersion is the request's (v1 or v1beta1, whose
		// JSON is the same).
		resp = map[string]any{"apiVersion": rv.APIVersion, "kind": "AdmissionReview", "response": out}
	}
	s.mu.Lock()
	s.calls = append(s.calls, call)
	s.mu.Unlock()
	s.log.Debug("webhook answered", zap.Strings("webhooks", call.Webhooks), zap.String("service", call.Service),
		zap.String("path", call.Path), zap.String("review", call.Review), zap.String("operation", call.Operation),
		zap.String("resource", call.Resource), zap.String("namespace", call.Namespace), zap.String("name", call.Name),
		zap.Bool("allowed", call.Allowed))
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(resp); err != nil {
		s.log.Debug("write webhook answer", zap.Error(err))
	}
}

// convert answers a ConversionReview by giving each object the desired
// apiVersion and nothing else: right for versions whose schemas are the
// same, which is all a stand-in without the webhook's code can do.
func convert(body []byte) (any, error) {
	var cr conversionRequest
	if err := json.Unmarshal(body, &cr); err != nil || cr.Request == nil {
		return nil, fmt.Errorf("decode ConversionReview: %v", err)
	}
	objs := make([]map[string]any, 0, len(cr.Request.Objects))
	for i, raw := range cr.Request.Objects {
		var o map[string]any
		if err := json.Unmarshal(raw.Raw, &o); err != nil {
			return nil, fmt.Errorf("decode ConversionReview object %d: %w", i, err)
		}
		o["apiVersion"] = cr.Request.DesiredAPIVersion
		objs = append(objs, o)
	}
	return map[string]any{"apiVersion": cr.APIVersion, "kind": "ConversionReview", "response": map[string]any{
		"uid": cr.Request.UID, "convertedObjects": objs, "result": map[string]any{"status": metav1.StatusSuccess},
	}}, nil
}

// denied returns the message of the first of webhooks set to deny.
func (s *webhookServer) denied(webhooks []string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, w := range webhooks {
		if msg, ok := s.deny[w]; ok {
			return msg, true
		}
	}
	return "", false
}

// setResolver sets how calls are attributed to webhook names.
func (s *webhookServer) setResolver(fn func(service, path string) []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resolve = fn
}

// WebhookCalls returns the reviews the webhook stand-in has answered, in
// order; nil without [WithStandIns].
func (c *ControlPlane) WebhookCalls() []WebhookCall {
	if c.webhooks == nil {
		return nil
	}
	c.webhooks.mu.Lock()
	defer c.webhooks.mu.Unlock()
	return slices.Clone(c.webhooks.calls)
}

// WebhookCallCount returns how many of [ControlPlane.WebhookCalls] are
// attributed to the webhook named name.
func (c *ControlPlane) WebhookCallCount(name string) int {
	n := 0
	for _, call := range c.WebhookCalls() {
		if slices.Contains(call.Webhooks, name) {
			n++
		}
	}
	return n
}

// DenyWebhook makes the webhook stand-in refuse, from now on, the
// AdmissionReviews it attributes to the webhook named name, with message;
// an empty message allows them again. It is for tests of what a refusal
// does; the control plane is shared by a package's tests, so a test that
// denies a webhook of its own names it uniquely. It returns
// [ErrNoStandIns] without [WithStandIns].
func (c *ControlPlane) DenyWebhook(name, message string) error {
	if c.webhooks == nil {
		return ErrNoStandIns
	}
	c.webhooks.mu.Lock()
	defer c.webhooks.mu.Unlock()
	if message == "" {
		delete(c.webhooks.deny, name)
	} else {
		c.webhooks.deny[name] = message
	}
	return nil
}

// WebhookCA returns the PEM certificate of the CA that signs the webhook
// stand-in's serving certificates, which the stand-in injects as the
// caBundle of every webhook that calls a Service; nil without
// [WithStandIns].
func (c *ControlPlane) WebhookCA() []byte {
	if c.webhooks == nil {
		return nil
	}
	return slices.Clone(c.webhooks.caPEM)
}

// apiServerFlags are what kube-apiserver needs to reach the webhook
// stand-in.
type apiServerFlags struct {
	args, env []string
}

// startWebhookStandIn starts the webhook stand-in and the egress proxy in
// front of it, keeping both in cp for Stop, and returns kube-apiserver's
// flags for them: the egress selector configuration, and SSL_CERT_FILE
// naming the stand-in's CA, which kube-apiserver trusts (as well as the
// system's roots) for a webhook whose caBundle is still empty.
func startWebhookStandIn(cp *ControlPlane, log *zap.Logger) (apiServerFlags, error) {
	wh, err := startWebhookServer(log.Named("webhooks"))
	if err != nil {
		return apiServerFlags{}, err
	}
	cp.webhooks = wh
	if cp.egress, err = startEgressProxy(log.Named("egress"), filepath.Join(cp.dir, "egress.sock"), wh.addr()); err != nil {
		return apiServerFlags{}, err
	}
	cfg := filepath.Join(cp.dir, "egress-selector.yaml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, egressConfig, cp.egress.ln.Addr().String()), 0o600); err != nil {
		return apiServerFlags{}, fmt.Errorf("write egress selector configuration: %w", err)
	}
	caFile := filepath.Join(cp.dir, "webhook-ca.crt")
	if err := os.WriteFile(caFile, wh.caPEM, 0o600); err != nil {
		return apiServerFlags{}, fmt.Errorf("write webhook CA: %w", err)
	}
	return apiServerFlags{
		args: []string{"--egress-selector-config-file=" + cfg},
		env:  []string{"SSL_CERT_FILE=" + caFile},
	}, nil
}
