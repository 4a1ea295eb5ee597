package secrets

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	ssv1alpha1 "github.com/bitnami-labs/sealed-secrets/pkg/apis/sealedsecrets/v1alpha1"
	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"

	"github.com/org/platform/internal/reconcile"
	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/spec"
)

// Names this package writes into the cluster.
const (
	// FieldManager is the server-side apply field manager of the
	// SealedSecrets Sync applies.
	FieldManager = "platform"
	// FingerprintKeyName is the Secret, in the controller's namespace,
	// holding the HMAC-SHA256 key of the value fingerprints (32 random
	// bytes under FingerprintKeyField). Sync creates it once; it is never
	// rotated by this package: replacing it makes the next Sync re-seal
	// every value once.
	FingerprintKeyName  = "platform-secrets-fingerprint-key"
	FingerprintKeyField = "key"
	// AnnotationFingerprints, on a SealedSecret, maps each data key to the
	// keyed fingerprint of the value sealed under it, as a JSON object
	// ({"password":"hmac-sha256:…"}).
	AnnotationFingerprints = "secrets.platform.org/fingerprints"
	// AnnotationSealedWith, on a SealedSecret, is the fingerprint
	// (CertFingerprint) of the certificate its values were sealed with.
	AnnotationSealedWith = "secrets.platform.org/sealed-with"
	// LabelManagedBy, LabelComponent and LabelEnvironment mark the objects
	// Sync writes.
	LabelManagedBy   = "app.kubernetes.io/managed-by"
	LabelComponent   = "platform.org/component"
	LabelEnvironment = "platform.org/environment"
	managedByValue   = "platform"
	componentValue   = "secrets"
)

// The step kinds of this package, as a plan's steps carry them.
const (
	// StepFingerprintKeyCreate creates the fingerprint key Secret with 32
	// fresh random bytes, generated when the step is applied (a plan never
	// carries them). An existing key is kept. Its Action is a
	// FingerprintKeyAction.
	StepFingerprintKeyCreate = "secrets.fingerprintkey.create"
	// StepSealedSecretApply applies one SealedSecret by server-side apply
	// (EnsureSealedSecret). Its Action is a SealedSecretAction.
	StepSealedSecretApply = "sealedsecret.apply"
)

// FingerprintKeyAction is the Action of a secrets.fingerprintkey.create step.
type FingerprintKeyAction struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

// SealedSecretAction is the Action of a sealedsecret.apply step: the whole
// SealedSecret to apply — ciphertexts, keyed fingerprints and the
// certificate's fingerprint, never a value.
type SealedSecretAction struct {
	Object *ssv1alpha1.SealedSecret `json:"object"`
}

// SealedSecretGVR is the resource of SealedSecrets.
var SealedSecretGVR = schema.GroupVersionResource{Group: ssv1alpha1.GroupName, Version: "v1alpha1", Resource: ssv1alpha1.SealedSecretPlural}

// Clients are the Kubernetes clients of this package: Core for Secrets and
// the controller's service proxy, Dynamic for SealedSecrets (so that no
// generated clientset of the CRD is needed).
type Clients struct {
	Core    kubernetes.Interface
	Dynamic dynamic.Interface
}

// NewClients returns the clients for cfg.
func NewClients(cfg *rest.Config) (Clients, error) {
	core, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return Clients{}, fmt.Errorf("Kubernetes client: %w", err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return Clients{}, fmt.Errorf("Kubernetes dynamic client: %w", err)
	}
	return Clients{Core: core, Dynamic: dyn}, nil
}

// Secret is one Secret to deliver sealed: its name, scope and type, and for
// each data key the reference its value is read under from the Source.
type Secret struct {
	// Namespace and Name are the Secret's, and its SealedSecret's.
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Scope is the sealing scope. Default Strict.
	Scope Scope `json:"scope,omitempty"`
	// Type is the Secret's type. Default Opaque.
	Type corev1.SecretType `json:"type,omitempty"`
	// Labels go on the unsealed Secret (the SealedSecret's template).
	Labels map[string]string `json:"labels,omitempty"`
	// Data maps each data key to the reference of its value in the Source
	// ("DB_PASSWORD", "file:db/password").
	Data map[string]string `json:"data"`
}

func (s Secret) object() string { return "sealedsecret/" + s.Namespace + "/" + s.Name }

