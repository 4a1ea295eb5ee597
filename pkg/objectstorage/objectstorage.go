package objectstorage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/linode/linodego"
	"go.uber.org/zap"

	"github.com/org/platform/pkg/change"
)

// API is the part of the Linode API this package calls.
type API interface {
	GetObjectStorageBucket(ctx context.Context, clusterOrRegionID, label string) (*linodego.ObjectStorageBucket, error)
	CreateObjectStorageBucket(ctx context.Context, opts linodego.ObjectStorageBucketCreateOptions) (*linodego.ObjectStorageBucket, error)
	ListObjectStorageKeys(ctx context.Context, opts *linodego.ListOptions) ([]linodego.ObjectStorageKey, error)
	CreateObjectStorageKey(ctx context.Context, opts linodego.ObjectStorageKeyCreateOptions) (*linodego.ObjectStorageKey, error)
}

var _ API = (*linodego.Client)(nil)

// Purposes of an environment's buckets and keys.
const (
	// PurposeState holds snapshots, audit records and locks (pkg/store).
	PurposeState = "state"
	// PurposeSealingKeys holds the backup of the sealing keys: the bucket
	// spec.KeyBackup names by default ("platform-<env>-sealing-keys").
	PurposeSealingKeys = "sealing-keys"
)

// Purposes lists every purpose, so a sweep can name every label of an
// environment without its spec.
var Purposes = []string{PurposeState, PurposeSealingKeys}

// labelPrefix starts every bucket and key label of ours.
const labelPrefix = "platform-"

// BucketLabel is the label of an environment's bucket for purpose:
// "platform-<env>-<purpose>".
func BucketLabel(env, purpose string) string { return labelPrefix + env + "-" + purpose }

// KeyLabel is the label of the access key to an environment's bucket for
// purpose; the same text as BucketLabel.
func KeyLabel(env, purpose string) string { return BucketLabel(env, purpose) }

// Linode's limits on labels.
const (
	minBucketLabel = 3
	maxBucketLabel = 63
	maxKeyLabel    = 50
)

// Option changes how the functions of this package behave.
type Option func(*options) error

type options struct {
	log *zap.Logger
}

// WithLogger makes the functions log progress to l. Default zap.NewNop().
// No secret is ever logged.
func WithLogger(l *zap.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return errors.New("WithLogger: nil logger")
		}
		o.log = l
		return nil
	}
}

func newOptions(opts []Option) (*options, error) {
	o := &options{log: zap.NewNop()}
	for _, f := range opts {
		if err := f(o); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// BucketResult is what EnsureBucket did and where the bucket is.
type BucketResult struct {
	change.Result
	// Region and Label name the bucket.
	Region string `json:"region"`
	Label  string `json:"label"`
	// Endpoint is the S3 endpoint (host[:port]) to reach it at, as the API
	// reports it: store.S3Config.Endpoint.
	Endpoint string `json:"endpoint"`
}

func bucketObject(region, label string) string { return "bucket/" + region + "/" + label }

// EnsureBucket makes the bucket label in region unless it exists. It reads
// first: a bucket that exists is left as it is (Op Unchanged) and no write
// is sent. A create whose answer was lost (the bucket exists after all) is
// read back. Bad input fails before any request, naming the field.
func EnsureBucket(ctx context.Context, api API, region, label string, opts ...Option) (BucketResult, error) {
	o, err := newOptions(opts)
	if err != nil {
		return BucketResult{}, err
	}
	switch {
	case region == "":
		return BucketResult{}, errors.New("bucket region: required")
	case len(label) < minBucketLabel || len(label) > maxBucketLabel:
		return BucketResult{}, fmt.Errorf("bucket label: must be %d–%d characters (got %d)", minBucketLabel, maxBucketLabel, len(label))
	}
	res := BucketResult{Region: region, Label: label}
	obj := bucketObject(region, label)
	log := o.log.With(zap.String("bucket", label), zap.String("region", region))
	b, err := api.GetObjectStorageBucket(ctx, region, label)
	switch {
	case err == nil:
		res.Endpoint = b.S3Endpoint
		res.Add(change.Change{Layer: change.LayerLinode, Object: obj, Op: change.Unchanged})
		return res, nil
	case !linodego.IsNotFound(err):
		return res, fmt.Errorf("get bucket %q in %s: %w", label, region, err)
	}
	log.Info("creating Object Storage bucket")
	b, err = api.CreateObjectStorageBucket(ctx, linodego.ObjectStorageBucketCreateOptions{Region: region, Label: label, ACL: linodego.ACLPrivate})
	if err != nil {
		// A create that took effect though its answer was lost, or a race
		// with another creator: the bucket is there now.
		if again, gerr := api.GetObjectStorageBucket(ctx, region, label); gerr == nil {
			b = again
		} else {
			return res, fmt.Errorf("create bucket %q in %s: %w", label, region, err)
		}
	}
	res.Endpoint = b.S3Endpoint
	res.Add(change.Change{Layer: change.LayerLinode, Object: obj, Op: change.Create, To: "private"})
	return res, nil
}

// Permission is what a key may do in its bucket.
type Permission string

// The permissions of a limited key.
const (
	ReadOnly  Permission = "read_only"
	ReadWrite Permission = "read_write"
)

// BucketRef names a bucket.
type BucketRef struct {
	Region string `json:"region"`
	Label  string `json:"label"`
}

// AccessKey is an Object Storage key. SecretKey is set only in the answer
// of the call that created the key; it never prints (String, GoString)
// nor marshals to JSON.
type AccessKey struct {
	// ID is the key's id in the Linode API.
	ID int
	// Label is the key's label.
	Label string
	// AccessKey is the key id S3 requests are signed with (not secret).
	AccessKey string
	// SecretKey is the secret; empty unless this call created the key.
	SecretKey string
}

func (k AccessKey) redacted() string {
	secret := ""
	if k.SecretKey != "" {
		secret = change.Redacted
	}
	return fmt.Sprintf("AccessKey{ID:%d Label:%q AccessKey:%q SecretKey:%q}", k.ID, k.Label, k.AccessKey, secret)
}

// String shows the key with its secret redacted.
func (k AccessKey) String() string { return k.redacted() }

// GoString shows the key with its secret redacted (for %#v).
func (k AccessKey) GoString() string { return k.redacted() }

// MarshalJSON writes the key without its secret.
func (k AccessKey) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		ID        int    `json:"id"`
		Label     string `json:"label"`
		AccessKey string `json:"access_key"`
	}{k.ID, k.Label, k.AccessKey})
}

