package network

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"syscall"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// timeoutErr is a network error that timed out, as net/http returns for a
// TLS handshake timeout.
type timeoutErr struct{}

func (timeoutErr) Error() string   { return "net/http: TLS handshake timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

var _ net.Error = timeoutErr{}

// TestKubeTransient is the one classification of Kubernetes errors: what
// never got an answer and the API's 429, 5xx and timeouts are retried;
// the API's other answers and cancellation are not.
func TestKubeTransient(t *testing.T) {
	t.Parallel()
	gr := schema.GroupResource{Resource: "namespaces"}
	urlErr := func(err error) error {
		return &url.Error{Op: "Get", URL: "https://10.0.0.1:6443/api/v1/namespaces", Err: err}
	}
	refused := urlErr(&net.OpError{Op: "dial", Net: "tcp", Err: &net.OpError{Op: "connect", Err: syscall.ECONNREFUSED}})
	tests := []struct {
		name      string
		err       error
		transient bool
		after     time.Duration
		reason    string
	}{
		{"connection refused", refused, true, 0, "connection refused"},
		{"TLS handshake timeout", urlErr(timeoutErr{}), true, 0, "TLS handshake timeout"},
		{"connection reset", urlErr(syscall.ECONNRESET), true, 0, "connection reset"},
		{"EOF", urlErr(io.EOF), true, 0, "connection closed (EOF)"},
		{"unexpected EOF", fmt.Errorf("read body: %w", io.ErrUnexpectedEOF), true, 0, "connection closed (EOF)"},
		{"429 with Retry-After", apierrors.NewTooManyRequests("slow down", 3), true, 3 * time.Second, "429 TooManyRequests"},
		{"503", apierrors.NewServiceUnavailable("etcd"), true, 0, "503 ServiceUnavailable"},
		{"500", apierrors.NewInternalError(errors.New("boom")), true, 0, "500 InternalError"},
		{"server timeout", apierrors.NewServerTimeout(gr, "get", 2), true, 2 * time.Second, "500 ServerTimeout"},
		{"504 timeout", apierrors.NewTimeoutError("slow", 0), true, 0, "504 Timeout"},
		{"404", apierrors.NewNotFound(gr, "apps"), false, 0, ""},
		{"409", apierrors.NewConflict(gr, "apps", errors.New("uid")), false, 0, ""},
		{"422", apierrors.NewInvalid(schema.GroupKind{Kind: "Namespace"}, "apps", nil), false, 0, ""},
		{"canceled", urlErr(context.Canceled), false, 0, ""},
		{"plain", errors.New("x"), false, 0, ""},
		{"nil", nil, false, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, after := kubeTransient(tt.err)
			if got != tt.transient || after != tt.after {
				t.Errorf("kubeTransient(%v) = %t, %s; want %t, %s", tt.err, got, after, tt.transient, tt.after)
			}
			if tt.transient {
				if r := kubeReason(tt.err); r != tt.reason {
					t.Errorf("kubeReason(%v) = %q, want %q", tt.err, r, tt.reason)
				}
			}
		})
	}
}
