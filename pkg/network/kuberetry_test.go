package network_test

import (
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/network"
	"github.com/org/platform/pkg/spec"
)

// fastRetries makes the Kubernetes retries of a test take about budget.
func fastRetries(budget time.Duration) []network.Option {
	return []network.Option{
		network.WithKubernetesRetryTimeout(budget),
		network.WithRetryInterval(50 * time.Millisecond),
		network.WithMaxRetryInterval(200 * time.Millisecond),
	}
}

// infoLines returns the messages logged at Info level or above.
func infoLines(logs *observer.ObservedLogs) []string {
	var out []string
	for _, e := range logs.FilterLevelExact(zapcore.InfoLevel).All() {
		out = append(out, e.Message)
	}
	return out
}

// TestKubernetesAPIRefusingConnections points EnsureKubernetes at a port
// of 127.0.0.1 where nothing listens: it says at Info level that it is
// retrying, for how long, and gives up after the retry timeout with an
// error naming the endpoint — well before the caller's context ends.
func TestKubernetesAPIRefusingConnections(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	endpoint := "http://" + l.Addr().String()
	if err := l.Close(); err != nil { // now the port refuses connections
		t.Fatal(err)
	}
	api, err := kubernetes.NewForConfig(&rest.Config{Host: endpoint})
	if err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zapcore.DebugLevel)
	opts := append(fastRetries(time.Second), network.WithLogger(zap.New(core)))

	start := time.Now()
	_, err = network.EnsureKubernetes(t.Context(), api, mustDefault(t, spec.Production), opts...)
	elapsed := time.Since(start)

	if err == nil {
		t.Fatal("EnsureKubernetes succeeded against a port that refuses connections")
	}
	if t.Context().Err() != nil || elapsed > 20*time.Second {
		t.Errorf("gave up after %s; want about the 1s retry timeout", elapsed)
	}
	if msg := err.Error(); !strings.Contains(msg, "Kubernetes API "+endpoint+" not answering (connection refused) after retrying for 1s") {
		t.Errorf("error %q does not name the endpoint and the retry timeout", msg)
	}
	want := "Kubernetes API " + endpoint + " not answering (connection refused); retrying for up to 1s"
	if lines := infoLines(logs); len(lines) == 0 || lines[0] != want {
		t.Errorf("Info lines %q, want first %q", lines, want)
	}
}

// stallOnce is a listener whose first connection is accepted but never
// answered (its TLS handshake stalls) and closed after stall; the next
// ones are served.
type stallOnce struct {
	net.Listener
	stall   time.Duration
	stalled atomic.Bool
	wg      sync.WaitGroup
}

func (l *stallOnce) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil || l.stalled.Swap(true) {
			return c, err
		}
		l.wg.Go(func() {
			time.Sleep(l.stall)
			c.Close()
		})
	}
}

// fakeAPI answers what PlanKubernetes asks of a cluster with nothing in it:
// 404 to every GET of one object, an empty list to every list, and a
// dry-run apply with the object applied.
func fakeAPI(t *testing.T) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodGet && r.URL.Query().Has("labelSelector"):
			fmt.Fprint(w, `{"metadata":{},"items":[]}`)
		case r.Method == http.MethodGet:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","reason":"NotFound","code":404}`)
		case r.Method == http.MethodPatch && r.URL.Query().Get("dryRun") == "All":
			if _, err := io.Copy(w, r.Body); err != nil {
				t.Errorf("echo %s: %v", r.URL, err)
			}
		default:
			t.Errorf("unexpected request %s %s", r.Method, r.URL)
			w.WriteHeader(http.StatusMethodNotAllowed)
		}
	})
}

// TestKubernetesAPIStallingTLSHandshake serves the API from a listener
// that stalls the first TLS handshake for longer than the client's
// handshake timeout (shortened from client-go's 10 s through the
// rest.Config), then answers: the timeout is transient, the request is
// retried, and the plan is made.
func TestKubernetesAPIStallingTLSHandshake(t *testing.T) {
	t.Parallel()
	const handshakeTimeout = 300 * time.Millisecond
	srv := httptest.NewUnstartedServer(fakeAPI(t))
	l := &stallOnce{Listener: srv.Listener, stall: 4 * handshakeTimeout}
	srv.Listener = l
	srv.StartTLS()
	t.Cleanup(func() { srv.Close(); l.wg.Wait() })

	cfg := &rest.Config{Host: srv.URL}
	cfg.CAData = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	var shortened bool
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		inner := rt
		for {
			w, ok := inner.(utilnet.RoundTripperWrapper) // client-go's transport cache wraps it
			if !ok {
				break
			}
			inner = w.WrappedRoundTripper()
		}
		if tr, ok := inner.(*http.Transport); ok {
			tr.TLSHandshakeTimeout, shortened = handshakeTimeout, true
		}
		return rt
	})
	api, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !shortened {
		t.Fatal("could not shorten the TLS handshake timeout: the transport is not an *http.Transport")
	}
	core, logs := observer.New(zapcore.DebugLevel)
	opts := append(fastRetries(30*time.Second), network.WithLogger(zap.New(core)))

	env := mustDefault(t, spec.Production)
	plan, err := network.PlanKubernetes(t.Context(), api, env, opts...)
	if err != nil {
		t.Fatalf("PlanKubernetes: %v", err)
	}
	if !l.stalled.Load() {
		t.Fatal("no connection was stalled: the test proves nothing")
	}
	if n := plan.Result().Count(change.Create); n != productionObjects {
		t.Errorf("plan creates %d objects, want %d: %q", n, productionObjects, plan.Result().Lines())
	}
	lines := infoLines(logs)
	want := []string{
		"Kubernetes API " + srv.URL + " not answering (TLS handshake timeout); retrying for up to 30s",
		"Kubernetes API " + srv.URL + " answering again",
	}
	if len(lines) != 2 || lines[0] != want[0] || lines[1] != want[1] {
		t.Errorf("Info lines %q, want %q", lines, want)
		for _, e := range logs.All() {
			t.Log(e.Level, e.Message, e.ContextMap())
		}
	}
}

// TestKubernetesRetryOptionRefusesBadValues: a retry timeout must be
// positive, and a bad one fails before any request.
func TestKubernetesRetryOptionRefusesBadValues(t *testing.T) {
	t.Parallel()
	for _, d := range []time.Duration{0, -time.Second} {
		_, err := network.PlanKubernetesNew(mustDefault(t, spec.Production), network.WithKubernetesRetryTimeout(d))
		if err == nil || !strings.Contains(err.Error(), "WithKubernetesRetryTimeout") {
			t.Errorf("WithKubernetesRetryTimeout(%s): error %v, want one naming the option", d, err)
		}
	}
}
