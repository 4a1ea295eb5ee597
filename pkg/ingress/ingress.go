package ingress

import (
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/org/platform/internal/helmrelease"
	"github.com/org/platform/pkg/spec"
)

// The charts of the baseline, pinned.
var (
	// NginxChart is ingress-nginx, retired upstream (see RetirementWarning).
	NginxChart = helmrelease.Chart{Name: "ingress-nginx", Version: "4.15.1", RepoURL: "https://kubernetes.github.io/ingress-nginx"}
	// CertManagerChart is cert-manager.
	CertManagerChart = helmrelease.Chart{Name: "cert-manager", Version: "v1.21.1", RepoURL: "https://charts.jetstack.io"}
)

// CertManagerNamespace is where cert-manager runs.
const CertManagerNamespace = "cert-manager"

// IssuerName is the ClusterIssuer's name.
const IssuerName = "letsencrypt"

// ACMEServer is Let's Encrypt's production directory.
const ACMEServer = "https://acme-v02.api.letsencrypt.org/directory"

// RetirementWarning is the warning every plan that installs ingress-nginx
// carries.
const RetirementWarning = "ingress-nginx was retired upstream in March 2026 (no releases or security fixes since); " +
	"plan a move to a maintained controller: the spec's ingress section names the controller, so one can be added without a spec change"

// ErrDisabled is returned for an environment whose ingress is off.
var ErrDisabled = errors.New("ingress is not enabled in the spec (ingress.enabled)")

// Releases returns the ingress baseline's releases for env (defaults
// applied): cert-manager first, then the controller.
func Releases(env spec.Environment) ([]helmrelease.Release, error) {
	env = env.WithDefaults()
	if !env.Ingress.Enabled {
		return nil, ErrDisabled
	}
	return []helmrelease.Release{
		{Name: "cert-manager", Namespace: CertManagerNamespace, Chart: CertManagerChart, Values: CertManagerValues(env)},
		{Name: "ingress-nginx", Namespace: env.Ingress.Namespace, Chart: NginxChart, Values: NginxValues(env)},
	}, nil
}

// Warnings returns what a plan of env's ingress must say: the retirement
// warning when it installs ingress-nginx.
func Warnings(env spec.Environment) []string {
	if !env.WithDefaults().Ingress.Enabled {
		return nil
	}
	return []string{RetirementWarning}
}

// NginxValues are ingress-nginx's values for env.
func NginxValues(env spec.Environment) map[string]any {
	env = env.WithDefaults()
	return map[string]any{
		"controller": map[string]any{
			"replicaCount": env.Ingress.Replicas,
			"ingressClass": env.Ingress.ClassName,
			"ingressClassResource": map[string]any{
				"name":    env.Ingress.ClassName,
				"default": true,
			},
			"service": map[string]any{
				"type":                  "LoadBalancer",
				"externalTrafficPolicy": "Local",
			},
			"metrics": map[string]any{"enabled": true},
			"podLabels": map[string]any{
				"platform.org/environment": env.Name,
			},
		},
	}
}

// CertManagerValues are cert-manager's values for env.
func CertManagerValues(env spec.Environment) map[string]any {
	env = env.WithDefaults()
	return map[string]any{
		"crds":         map[string]any{"enabled": true, "keep": true},
		"replicaCount": 1,
		"podLabels":    map[string]any{"platform.org/environment": env.Name},
		"prometheus":   map[string]any{"enabled": true},
	}
}

// ClusterIssuer returns env's ClusterIssuer, or nil when the spec names no
// ACME e-mail.
func ClusterIssuer(env spec.Environment) (*unstructured.Unstructured, error) {
	env = env.WithDefaults()
	if !env.Ingress.Enabled {
		return nil, ErrDisabled
	}
	if env.Ingress.ACMEEmail == "" {
		return nil, nil
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "cert-manager.io/v1",
		"kind":       "ClusterIssuer",
		"metadata": map[string]any{
			"name":   IssuerName,
			"labels": map[string]any{"app.kubernetes.io/managed-by": "platform", "platform.org/environment": env.Name},
		},
		"spec": map[string]any{
			"acme": map[string]any{
				"email":               env.Ingress.ACMEEmail,
				"server":              ACMEServer,
				"privateKeySecretRef": map[string]any{"name": IssuerName + "-account-key"},
				"solvers": []any{map[string]any{
					"http01": map[string]any{"ingress": map[string]any{"ingressClassName": env.Ingress.ClassName}},
				}},
			},
		},
	}}
	if u.GetName() == "" {
		return nil, fmt.Errorf("cluster issuer of %s: no name", env.Name)
	}
	return u, nil
}
