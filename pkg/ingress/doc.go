// Package ingress builds an environment's ingress baseline: the ingress
// controller and cert-manager as Helm releases, and cert-manager's
// ClusterIssuer, from the spec's ingress section. It renders data only;
// pkg/rollout plans and applies it as steps of the environment's plan
// (layer helm), through internal/helmrelease and internal/kubeobjects.
//
// # Controller
//
// The spec's ingress section names the controller (spec.Ingress): today
// ingress-nginx, as the seed asks. Upstream retired ingress-nginx in March
// 2026 — best-effort maintenance ended, with no further releases or
// security fixes — so every plan that installs it carries Warning
// (RetirementWarning). A maintained controller can be added here as
// another value of the section without a spec change.
//
// The controller runs Replicas pods (default 2, production 3) behind a
// LoadBalancer Service, which LKE's cloud controller turns into a
// NodeBalancer; externalTrafficPolicy Local keeps client addresses. Its
// IngressClass is spec.Ingress.ClassName (default "nginx") and is the
// cluster's default class. Metrics are on, for Prometheus to scrape.
//
// # Certificates
//
// cert-manager (chart v1.21.1, its CRDs installed and kept by the chart)
// runs in namespace CertManagerNamespace. When spec.Ingress.ACMEEmail is
// set, ClusterIssuer returns the ClusterIssuer IssuerName: Let's Encrypt's
// production ACME server, HTTP-01 solved through the environment's
// ingress class, its account key in the Secret IssuerName+"-account-key".
//
// Values are plain maps that marshal to the same bytes on every call:
// nothing random, no timestamps. Functions here send no request and are
// safe for concurrent use.
package ingress
