package helmrelease

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Getter is the Kubernetes side of Helm built from memory: a
// genericclioptions.RESTClientGetter over one rest.Config, with no file on
// disk and no $KUBECONFIG read. Its discovery is cached in memory and its
// REST mapper is resettable, so Helm sees the CRDs it installs. Reuse one
// Getter per cluster: Plan and ApplyStep then share its discovery cache.
// It is safe for concurrent use.
type Getter struct {
	config *rest.Config
	raw    clientcmd.ClientConfig
	disc   discovery.CachedDiscoveryInterface
	mapper *restmapper.DeferredDiscoveryRESTMapper
}

var _ genericclioptions.RESTClientGetter = (*Getter)(nil)

// NewGetter returns a Getter for the cluster and credentials of the
// current context of kubeconfig (the bytes of a kubeconfig file).
func NewGetter(kubeconfig []byte) (*Getter, error) {
	cfg, err := clientcmd.Load(kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("read kubeconfig: %w", err)
	}
	raw := clientcmd.NewDefaultClientConfig(*cfg, &clientcmd.ConfigOverrides{})
	rc, err := raw.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("read kubeconfig: %w", err)
	}
	return newGetter(rc, raw)
}

// GetterFor returns a Getter for config (copied). A WrapTransport set on
// it sees every request Helm and this package send.
func GetterFor(config *rest.Config) (*Getter, error) {
	if config == nil {
		return nil, fmt.Errorf("Kubernetes client for Helm: nil rest.Config")
	}
	// Helm's kube client asks the loader for a namespace only; the release
	// namespace is set on the client itself.
	raw := clientcmd.NewDefaultClientConfig(clientcmdapi.Config{}, &clientcmd.ConfigOverrides{})
	return newGetter(rest.CopyConfig(config), raw)
}

func newGetter(rc *rest.Config, raw clientcmd.ClientConfig) (*Getter, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("Kubernetes discovery client for %s: %w", rc.Host, err)
	}
	cached := memory.NewMemCacheClient(dc)
	return &Getter{config: rc, raw: raw, disc: cached, mapper: restmapper.NewDeferredDiscoveryRESTMapper(cached)}, nil
}

// ToRESTConfig returns a copy of the client configuration.
func (g *Getter) ToRESTConfig() (*rest.Config, error) { return rest.CopyConfig(g.config), nil }

// ToDiscoveryClient returns the memory-cached discovery client.
func (g *Getter) ToDiscoveryClient() (discovery.CachedDiscoveryInterface, error) { return g.disc, nil }

// ToRESTMapper returns the resettable REST mapper over the cached
// discovery.
func (g *Getter) ToRESTMapper() (meta.RESTMapper, error) { return g.mapper, nil }

// ToRawKubeConfigLoader returns the kubeconfig read from memory.
func (g *Getter) ToRawKubeConfigLoader() clientcmd.ClientConfig { return g.raw }
