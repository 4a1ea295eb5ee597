package controlplane

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"

	"go.uber.org/zap"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	admissionregistrationv1ac "k8s.io/client-go/applyconfigurations/admissionregistration/v1"
	"k8s.io/client-go/kubernetes"
	admissionlisters "k8s.io/client-go/listers/admissionregistration/v1"
	"k8s.io/utils/ptr"
)

// InjectorFieldManager is the field manager with which the webhook
// stand-in's CA injector server-side applies the caBundle of each webhook
// that calls a Service, and owns nothing else.
const InjectorFieldManager = "controlplane-cainjector"

// Queue keys of the injector: the kind's prefix and the configuration's
// name.
const (
	validatingKey = "validating/"
	mutatingKey   = "mutating/"
)

// caInjector sets clientConfig.caBundle of every webhook whose clientConfig
// names a Service to the webhook stand-in's CA, as cert-manager's
// cainjector or a chart's certgen Job does on LKE. It applies only the
// caBundles, with its own field manager, so that the chart's owner (Helm)
// keeps every other field and a server-side dry-run of the chart's
// manifest, which has no caBundle, leaves them be.
type caInjector struct {
	cs         kubernetes.Interface
	log        *zap.Logger
	ca         []byte
	validating admissionlisters.ValidatingWebhookConfigurationLister
	mutating   admissionlisters.MutatingWebhookConfigurationLister
}

func (c *caInjector) sync(ctx context.Context, key string) error {
	switch {
	case strings.HasPrefix(key, validatingKey):
		name := strings.TrimPrefix(key, validatingKey)
		cfg, err := c.validating.Get(name)
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		ac := admissionregistrationv1ac.ValidatingWebhookConfiguration(name)
		stale := false
		for _, w := range cfg.Webhooks {
			if w.ClientConfig.Service == nil {
				continue
			}
			stale = stale || !bytes.Equal(w.ClientConfig.CABundle, c.ca)
			ac.WithWebhooks(admissionregistrationv1ac.ValidatingWebhook().WithName(w.Name).
				WithClientConfig(admissionregistrationv1ac.WebhookClientConfig().WithCABundle(c.ca...)))
		}
		if !stale {
			return nil
		}
		if _, err := c.cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().Apply(ctx, ac,
			metav1.ApplyOptions{FieldManager: InjectorFieldManager, Force: true}); err != nil {
			return fmt.Errorf("inject the CA into ValidatingWebhookConfiguration %s: %w", name, err)
		}
		c.log.Debug("CA injected", zap.String("validatingWebhookConfiguration", name), zap.Int("webhooks", len(ac.Webhooks)))
	case strings.HasPrefix(key, mutatingKey):
		name := strings.TrimPrefix(key, mutatingKey)
		cfg, err := c.mutating.Get(name)
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		ac := admissionregistrationv1ac.MutatingWebhookConfiguration(name)
		stale := false
		for _, w := range cfg.Webhooks {
			if w.ClientConfig.Service == nil {
				continue
			}
			stale = stale || !bytes.Equal(w.ClientConfig.CABundle, c.ca)
			ac.WithWebhooks(admissionregistrationv1ac.MutatingWebhook().WithName(w.Name).
				WithClientConfig(admissionregistrationv1ac.WebhookClientConfig().WithCABundle(c.ca...)))
		}
		if !stale {
			return nil
		}
		if _, err := c.cs.AdmissionregistrationV1().MutatingWebhookConfigurations().Apply(ctx, ac,
			metav1.ApplyOptions{FieldManager: InjectorFieldManager, Force: true}); err != nil {
			return fmt.Errorf("inject the CA into MutatingWebhookConfiguration %s: %w", name, err)
		}
		c.log.Debug("CA injected", zap.String("mutatingWebhookConfiguration", name), zap.Int("webhooks", len(ac.Webhooks)))
	}
	return nil
}

// webhooksAt returns the names of the webhooks whose clientConfig is the
// Service svc ("<namespace>/<name>") at path, sorted.
func (c *caInjector) webhooksAt(svc, path string) []string {
	var out []string
	match := func(cc admissionregistrationv1.WebhookClientConfig) bool {
		s := cc.Service
		if s == nil || s.Namespace+"/"+s.Name != svc {
			return false
		}
		p := ptr.Deref(s.Path, "/")
		return p == path || (p == "" && path == "/")
	}
	if vs, err := c.validating.List(labels.Everything()); err == nil {
		for _, cfg := range vs {
			for _, w := range cfg.Webhooks {
				if match(w.ClientConfig) {
					out = append(out, w.Name)
				}
			}
		}
	}
	if ms, err := c.mutating.List(labels.Everything()); err == nil {
		for _, cfg := range ms {
			for _, w := range cfg.Webhooks {
				if match(w.ClientConfig) {
					out = append(out, w.Name)
				}
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
