package secrets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	certutil "k8s.io/client-go/util/cert"
)

// KeyLabel is the label the Sealed Secrets controller puts on its key
// Secrets (tls.crt and tls.key), "active" or "compromised"
// (controller.SealedSecretsKeyLabel).
const KeyLabel = "sealedsecrets.bitnami.com/sealed-secrets-key"

// Destination stores a backup of the sealing keys. Everything it receives
// is private key material: it must keep it encrypted at rest and out of
// logs. An Object Storage bucket (spec.KeyBackup) is one such destination;
// it is composed above this package, which talks to Kubernetes only.
type Destination interface {
	// Put stores one key under name (the key Secret's name): manifest is
	// the key Secret as Kubernetes JSON, which `kubectl apply -f` restores
	// into the controller's namespace and `kubeseal --recovery-unseal
	// --recovery-private-key` reads.
	Put(ctx context.Context, name string, manifest []byte) error
}

// DestinationFunc adapts a function to Destination.
type DestinationFunc func(ctx context.Context, name string, manifest []byte) error

// Put calls f.
func (f DestinationFunc) Put(ctx context.Context, name string, manifest []byte) error {
	return f(ctx, name, manifest)
}

// BackedUpKey describes one key BackupKeys wrote, by public facts only.
type BackedUpKey struct {
	// Name is the key Secret's name, e.g. "sealed-secrets-keyx2b7c".
	Name string `json:"name"`
	// Status is the value of KeyLabel: "active" or "compromised".
	Status string `json:"status"`
	// CertFingerprint is the fingerprint of its certificate
	// (CertFingerprint), as AnnotationSealedWith records it.
	CertFingerprint string `json:"certFingerprint"`
	// NotBefore is when its certificate starts: the controller seals with
	// the active key whose certificate starts last.
	NotBefore time.Time `json:"notBefore"`
}

// BackupResult lists the keys BackupKeys wrote, oldest certificate first.
type BackupResult struct {
	Keys []BackedUpKey `json:"keys"`
	// Newest is the name of the active key the controller seals with now.
	Newest string `json:"newest,omitempty"`
}

// WithControllerNamespace names the namespace of the Sealed Secrets
// controller and its keys, for BackupKeys and PlanSync. Default: the
// environment's secrets.namespace for PlanSync, DefaultControllerNamespace
// for BackupKeys.
func WithControllerNamespace(ns string) Option {
	return func(o *options) error {
		if ns == "" {
			return errors.New("WithControllerNamespace: empty namespace")
		}
		o.namespace = ns
		return nil
	}
}

// BackupKeys reads every key Secret of the Sealed Secrets controller (the
// Secrets labelled KeyLabel, active and compromised alike: an old key is
// still needed to unseal what it sealed) and hands each to dest. Key
// material goes to dest only: it is logged, returned and wrapped in errors
// by name and certificate fingerprint only. It only reads the cluster. A
// key Secret without a parsable certificate is an error naming it, before
// anything is written.
func BackupKeys(ctx context.Context, kube kubernetes.Interface, dest Destination, opts ...Option) (BackupResult, error) {
	o, err := newOptions(opts)
	if err != nil {
		return BackupResult{}, err
	}
	ns := o.namespace
	if ns == "" {
		ns = DefaultControllerNamespace
	}
	l, err := kube.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{LabelSelector: KeyLabel})
	if err != nil {
		return BackupResult{}, fmt.Errorf("list the sealing keys in %s: %w", ns, err)
	}
	type entry struct {
		key      BackedUpKey
		manifest []byte
	}
	var entries []entry
	for _, s := range l.Items {
		certs, err := certutil.ParseCertsPEM(s.Data[corev1.TLSCertKey])
		if err != nil || len(certs) == 0 {
			return BackupResult{}, fmt.Errorf("sealing key %s/%s: its %s holds no certificate", ns, s.Name, corev1.TLSCertKey)
		}
		fp, err := CertFingerprint(certs[0])
		if err != nil {
			return BackupResult{}, fmt.Errorf("sealing key %s/%s: %w", ns, s.Name, err)
		}
		m, err := json.Marshal(restorable(s))
		if err != nil {
			return BackupResult{}, fmt.Errorf("encode sealing key %s/%s: %w", ns, s.Name, err)
		}
		entries = append(entries, entry{
			key:      BackedUpKey{Name: s.Name, Status: s.Labels[KeyLabel], CertFingerprint: fp, NotBefore: certs[0].NotBefore},
			manifest: m,
		})
	}
	slices.SortStableFunc(entries, func(a, b entry) int { return a.key.NotBefore.Compare(b.key.NotBefore) })
	var res BackupResult
	for _, e := range entries {
		if err := dest.Put(ctx, e.key.Name, e.manifest); err != nil {
			return res, fmt.Errorf("back up sealing key %s/%s: %w", ns, e.key.Name, err)
		}
		o.logger.Info("backed up a sealing key", zap.String("secret", ns+"/"+e.key.Name),
			zap.String("status", e.key.Status), zap.String("certificate", e.key.CertFingerprint))
		res.Keys = append(res.Keys, e.key)
		if e.key.Status == "active" {
			res.Newest = e.key.Name
		}
	}
	return res, nil
}

// restorable returns the key Secret without what the server sets, so that
// applying the backup recreates it.
func restorable(s corev1.Secret) *corev1.Secret {
	return &corev1.Secret{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{
			Namespace: s.Namespace, Name: s.Name, Labels: s.Labels, Annotations: s.Annotations,
		},
		Type: s.Type,
		Data: s.Data,
	}
}
