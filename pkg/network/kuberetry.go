package network

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/url"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// DefaultKubernetesRetryTimeout is how long a Kubernetes request that
// fails transiently is retried before the call gives up.
const DefaultKubernetesRetryTimeout = 2 * time.Minute

// WithKubernetesRetryTimeout bounds how long EnsureKubernetes,
// PlanKubernetes, DeleteKubernetes and ApplyKubernetesStep retry a request
// to the Kubernetes API that failed transiently (a network timeout, a TLS
// handshake timeout included; a refused or reset connection; EOF; the
// API's 429, 5xx or timeout answers), counted from its first failure. The
// waits between attempts start at WithRetryInterval and double up to
// WithMaxRetryInterval; they pass in wall time, since client-go's wait
// package keeps them, whatever WithClock says. Default
// DefaultKubernetesRetryTimeout.
func WithKubernetesRetryTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("WithKubernetesRetryTimeout: must be > 0 (got %s)", d)
		}
		o.kubeRetryTimeout = d
		return nil
	}
}

// kubeRetry returns WithKubernetesRetryTimeout or its default.
func (o *options) kubeRetry() time.Duration {
	if o.kubeRetryTimeout <= 0 {
		return DefaultKubernetesRetryTimeout
	}
	return o.kubeRetryTimeout
}

// retry runs a Kubernetes read, a dry-run or an idempotent write (apply,
// delete). When it fails transiently, it says so at Info level and repeats
// it with backoff for up to the retry timeout; then it returns an error
// naming the endpoint, with the last failure. It stops when ctx ends.
//
// The backoff is client-go's wait.Backoff; its DelayFunc().Until, rather
// than retry.OnError, runs the attempts because OnError sleeps without
// watching ctx and stops for good once the backoff reaches its cap.
func (c *kubeClient) retry(ctx context.Context, what string, fn func(ctx context.Context) error) error {
	err := fn(ctx)
	if err == nil || ctx.Err() != nil {
		return err
	}
	if t, _ := kubeTransient(err); !t {
		return err
	}
	budget := c.o.kubeRetry()
	c.log.Info(fmt.Sprintf("Kubernetes API %s not answering (%s); retrying for up to %s", c.endpointOf(err), kubeReason(err), budget),
		zap.String("request", what), zap.Error(err))
	rctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	last := err
	spent := false // the budget ran out, as client-go's rate limiter saw before the deadline itself
	backoff := wait.Backoff{Duration: c.o.retryInterval, Factor: 2, Jitter: 0.1, Steps: math.MaxInt32, Cap: c.o.maxRetryInterval}
	werr := backoff.DelayFunc().Until(rctx, false, true, func(rctx context.Context) (bool, error) {
		err := fn(rctx)
		if err == nil {
			return true, nil
		}
		if rctx.Err() != nil {
			return false, rctx.Err() // the budget or the caller's context ended during the request
		}
		if errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "would exceed context deadline") {
			// client-go's rate limiter refuses a wait that would pass the
			// budget's deadline: the budget is spent, not the API answering.
			spent = true
			return false, err
		}
		if t, _ := kubeTransient(err); !t {
			return false, err
		}
		last = err
		c.log.Debug("Kubernetes API still not answering", zap.String("request", what), zap.Error(err))
		return false, nil
	})
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("%w (last error: %w)", ctx.Err(), last)
	case rctx.Err() != nil || spent:
		return fmt.Errorf("Kubernetes API %s not answering (%s) after retrying for %s: %w", c.endpointOf(last), kubeReason(last), budget, last)
	}
	// Success, or an answer that is not transient (404, 422…): either way
	// the API answers.
	c.log.Info(fmt.Sprintf("Kubernetes API %s answering again", c.endpointOf(last)), zap.String("request", what))
	return werr
}

// endpointOf names the API the client talks to, for messages: the
// client's base URL, else the URL the failed request went to.
func (c *kubeClient) endpointOf(err error) string {
	if c.endpoint != "" {
		return c.endpoint
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil && u.Host != "" {
			return u.Scheme + "://" + u.Host
		}
	}
	return "(endpoint unknown)"
}

// kubeEndpoint returns "https://host:port" of a clientset built from a
// rest.Config, or "" (a fake clientset).
func kubeEndpoint(api kubernetes.Interface) string {
	if api == nil {
		return ""
	}
	rc, ok := api.CoreV1().RESTClient().(*rest.RESTClient)
	if !ok || rc == nil {
		return ""
	}
	u := rc.Get().URL()
	if u == nil || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// kubeTransient reports whether a Kubernetes request that failed with err
// is worth repeating, and how long the server asked to wait: the API's own
// 429, 5xx and timeout answers, and requests that got no answer — network
// timeouts (dial, TLS handshake, response headers), refused or reset
// connections, EOF. Cancellation is never transient. It is the one
// classification of this package's Kubernetes side, the counterpart of
// poll.Transient on the Linode side.
func kubeTransient(err error) (bool, time.Duration) {
	if err == nil || errors.Is(err, context.Canceled) {
		return false, 0
	}
	var st apierrors.APIStatus
	if errors.As(err, &st) {
		code := st.Status().Code
		after, _ := apierrors.SuggestsClientDelay(err)
		switch {
		case apierrors.IsServerTimeout(err), apierrors.IsTimeout(err), apierrors.IsTooManyRequests(err),
			code == 500, code == 502, code == 503, code == 504:
			return true, time.Duration(after) * time.Second
		}
		return false, 0
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true, 0
	}
	if utilnet.IsConnectionRefused(err) || utilnet.IsConnectionReset(err) || utilnet.IsProbableEOF(err) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNABORTED) ||
		strings.Contains(err.Error(), "http2: client connection lost") {
		return true, 0
	}
	return false, 0
}

// kubeReason says in a few words why a request failed transiently.
func kubeReason(err error) string {
	var st apierrors.APIStatus
	if errors.As(err, &st) {
		s := st.Status()
		return fmt.Sprintf("%d %s", s.Code, s.Reason)
	}
	msg := err.Error()
	var ne net.Error
	switch {
	case utilnet.IsConnectionRefused(err):
		return "connection refused"
	case strings.Contains(msg, "TLS handshake timeout"):
		return "TLS handshake timeout"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case utilnet.IsConnectionReset(err):
		return "connection reset"
	case utilnet.IsProbableEOF(err), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "connection closed (EOF)"
	}
	return msg
}
