package controlplane

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
)

// serviceNet is serviceCIDR as a prefix: the ClusterIPs kube-apiserver
// dials for a webhook (or aggregated API) that names a Service.
var serviceNet = netip.MustParsePrefix(serviceCIDR)

// egressConfig is kube-apiserver's --egress-selector-config-file: traffic
// to the cluster goes through an HTTP CONNECT proxy on a Unix socket. (The
// tcp transport with an http:// URL passes validation but makes
// kube-apiserver v1.37 dereference the absent TLS config at start.)
const egressConfig = `apiVersion: apiserver.k8s.io/v1beta1
kind: EgressSelectorConfiguration
egressSelections:
- name: cluster
  connection:
    proxyProtocol: HTTPConnect
    transport:
      uds:
        udsName: %s
`

// egressProxy is what konnectivity is on LKE, for a control plane with no
// network to the cluster: an HTTP CONNECT proxy for kube-apiserver's
// "cluster" egress. A tunnel to a Service — a ClusterIP in serviceCIDR or a
// name under .svc — goes to the webhook stand-in; any other (a pod's
// address, for the service and pod proxy; a node's, for the kubelet) is
// dialled directly, where kube-apiserver would dial it without the proxy.
type egressProxy struct {
	log     *zap.Logger
	webhook string // the webhook stand-in's host:port
	ln      net.Listener
	srv     *http.Server
	served  chan struct{}
	conns   sync.WaitGroup
	closing chan struct{}
}

// startEgressProxy listens on the Unix socket path and serves until close.
func startEgressProxy(log *zap.Logger, path, webhook string) (*egressProxy, error) {
	_ = os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen for the egress proxy: %w", err)
	}
	p := &egressProxy{log: log, webhook: webhook, ln: ln, served: make(chan struct{}), closing: make(chan struct{})}
	p.srv = &http.Server{
		Handler:           p,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          zap.NewStdLog(log.WithOptions(zap.IncreaseLevel(zap.WarnLevel))),
	}
	go func() {
		defer close(p.served)
		_ = p.srv.Serve(ln)
	}()
	return p, nil
}

// close stops accepting, ends the open tunnels and waits for them.
func (p *egressProxy) close() {
	close(p.closing)
	_ = p.srv.Close()
	<-p.served
	p.conns.Wait()
}

// route returns where a tunnel to target (host:port) goes.
func (p *egressProxy) route(target string) string {
	host, _, err := net.SplitHostPort(target)
	if err != nil {
		return target
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if serviceNet.Contains(ip) {
			return p.webhook
		}
		return target
	}
	if h := strings.ToLower(strings.TrimSuffix(host, ".")); strings.HasSuffix(h, ".svc") || strings.HasSuffix(h, ".svc.cluster.local") {
		return p.webhook
	}
	return target
}

func (p *egressProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect {
		http.Error(w, "the egress proxy answers CONNECT only", http.StatusMethodNotAllowed)
		return
	}
	// kube-apiserver sends "CONNECT <target>" with Host: 127.0.0.1, so the
	// target is the request URI's, not r.Host.
	target := r.URL.Host
	if target == "" {
		target = r.RequestURI
	}
	to := p.route(target)
	d := net.Dialer{Timeout: 10 * time.Second}
	up, err := d.DialContext(r.Context(), "tcp", to)
	if err != nil {
		p.log.Debug("egress tunnel refused", zap.String("target", target), zap.String("to", to), zap.Error(err))
		http.Error(w, fmt.Sprintf("dial %s: %v", target, err), http.StatusBadGateway)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		_ = up.Close()
		http.Error(w, "connection cannot be hijacked", http.StatusInternalServerError)
		return
	}
	down, buf, err := hj.Hijack()
	if err != nil {
		_ = up.Close()
		return
	}
	if _, err := down.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n")); err != nil {
		_ = up.Close()
		_ = down.Close()
		return
	}
	p.log.Debug("egress tunnel", zap.String("target", target), zap.String("to", to))
	p.conns.Add(1)
	go func() {
		defer p.conns.Done()
		p.splice(down, buf, up)
	}()
}

// splice copies both ways until both sides have ended or the proxy
// closes. buf holds what the client sent after its request, if anything,
// and reads through to down.
func (p *egressProxy) splice(down net.Conn, buf io.Reader, up net.Conn) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		_, _ = io.Copy(up, buf)
		closeWrite(up)
	}()
	go func() {
		defer wg.Done()
		_, _ = io.Copy(down, up)
		closeWrite(down)
	}()
	ended := make(chan struct{})
	go func() {
		select {
		case <-p.closing:
		case <-ended:
		}
		_ = up.Close()
		_ = down.Close()
	}()
	wg.Wait()
	close(ended)
}

// closeWrite half-closes c when it can, so its peer sees the end of what
// was copied while the other way goes on.
func closeWrite(c net.Conn) {
	if hc, ok := c.(interface{ CloseWrite() error }); ok {
		_ = hc.CloseWrite()
	}
}