// ErrSecretUnavailable says that a key exists but its secret cannot be read
// back from Linode: it was handed out when the key was made, and must be
// supplied again (a secret input).
var ErrSecretUnavailable = errors.New("the key exists and Linode shows its secret only when it is created: supply the secret that was handed out then")

// KeyExistsError is CreateAccessKey's answer for a key that exists: Key
// holds its id and access key, without the secret.
type KeyExistsError struct {
	Key AccessKey
}

func (e *KeyExistsError) Error() string {
	return fmt.Sprintf("Object Storage key %q (id %d): %v", e.Key.Label, e.Key.ID, ErrSecretUnavailable)
}

// Unwrap returns ErrSecretUnavailable.
func (e *KeyExistsError) Unwrap() error { return ErrSecretUnavailable }

// CreateAccessKey makes the key label, limited to bucket with perm, and
// returns it with its secret — the one time Linode shows the secret. A key
// with that label that exists already is not recreated: CreateAccessKey
// returns it (without secret) and a *KeyExistsError. The secret is never
// logged. Bad input fails before any request, naming the field.
func CreateAccessKey(ctx context.Context, api API, label string, bucket BucketRef, perm Permission, opts ...Option) (AccessKey, error) {
	o, err := newOptions(opts)
	if err != nil {
		return AccessKey{}, err
	}
	switch {
	case label == "" || len(label) > maxKeyLabel:
		return AccessKey{}, fmt.Errorf("key label: must be 1–%d characters (got %d)", maxKeyLabel, len(label))
	case bucket.Region == "" || bucket.Label == "":
		return AccessKey{}, errors.New("key bucket: region and label required")
	case !slices.Contains([]Permission{ReadOnly, ReadWrite}, perm):
		return AccessKey{}, fmt.Errorf("key permissions: must be %s or %s (got %q)", ReadOnly, ReadWrite, perm)
	}
	log := o.log.With(zap.String("key", label))
	if k, found, err := findKey(ctx, api, label); err != nil {
		return AccessKey{}, err
	} else if found {
		log.Info("Object Storage key exists; its secret must be supplied", zap.Int("keyID", k.ID))
		return k, &KeyExistsError{Key: k}
	}
	created, err := api.CreateObjectStorageKey(ctx, linodego.ObjectStorageKeyCreateOptions{
		Label:        label,
		BucketAccess: &[]linodego.ObjectStorageKeyBucketAccess{{Region: bucket.Region, BucketName: bucket.Label, Permissions: string(perm)}},
	})
	if err != nil {
		// The error names no secret: linodego reports the API's reasons.
		return AccessKey{}, fmt.Errorf("create Object Storage key %q: %w", label, err)
	}
	log.Info("created Object Storage key", zap.Int("keyID", created.ID), zap.String("bucket", bucket.Label))
	return AccessKey{ID: created.ID, Label: created.Label, AccessKey: created.AccessKey, SecretKey: created.SecretKey}, nil
}

// findKey returns the key labelled label with the lowest id.
func findKey(ctx context.Context, api API, label string) (AccessKey, bool, error) {
	keys, err := api.ListObjectStorageKeys(ctx, nil)
	if err != nil {
		return AccessKey{}, false, fmt.Errorf("list Object Storage keys: %w", err)
	}
	var best *linodego.ObjectStorageKey
	for i := range keys {
		if keys[i].Label == label && (best == nil || keys[i].ID < best.ID) {
			best = &keys[i]
		}
	}
	if best == nil {
		return AccessKey{}, false, nil
	}
	return AccessKey{ID: best.ID, Label: best.Label, AccessKey: best.AccessKey}, true, nil
}