// SealedSecretStepID returns the ID of the step of environment env that
// applies SealedSecret namespace/name:
// "<env>/secrets/sealedsecret/<namespace>/<name>".
func SealedSecretStepID(env, namespace, name string) string {
	return env + "/" + string(change.LayerSecrets) + "/sealedsecret/" + namespace + "/" + name
}

// FingerprintKeyStepID returns the ID of the step of environment env that
// creates the fingerprint key in namespace:
// "<env>/secrets/secret/<namespace>/platform-secrets-fingerprint-key".
func FingerprintKeyStepID(env, namespace string) string {
	return env + "/" + string(change.LayerSecrets) + "/secret/" + namespace + "/" + FingerprintKeyName
}

// Plan is what Sync would do, as data: the step creating the fingerprint
// key when it is missing, else a sealedsecret.apply step per SealedSecret
// to create or correct. Its changes carry keyed fingerprints, marked
// Sensitive, never values; its Actions carry ciphertexts only. It can be
// written as JSON, read back and applied with ApplyStep (reconcile.Apply).
//
// Base records "certificate" (the fingerprint of the sealing certificate),
// "secret/<ns>/platform-secrets-fingerprint-key uid" (or "absent") and per
// SealedSecret "<object> fingerprints", "<object> sealed-with" and
// "<object> scope" as read (or "absent").
type Plan struct {
	change.Plan
}

// Result is what Sync did: one change per value sealed (create, update or
// delete of a data key, Sensitive), per template field corrected, and for
// a re-seal after a key rotation the "sealed-with" change.
type Result struct {
	change.Result
}

// fieldKey names a data key as a Change's field: data[password].
func fieldKey(k string) string { return "data[" + k + "]" }

// PlanSync reads the fingerprint key, the SealedSecrets of want and the
// values their Data references name in src, and returns the plan that
// would make the cluster hold want sealed with the current certificate
// (WithCert, else FetchCert). It writes nothing. A value is sealed anew
// only when its keyed fingerprint differs from the one the live
// SealedSecret records, when the SealedSecret's scope changes, or when it
// was sealed with another certificate (a key rotation: see the package
// documentation); every other ciphertext is carried over as it is.
//
// When the fingerprint key does not exist yet, fingerprints cannot be
// computed: the plan then holds only the step that creates it, and a plan
// made after applying it holds the SealedSecrets (Sync does both).
//
// Bad input fails before the first request, naming the field by its path
// (secrets[apps/db].data[password]).
func PlanSync(ctx context.Context, kube Clients, src Source, env spec.Environment, want []Secret, opts ...Option) (Plan, error) {
	r, err := newRun(kube, src, env, want, opts)
	if err != nil {
		return Plan{}, err
	}
	return r.plan(ctx)
}

// Sync makes the cluster hold every Secret of want as a SealedSecret:
// PlanSync, then ApplyStep for each step, through reconcile.Converge (at
// most WithMaxRounds rounds; a step that fails with a conflict is read
// again). A second Sync with unchanged values writes nothing; a changed
// value re-seals exactly its data key. SealedSecrets no longer in want
// are left alone.
func Sync(ctx context.Context, kube Clients, src Source, env spec.Environment, want []Secret, opts ...Option) (Result, error) {
	r, err := newRun(kube, src, env, want, opts)
	if err != nil {
		return Result{}, err
	}
	res, err := reconcile.Converge(ctx, reconcile.Options{
		Log:       r.log,
		MaxRounds: r.o.maxRounds,
		Pause:     500 * time.Millisecond,
		Transient: func(err error) (bool, time.Duration) { return apierrors.IsConflict(err), 0 },
	}, func(ctx context.Context) (change.Plan, error) {
		p, err := r.plan(ctx)
		return p.Plan, err
	}, func(ctx context.Context, s change.Step, _ *change.Outputs) error {
		return applyStep(ctx, kube, s, r.log)
	}, nil)
	return Result{Result: res}, err
}

// ApplyStep carries out one step of a Plan (secrets.fingerprintkey.create,
// sealedsecret.apply, or sealedsecret.seal, which needs WithSource and
// seals with WithCert, else FetchCert); a step of another kind is an
// error. It records no outputs.
func ApplyStep(ctx context.Context, kube Clients, s change.Step, _ *change.Outputs, opts ...Option) error {
	o, err := newOptions(opts)
	if err != nil {
		return err
	}
	log := o.logger.With(zap.String("environment", s.Env))
	if s.Kind == StepSealedSecretSeal {
		return applySeal(ctx, kube, s, opts, o, log)
	}
	return applyStep(ctx, kube, s, log)
}

