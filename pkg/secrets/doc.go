// Package secrets delivers an environment's secrets as Sealed Secrets
// (bitnami-labs/sealed-secrets v0.36): it seals values with the
// controller's public key, keeps SealedSecrets in step with a Source of
// values without re-sealing what did not change, fetches the controller's
// certificate, and backs its private keys up.
//
// All cryptography is sealed-secrets' own: Seal goes through
// v1alpha1.NewSealedSecret (crypto.HybridEncrypt, RSA-OAEP + AES-GCM, with
// the scope's label), so the controller's SealedSecret.Unseal opens what
// this package seals; CertFingerprint is crypto.PublicKeyFingerprint.
//
// # Sealing
//
// Seal(cert, secret, scope) is `kubeseal --scope`: Strict (the default)
// binds a value to its namespace and name, NamespaceWide to its namespace,
// ClusterWide to nothing; the scope is carried as kubeseal's annotations.
// FetchCert gets the certificate the way kubeseal does, through the API
// server's service proxy
// (/api/v1/namespaces/kube-system/services/http:sealed-secrets-controller:http/proxy/v1/cert.pem
// by default), and ReadCertFile or ParseCert from PEM; each checks that the
// certificate holds an RSA key and has not expired (ErrUnusableCert).
//
// # Sync: plans as data, and no re-sealing
//
// Sync(ctx, clients, source, env, want) makes the cluster hold each Secret
// of want as a SealedSecret, applied by server-side apply as field manager
// "platform" (EnsureSealedSecret). It is PlanSync then ApplyStep for each
// step through internal/reconcile's loop, like every Ensure of this
// module; a plan is data (change.Plan) that can be saved as JSON, reviewed
// and applied later.
//
// Sealing is randomised, so "is it current?" cannot be answered by sealing
// again and comparing. Instead each value's keyed fingerprint,
// HMAC-SHA256 over the Secret's namespace, name, data key and the value
// (Fingerprint), is stored in the SealedSecret's annotation
// AnnotationFingerprints. The HMAC key is 32 random bytes in the Secret
// <controller namespace>/platform-secrets-fingerprint-key, made once by the
// first Sync (a step of its own: a plan made before it exists holds only
// that step). A value is sealed anew only when its fingerprint changes;
// other ciphertexts are carried over byte for byte, so a second Sync with
// unchanged values writes nothing and a changed value re-seals exactly its
// key.
//
// Before the cluster runs its controller (a cluster still to be created)
// neither a certificate nor the fingerprint key exists, so nothing can be
// sealed or fingerprinted when planning: PlanSyncNew returns, without a
// request, the fingerprint key's creation and a sealedsecret.seal step per
// Secret (StepSealedSecretSeal), which carries the Secret's references
// only. ApplyStep seals such a step when it runs (WithSource for the
// values, WithCert or FetchCert for the certificate) exactly as PlanSync
// then a sealedsecret.apply step would, writing nothing when the
// SealedSecret is already current.
//
// Guarantees about plaintext: values read from a Source live in memory
// only, for the duration of a plan; nothing of this package writes them to
// disk or to a log. Plans, results and logs carry references, keyed
// fingerprints (Change.Sensitive, printed "(sensitive)") and ciphertexts,
// never a value; errors name the reference, never the value. Sources: Env
// (environment variables), Files (a directory, confined by os.Root), any
// other store through the Source interface, routed by scheme with Sources.
//
// # Key rotation
//
// The controller makes a new key every 30 days by default and seals with
// the newest active one (the certificate whose NotBefore is latest, the one
// /v1/cert.pem serves); older keys stay to unseal older SealedSecrets. A
// sealed value does not say which key sealed it — HybridEncrypt's output
// is the RSA-wrapped session key and the AES-GCM ciphertext, with no key
// id, and the controller itself tries every key — so Sync records the
// fingerprint of the certificate it sealed with in AnnotationSealedWith.
// When the current certificate (WithCert, else FetchCert) differs, every
// value of that SealedSecret is sealed again with it, and the plan shows a
// "sealed-with" change from the old fingerprint to the new. A SealedSecret
// without the annotation (sealed by other tools) is re-sealed once.
//
// BackupKeys hands every key Secret (KeyLabel; active and compromised) to a
// Destination, as restorable Kubernetes JSON, and names the newest.
//
// # The controller
//
// ControllerRelease is the controller's Helm release: chart sealed-secrets
// 2.18.5 (app 0.36.6) from https://bitnami-labs.github.io/sealed-secrets,
// release "sealed-secrets" in secrets.namespace (default kube-system),
// with fullnameOverride sealed-secrets-controller, so that its Service is
// what kubeseal's defaults (--controller-namespace kube-system,
// --controller-name sealed-secrets-controller, the Service's first port,
// which the chart names "http") and FetchCert's find. Its values are the
// chart's defaults otherwise, none random, so its render is stable.
// EnsureController installs it with internal/helmrelease's Ensure (plan,
// then an atomic helm upgrade --install; a second run makes no revision
// and no write), after checking the values against the chart's defaults
// for unknown keys. A composer that plans a whole environment plans the
// same release with helmrelease.Plan, or helmrelease.PlanNew before the
// cluster exists, ahead of PlanSync's steps. Where the chart repository is
// served from elsewhere (a mirror, a test server) the caller passes
// helmrelease.WithRepository(ChartRepoURL, url); plans still name the
// upstream repository.
//
// The real controller binary cannot run outside a cluster here: its
// controller.Main builds its client with rest.InClusterConfig only (no
// kubeconfig flag), which needs KUBERNETES_SERVICE_HOST and a service
// account token at the fixed path /var/run/secrets/kubernetes.io/serviceaccount,
// and it serves on the fixed ports 8080 and 8081. The test control plane's
// kwok pods run no containers either. So the tests run the controller's own
// code where it matters: sealed-secrets' key generation
// (crypto.GeneratePrivateKeyAndCert, what the controller's key registry
// calls) and SealedSecret.Unseal (what the controller calls for each
// SealedSecret), against objects read back from a real kube-apiserver.
//
// # Limits
//
// SealedSecrets that leave want are not deleted. The fingerprint key is
// never rotated by this package. Values are sealed as whole bytes;
// templates (spec.template.data) are not used.
package secrets
