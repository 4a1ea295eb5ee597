package controlplane

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	admissionregistrationv1ac "k8s.io/client-go/applyconfigurations/admissionregistration/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/org/platform/internal/poll"
)

func TestEgressRoute(t *testing.T) {
	t.Parallel()
	p := &egressProxy{webhook: "127.0.0.1:9443"}
	for _, tt := range []struct{ target, want string }{
		{"10.96.12.34:443", "127.0.0.1:9443"},    // a Service's ClusterIP: a webhook or an aggregated API
		{"10.96.0.1:8443", "127.0.0.1:9443"},     // any port
		{"webhook.ns.svc:443", "127.0.0.1:9443"}, // a Service by name
		{"webhook.ns.svc.cluster.local:443", "127.0.0.1:9443"},
		{"10.244.0.7:8080", "10.244.0.7:8080"}, // a pod, for the service or pod proxy: as without the proxy
		{"127.0.0.1:10250", "127.0.0.1:10250"}, // a node's kubelet
		{"example.com:443", "example.com:443"},
	} {
		if got := p.route(tt.target); got != tt.want {
			t.Errorf("route(%q) = %q, want %q", tt.target, got, tt.want)
		}
	}
}

func TestServiceOf(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"cert-manager-webhook.cert-manager.svc":                        "cert-manager/cert-manager-webhook",
		"ingress-nginx-controller-admission.ingress.svc.cluster.local": "ingress/ingress-nginx-controller-admission",
		"127.0.0.1": "127.0.0.1",
		"":          "",
	} {
		if got := serviceOf(in); got != want {
			t.Errorf("serviceOf(%q) = %q, want %q", in, got, want)
		}
	}
}

// tunnel opens, through the egress proxy's socket, a tunnel to target
// as kube-apiserver does, and speaks TLS over it for serverName, trusting
// only ca.
func tunnel(t *testing.T, sock, target, serverName string, ca []byte) *http.Client {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		t.Fatal("no CA certificate")
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: serverName, MinVersion: tls.VersionTLS12},
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			c, err := d.DialContext(ctx, "unix", sock)
			if err != nil {
				return nil, err
			}
			fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", target)
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				c.Close()
				return nil, err
			}
			if resp.StatusCode != http.StatusOK {
				c.Close()
				return nil, fmt.Errorf("CONNECT %s: %s", target, resp.Status)
			}
			return c, nil
		},
	}}
}

// TestWebhookStandInThroughTheProxy follows a call as kube-apiserver makes
// it: CONNECT to a ClusterIP through the proxy, TLS verified for the name
// <service>.<namespace>.svc against the stand-in's CA, an AdmissionReview
// answered allowed without a patch (mutating) or refused (denied), a
// ConversionReview answered with the desired version.
func TestWebhookStandInThroughTheProxy(t *testing.T) {
	t.Parallel()
	log := zaptest.NewLogger(t, zaptest.Level(zap.InfoLevel))
	wh, err := startWebhookServer(log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(wh.close)
	sock := filepath.Join(t.TempDir(), "egress.sock")
	p, err := startEgressProxy(log, sock, wh.addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.close)
	wh.setResolver(func(svc, path string) []string {
		if svc == "team/guard" && path == "/validate" {
			return []string{"guard.example.com"}
		}
		return nil
	})
	cp := &ControlPlane{webhooks: wh}
	client := tunnel(t, sock, "10.96.40.2:443", "guard.team.svc", wh.caPEM)

	post := func(path string, body any) map[string]any {
		t.Helper()
		b, _ := json.Marshal(body)
		resp, err := client.Post("https://10.96.40.2:443"+path, "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("POST %s: %s, %v", path, resp.Status, err)
		}
		return out
	}
	review := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{UID: "u-1", Operation: admissionv1.Create, Namespace: "team", Name: "cm",
			Resource: metav1.GroupVersionResource{Version: "v1", Resource: "configmaps"}},
	}
	out := post("/validate", review)
	resp := out["response"].(map[string]any)
	if out["apiVersion"] != "admission.k8s.io/v1" || resp["uid"] != "u-1" || resp["allowed"] != true || resp["patch"] != nil {
		t.Errorf("answer %v; want allowed, uid u-1, no patch", out)
	}
	if err := cp.DenyWebhook("guard.example.com", "refused by the test"); err != nil {
		t.Fatal(err)
	}
	resp = post("/validate", review)["response"].(map[string]any)
	if resp["allowed"] != false || !strings.Contains(fmt.Sprint(resp["status"]), "refused by the test") {
		t.Errorf("answer while denied %v; want refused with the message", resp)
	}
	// Another webhook's path is not denied.
	if resp := post("/mutate", review)["response"].(map[string]any); resp["allowed"] != true || resp["patch"] != nil {
		t.Errorf("mutating answer %v; want allowed without a patch", resp)
	}
	conv := post("/convert", map[string]any{"apiVersion": "apiextensions.k8s.io/v1", "kind": "ConversionReview", "request": map[string]any{
		"uid": "c-1", "desiredAPIVersion": "example.com/v2", "objects": []any{map[string]any{"apiVersion": "example.com/v1", "kind": "Thing", "spec": map[string]any{"a": 1}}},
	}})["response"].(map[string]any)
	objs := conv["convertedObjects"].([]any)
	if conv["uid"] != "c-1" || len(objs) != 1 || objs[0].(map[string]any)["apiVersion"] != "example.com/v2" {
		t.Errorf("conversion answer %v; want the object at example.com/v2", conv)
	}

	calls := cp.WebhookCalls()
	if len(calls) != 4 {
		t.Fatalf("calls = %+v; want 4", calls)
	}
	if c := calls[0]; c.Service != "team/guard" || c.Operation != "CREATE" || c.Resource != "/v1, Resource=configmaps" || c.Name != "cm" || !c.Allowed {
		t.Errorf("first call %+v", c)
	}
	if got := cp.WebhookCallCount("guard.example.com"); got != 2 {
		t.Errorf("calls to guard.example.com = %d, want 2", got)
	}

	// A tunnel to a name that is no Service's is not the stand-in's.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			_, _ = c.Write([]byte("direct"))
			c.Close()
		}
	}()
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", ln.Addr())
	br := bufio.NewReader(c)
	if r, err := http.ReadResponse(br, nil); err != nil || r.StatusCode != http.StatusOK {
		t.Fatalf("CONNECT direct: %v %v", r, err)
	}
	if b, _ := br.ReadString('\n'); b != "direct" {
		t.Errorf("direct tunnel read %q, want the target's own bytes", b)
	}
}