func applyStep(ctx context.Context, kube Clients, s change.Step, log *zap.Logger) error {
	switch s.Kind {
	case StepFingerprintKeyCreate:
		var a FingerprintKeyAction
		if err := s.Decode(&a); err != nil {
			return err
		}
		return createFingerprintKey(ctx, kube.Core, a, log)
	case StepSealedSecretApply:
		var a SealedSecretAction
		if err := s.Decode(&a); err != nil {
			return err
		}
		if a.Object == nil {
			return fmt.Errorf("plan step %s: no SealedSecret to apply", s.ID)
		}
		log.Info("applying", zap.String("object", s.Object), zap.Int("values", len(a.Object.Spec.EncryptedData)))
		return EnsureSealedSecret(ctx, kube.Dynamic, a.Object)
	}
	return fmt.Errorf("plan step %s: kind %q is not a step of pkg/secrets (%s, %s, %s)", s.ID, s.Kind, StepFingerprintKeyCreate, StepSealedSecretApply, StepSealedSecretSeal)
}

// EnsureSealedSecret applies ss by server-side apply as FieldManager,
// forcing ownership of the fields it sets; its status is not sent. The
// SealedSecret CRD must be installed (the controller's chart installs it).
func EnsureSealedSecret(ctx context.Context, dyn dynamic.Interface, ss *ssv1alpha1.SealedSecret) error {
	what := "apply SealedSecret " + ss.Namespace + "/" + ss.Name
	c := ss.DeepCopy()
	c.Status = nil
	c.TypeMeta = metav1.TypeMeta{APIVersion: ssv1alpha1.SchemeGroupVersion.String(), Kind: "SealedSecret"}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(c)
	if err != nil {
		return fmt.Errorf("%s: encode: %w", what, err)
	}
	u := &unstructured.Unstructured{Object: m}
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(u.Object, "spec", "template", "metadata", "creationTimestamp")
	if _, err := dyn.Resource(SealedSecretGVR).Namespace(ss.Namespace).Apply(ctx, ss.Name, u,
		metav1.ApplyOptions{FieldManager: FieldManager, Force: true}); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// createFingerprintKey creates the key Secret with fresh random bytes; one
// that exists already (made by a concurrent run, or by this step whose
// answer was lost) is kept.
func createFingerprintKey(ctx context.Context, core kubernetes.Interface, a FingerprintKeyAction, log *zap.Logger) error {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return fmt.Errorf("generate the fingerprint key: %w", err)
	}
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: a.Namespace, Name: a.Name, Labels: map[string]string{
			LabelManagedBy: managedByValue, LabelComponent: componentValue,
		}},
		Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{FingerprintKeyField: key},
	}
	log.Info("creating the fingerprint key", zap.String("secret", a.Namespace+"/"+a.Name))
	_, err := core.CoreV1().Secrets(a.Namespace).Create(ctx, s, metav1.CreateOptions{FieldManager: FieldManager})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create the fingerprint key secret %s/%s: %w", a.Namespace, a.Name, err)
	}
	return nil
}