// TestWebhooksAnswerOnTheAPIServer registers, as a chart does, webhooks
// that call a Service and carry no caBundle, and checks that
// kube-apiserver reaches the stand-in for them: the CA is injected by a
// manager of its own, which a chart's dry-run leaves alone; a matching
// object is admitted after the webhooks saw it; a denied webhook refuses
// it; an object the selector excludes calls nothing; /readyz is unaffected.
func TestWebhooksAnswerOnTheAPIServer(t *testing.T) {
	cp := RequireNew(t, WithLogger(zaptest.NewLogger(t, zaptest.Level(zap.InfoLevel))), WithStandIns())
	cs := clientset(t, cp.RESTConfig())
	ctx := t.Context()
	const ns = "guarded"
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Services(ns).Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "guard"},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "guard"},
			Ports: []corev1.ServicePort{{Port: 443, TargetPort: intstr.FromInt32(9443)}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	selector := &metav1.LabelSelector{MatchLabels: map[string]string{"guarded": "yes"}}
	rules := []admissionregistrationv1.RuleWithOperations{{
		Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
		Rule:       admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"configmaps"}},
	}}
	svc := func(path string) admissionregistrationv1.WebhookClientConfig {
		return admissionregistrationv1.WebhookClientConfig{Service: &admissionregistrationv1.ServiceReference{Namespace: ns, Name: "guard", Path: ptr.To(path)}}
	}
	const validating, mutating = "validate.guard.example.com", "mutate.guard.example.com"
	if _, err := cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(ctx, &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "guard"},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{Name: validating, ClientConfig: svc("/validate"), Rules: rules,
			ObjectSelector: selector, FailurePolicy: ptr.To(admissionregistrationv1.Fail),
			SideEffects: ptr.To(admissionregistrationv1.SideEffectClassNone), AdmissionReviewVersions: []string{"v1"}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.AdmissionregistrationV1().MutatingWebhookConfigurations().Create(ctx, &admissionregistrationv1.MutatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "guard"},
		Webhooks: []admissionregistrationv1.MutatingWebhook{{Name: mutating, ClientConfig: svc("/mutate"), Rules: rules,
			ObjectSelector: selector, FailurePolicy: ptr.To(admissionregistrationv1.Fail),
			SideEffects: ptr.To(admissionregistrationv1.SideEffectClassNone), AdmissionReviewVersions: []string{"v1"}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	// The CA is injected, by its own manager, into caBundle only.
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err := poll.Until(wctx, poll.Policy{Interval: 50 * time.Millisecond, Multiplier: 1}, func(ctx context.Context) (bool, error) {
		v, err := cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().Get(ctx, "guard", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		m, err := cs.AdmissionregistrationV1().MutatingWebhookConfigurations().Get(ctx, "guard", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return bytes.Equal(v.Webhooks[0].ClientConfig.CABundle, cp.WebhookCA()) && bytes.Equal(m.Webhooks[0].ClientConfig.CABundle, cp.WebhookCA()), nil
	})
	if err != nil {
		t.Fatalf("wait for the CA to be injected: %v", err)
	}
	v, err := cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().Get(ctx, "guard", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range v.ManagedFields {
		if mf.Manager != InjectorFieldManager {
			continue
		}
		owned := string(mf.FieldsV1.Raw)
		if !strings.Contains(owned, `"f:caBundle"`) || strings.Contains(owned, `"f:rules"`) || strings.Contains(owned, `"f:failurePolicy"`) {
			t.Errorf("%s owns %s; want caBundle only", InjectorFieldManager, owned)
		}
	}
	// A chart's own apply (its manifest has no caBundle), as Helm's plan
	// dry-runs it, keeps the injected CA: no drift.
	chart := admissionregistrationv1ac.ValidatingWebhookConfiguration("guard").WithWebhooks(
		admissionregistrationv1ac.ValidatingWebhook().WithName(validating).
			WithClientConfig(admissionregistrationv1ac.WebhookClientConfig().WithService(
				admissionregistrationv1ac.ServiceReference().WithNamespace(ns).WithName("guard").WithPath("/validate"))).
			WithRules(admissionregistrationv1ac.RuleWithOperations().WithOperations(admissionregistrationv1.Create, admissionregistrationv1.Update).
				WithAPIGroups("").WithAPIVersions("v1").WithResources("configmaps")).
			WithObjectSelector(&metav1ac.LabelSelectorApplyConfiguration{MatchLabels: map[string]string{"guarded": "yes"}}).
			WithFailurePolicy(admissionregistrationv1.Fail).WithSideEffects(admissionregistrationv1.SideEffectClassNone).
			WithAdmissionReviewVersions("v1"))
	dry, err := cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().Apply(ctx, chart,
		metav1.ApplyOptions{FieldManager: "helm", Force: true, DryRun: []string{metav1.DryRunAll}})
	if err != nil {
		t.Fatalf("dry-run the chart's apply: %v", err)
	}
	if !bytes.Equal(dry.Webhooks[0].ClientConfig.CABundle, cp.WebhookCA()) {
		t.Errorf("the chart's dry-run drops the injected caBundle")
	}

	cm := func(name string, guarded bool) *corev1.ConfigMap {
		c := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}, Data: map[string]string{"k": "v"}}
		if guarded {
			c.Labels = map[string]string{"guarded": "yes"}
		}
		return c
	}
	if _, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, cm("admitted", true), metav1.CreateOptions{}); err != nil {
		t.Fatalf("create a guarded ConfigMap: %v", err)
	}
	if n, m := cp.WebhookCallCount(validating), cp.WebhookCallCount(mutating); n != 1 || m != 1 {
		t.Errorf("calls: %d to %s and %d to %s; want 1 each (%+v)", n, validating, m, mutating, cp.WebhookCalls())
	}
	for _, c := range cp.WebhookCalls() {
		if c.Service != ns+"/guard" || c.Operation != "CREATE" || c.Namespace != ns || c.Name != "admitted" || !c.Allowed {
			t.Errorf("call %+v; want CREATE of %s/admitted at %s/guard, allowed", c, ns, ns)
		}
	}
	before := len(cp.WebhookCalls())
	if _, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, cm("unguarded", false), metav1.CreateOptions{}); err != nil {
		t.Fatalf("create an unguarded ConfigMap: %v", err)
	}
	if after := len(cp.WebhookCalls()); after != before {
		t.Errorf("an object the selector excludes made %d calls", after-before)
	}

	if err := cp.DenyWebhook(validating, "guard says no"); err != nil {
		t.Fatal(err)
	}
	_, err = cs.CoreV1().ConfigMaps(ns).Create(ctx, cm("refused", true), metav1.CreateOptions{})
	if err == nil || !strings.Contains(err.Error(), "guard says no") {
		t.Errorf("create while the webhook denies: %v; want refused with its message", err)
	}
	if err := cp.DenyWebhook(validating, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, cm("refused", true), metav1.CreateOptions{}); err != nil {
		t.Errorf("create once allowed again: %v", err)
	}

	// kube-apiserver's own endpoints do not go through the egress proxy.
	for _, path := range []string{"/readyz", "/livez", "/version"} {
		if _, err := cs.Discovery().RESTClient().Get().AbsPath(path).DoRaw(ctx); err != nil {
			t.Errorf("GET %s: %v", path, err)
		}
	}
}