// Fingerprint returns the keyed fingerprint of value sealed under data key
// dataKey of Secret namespace/name: HMAC-SHA256 with key over the Secret's
// identity and the value, as "hmac-sha256:<base64url>". Without the key it
// reveals nothing of the value, not even whether two Secrets hold the same.
func Fingerprint(key []byte, namespace, name, dataKey string, value []byte) string {
	m := hmac.New(sha256.New, key)
	for _, part := range []string{"platform.org/secrets/fingerprint/v1", namespace, name, dataKey} {
		m.Write([]byte(part))
		m.Write([]byte{0})
	}
	m.Write(value)
	return "hmac-sha256:" + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

type run struct {
	kube Clients
	src  Source
	env  spec.Environment
	ns   string // the controller's namespace, where the fingerprint key lives
	want []Secret
	o    *options
	log  *zap.Logger
}

func newRun(kube Clients, src Source, env spec.Environment, want []Secret, opts []Option) (*run, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	if errs := validateSecrets(want); len(errs) > 0 {
		return nil, fmt.Errorf("sealed secrets of environment %q: %w", env.Name, errs.ToAggregate())
	}
	if src == nil {
		return nil, fmt.Errorf("sealed secrets of environment %q: no Source", env.Name)
	}
	ns := env.Secrets.Namespace
	if o.namespace != "" {
		ns = o.namespace
	}
	if ns == "" {
		ns = DefaultControllerNamespace
	}
	sorted := slices.Clone(want)
	slices.SortFunc(sorted, func(a, b Secret) int {
		if c := cmpString(a.Namespace, b.Namespace); c != 0 {
			return c
		}
		return cmpString(a.Name, b.Name)
	})
	return &run{kube: kube, src: src, env: env, ns: ns, want: sorted, o: o, log: o.logger.With(zap.String("environment", env.Name))}, nil
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// validateSecrets checks names, keys, scopes and references, and that no
// Secret is listed twice.
func validateSecrets(want []Secret) field.ErrorList {
	var errs field.ErrorList
	seen := map[string]bool{}
	for _, s := range want {
		p := field.NewPath("secrets").Key(s.Namespace + "/" + s.Name)
		for _, msg := range validation.IsDNS1123Label(s.Namespace) {
			errs = append(errs, field.Invalid(p.Child("namespace"), s.Namespace, msg))
		}
		for _, msg := range validation.IsDNS1123Subdomain(s.Name) {
			errs = append(errs, field.Invalid(p.Child("name"), s.Name, msg))
		}
		if seen[s.Namespace+"/"+s.Name] {
			errs = append(errs, field.Duplicate(p, s.Namespace+"/"+s.Name))
		}
		seen[s.Namespace+"/"+s.Name] = true
		if _, err := s.Scope.sealingScope(); err != nil {
			errs = append(errs, field.NotSupported(p.Child("scope"), s.Scope, []string{string(Strict), string(NamespaceWide), string(ClusterWide)}))
		}
		if len(s.Data) == 0 {
			errs = append(errs, field.Required(p.Child("data"), "at least one key"))
		}
		for _, k := range slices.Sorted(maps.Keys(s.Data)) {
			for _, msg := range validation.IsConfigMapKey(k) {
				errs = append(errs, field.Invalid(p.Child("data").Key(k), k, msg))
			}
			if s.Data[k] == "" {
				errs = append(errs, field.Required(p.Child("data").Key(k), "a reference into the Source"))
			}
		}
		for k, v := range s.Labels {
			for _, msg := range validation.IsQualifiedName(k) {
				errs = append(errs, field.Invalid(p.Child("labels").Key(k), k, msg))
			}
			for _, msg := range validation.IsValidLabelValue(v) {
				errs = append(errs, field.Invalid(p.Child("labels").Key(k), v, msg))
			}
		}
	}
	return errs
}

// plan reads and decides; see PlanSync.
func (r *run) plan(ctx context.Context) (Plan, error) {
	var p Plan
	cert := r.o.cert
	if cert == nil {
		var err error
		cert, err = FetchCert(ctx, r.kube.Core, append([]CertOption{WithController(r.ns, "")}, r.o.certOpts...)...)
		if err != nil {
			return p, err
		}
	}
	certFP, err := CertFingerprint(cert)
	if err != nil {
		return p, err
	}
	p.Observe("certificate", certFP)

	keyObj := "secret/" + r.ns + "/" + FingerprintKeyName
	ks, err := r.kube.Core.CoreV1().Secrets(r.ns).Get(ctx, FingerprintKeyName, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		p.Observe(keyObj+" uid", "absent")
		s, err := change.NewStep(FingerprintKeyStepID(r.env.Name, r.ns), change.LayerSecrets, StepFingerprintKeyCreate, change.Create, keyObj,
			FingerprintKeyAction{Namespace: r.ns, Name: FingerprintKeyName},
			change.Change{Layer: change.LayerSecrets, Object: keyObj, Op: change.Create, To: "32 random bytes, made when applied", Sensitive: true})
		if err != nil {
			return p, err
		}
		s.Env, s.Creates = r.env.Name, true
		p.Add(s)
		r.log.Debug("the fingerprint key is missing: planning only its creation", zap.String("secret", r.ns+"/"+FingerprintKeyName))
		return p, nil
	case err != nil:
		return p, fmt.Errorf("get the fingerprint key secret %s/%s: %w", r.ns, FingerprintKeyName, err)
	}
	key := ks.Data[FingerprintKeyField]
	if len(key) < 16 {
		return p, fmt.Errorf("fingerprint key secret %s/%s: %q holds %d bytes, want at least 16", r.ns, FingerprintKeyName, FingerprintKeyField, len(key))
	}
	p.Observe(keyObj+" uid", string(ks.UID))

	for _, w := range r.want {
		s, err := r.planSecret(ctx, &p, w, cert, certFP, key)
		if err != nil {
			return p, err
		}
		if s != nil {
			p.Add(*s)
		}
	}
	return p, nil
}

// planSecret returns the step that makes w's SealedSecret current, or nil.
func (r *run) planSecret(ctx context.Context, p *Plan, w Secret, cert *x509.Certificate, certFP string, key []byte) (*change.Step, error) {
	obj := w.object()
	scope := w.Scope
	if scope == "" {
		scope = Strict
	}
	typ := w.Type
	if typ == "" {
		typ = corev1.SecretTypeOpaque
	}

	// Read every value and fingerprint it; values stay in this map only.
	values := map[string][]byte{}
	fps := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(w.Data)) {
		v, err := r.src.Value(ctx, w.Data[k])
		if err != nil {
			return nil, fmt.Errorf("read the value of %s %s: %w", obj, fieldKey(k), err)
		}
		values[k] = v
		fps[k] = Fingerprint(key, w.Namespace, w.Name, k, v)
		r.log.Debug("read a value", zap.String("object", obj), zap.String("key", k), zap.String("ref", w.Data[k]), zap.String("fingerprint", fps[k]))
	}

	live, err := r.getSealedSecret(ctx, w.Namespace, w.Name)
	if err != nil {
		return nil, err
	}
	var (
		liveFPs   = map[string]string{}
		liveData  map[string]string
		liveWith  string
		liveScope Scope
		changes   []change.Change
		reseal    []string
		op        = change.Update
	)
	if live == nil {
		p.Observe(obj+" fingerprints", "absent")
		op = change.Create
		reseal = slices.Sorted(maps.Keys(values))
		for _, k := range reseal {
			changes = append(changes, change.Change{Layer: change.LayerSecrets, Object: obj, Field: fieldKey(k), To: fps[k], Op: change.Create, Sensitive: true})
		}
	} else {
		liveData = live.Spec.EncryptedData
		liveWith = live.Annotations[AnnotationSealedWith]
		sc := live.Scope()
		liveScope = Scope(sc.String())
		raw := live.Annotations[AnnotationFingerprints]
		if raw != "" {
			if err := json.Unmarshal([]byte(raw), &liveFPs); err != nil {
				r.log.Info("unreadable fingerprints annotation: every value is sealed anew", zap.String("object", obj), zap.Error(err))
				liveFPs = map[string]string{}
			}
		}
		p.Observe(obj+" fingerprints", raw)
		p.Observe(obj+" sealed-with", liveWith)
		p.Observe(obj+" scope", string(liveScope))
		all := false
		if liveScope != scope {
			all = true
			changes = append(changes, change.Change{Layer: change.LayerSecrets, Object: obj, Field: "scope", From: string(liveScope), To: string(scope), Op: change.Update})
		}
		if liveWith != certFP {
			all = true
			changes = append(changes, change.Change{Layer: change.LayerSecrets, Object: obj, Field: "sealed-with", From: liveWith, To: certFP, Op: change.Update})
		}
		for _, k := range slices.Sorted(maps.Keys(values)) {
			_, has := liveData[k]
			switch {
			case !has:
				reseal = append(reseal, k)
				changes = append(changes, change.Change{Layer: change.LayerSecrets, Object: obj, Field: fieldKey(k), To: fps[k], Op: change.Create, Sensitive: true})
			case all || liveFPs[k] != fps[k]:
				reseal = append(reseal, k)
				changes = append(changes, change.Change{Layer: change.LayerSecrets, Object: obj, Field: fieldKey(k), From: liveFPs[k], To: fps[k], Op: change.Update, Sensitive: true})
			}
		}
		for _, k := range slices.Sorted(maps.Keys(liveData)) {
			if _, ok := values[k]; !ok {
				changes = append(changes, change.Change{Layer: change.LayerSecrets, Object: obj, Field: fieldKey(k), From: liveFPs[k], Op: change.Delete, Sensitive: true})
			}
		}
		if live.Spec.Template.Type != typ {
			changes = append(changes, change.Change{Layer: change.LayerSecrets, Object: obj, Field: "template.type", From: string(live.Spec.Template.Type), To: string(typ), Op: change.Update})
		}
		for _, k := range slices.Sorted(maps.Keys(w.Labels)) {
			if lv, ok := live.Spec.Template.Labels[k]; !ok || lv != w.Labels[k] {
				changes = append(changes, change.Change{Layer: change.LayerSecrets, Object: obj, Field: "template.metadata.labels[" + k + "]", From: lv, To: w.Labels[k], Op: change.Update})
			}
		}
		for k, v := range map[string]string{LabelManagedBy: managedByValue, LabelComponent: componentValue, LabelEnvironment: r.env.Name} {
			if live.Labels[k] != v {
				changes = append(changes, change.Change{Layer: change.LayerSecrets, Object: obj, Field: "metadata.labels[" + k + "]", From: live.Labels[k], To: v, Op: change.Update})
			}
		}
		if len(changes) == 0 {
			r.log.Debug("sealed secret is current", zap.String("object", obj))
			return nil, nil
		}
	}

	// Seal exactly the keys that need it; carry the other ciphertexts over.
	sec := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: w.Namespace, Name: w.Name, Labels: maps.Clone(w.Labels)},
		Type:       typ,
		Data:       map[string][]byte{},
	}
	for _, k := range reseal {
		sec.Data[k] = values[k]
	}
	ss, err := sealObject(cert, sec, scope)
	if err != nil {
		return nil, fmt.Errorf("seal %s: %w", obj, err)
	}
	for k := range values {
		if _, ok := ss.Spec.EncryptedData[k]; !ok {
			ss.Spec.EncryptedData[k] = liveData[k]
		}
	}
	fpJSON, err := json.Marshal(fps) // map keys marshal sorted
	if err != nil {
		return nil, fmt.Errorf("encode the fingerprints of %s: %w", obj, err)
	}
	ss.Annotations[AnnotationFingerprints] = string(fpJSON)
	ss.Annotations[AnnotationSealedWith] = certFP
	ss.Labels = map[string]string{LabelManagedBy: managedByValue, LabelComponent: componentValue, LabelEnvironment: r.env.Name}
	r.log.Debug("planned a sealed secret", zap.String("object", obj), zap.Strings("sealed", reseal), zap.Int("carried over", len(values)-len(reseal)))

	s, err := change.NewStep(SealedSecretStepID(r.env.Name, w.Namespace, w.Name), change.LayerSecrets, StepSealedSecretApply, op, obj,
		SealedSecretAction{Object: ss}, changes...)
	if err != nil {
		return nil, err
	}
	s.Env = r.env.Name
	return &s, nil
}

// getSealedSecret returns the live SealedSecret, or nil when there is none.
func (r *run) getSealedSecret(ctx context.Context, ns, name string) (*ssv1alpha1.SealedSecret, error) {
	u, err := r.kube.Dynamic.Resource(SealedSecretGVR).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get SealedSecret %s/%s: %w", ns, name, err)
	}
	var ss ssv1alpha1.SealedSecret
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &ss); err != nil {
		return nil, fmt.Errorf("read SealedSecret %s/%s: %w", ns, name, err)
	}
	return &ss, nil
}

// sealObject is Seal without the check that the Secret holds values (a
// SealedSecret whose every ciphertext is carried over seals none).
func sealObject(cert *x509.Certificate, secret *corev1.Secret, scope Scope) (*ssv1alpha1.SealedSecret, error) {
	pub, err := checkCert(cert, time.Now())
	if err != nil {
		return nil, err
	}
	sc, err := scope.sealingScope()
	if err != nil {
		return nil, err
	}
	s := secret.DeepCopy()
	s.Annotations = ssv1alpha1.UpdateScopeAnnotations(s.Annotations, sc)
	ss, err := ssv1alpha1.NewSealedSecret(scheme.Codecs, pub, s)
	if err != nil {
		return nil, err
	}
	ss.TypeMeta = metav1.TypeMeta{APIVersion: ssv1alpha1.SchemeGroupVersion.String(), Kind: "SealedSecret"}
	return ss, nil
}
