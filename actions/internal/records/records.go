package records

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/linode/linodego"
	"github.com/sethvargo/go-githubactions"

	"github.com/org/platform/actions/internal/gha"
	"github.com/org/platform/pkg/objectstorage"
	"github.com/org/platform/pkg/store"
)

// Input names: an action that keeps records declares these three in its
// table (the key inputs Secret) and reads them with Parse.
const (
	InStore     = "store"
	InAccessKey = "store-access-key"
	InSecretKey = "store-secret-key"
)

// Location is a store input, parsed: a local directory, an s3:// bucket,
// or none (the zero Location). It prints without its keys.
type Location struct {
	// Dir is a local store's directory, resolved against the workspace.
	Dir string
	// Endpoint (host[:port]), Bucket and Prefix ("" or ending in "/")
	// name an s3:// store.
	Endpoint, Bucket, Prefix string
	// AccessKey and SecretKey are an s3:// store's credentials.
	AccessKey, SecretKey string
}

// IsZero reports whether no store was given.
func (l Location) IsZero() bool { return l.Dir == "" && l.Endpoint == "" }

// IsS3 reports whether l is an s3:// store.
func (l Location) IsS3() bool { return l.Endpoint != "" }

// String is the store as a reviewer reads it: the directory, or
// s3://<endpoint>/<bucket>/<prefix>; never a key.
func (l Location) String() string {
	if l.IsS3() {
		return "s3://" + l.Endpoint + "/" + l.Bucket + "/" + l.Prefix
	}
	return l.Dir
}

// GoString is String, so that %#v prints no key either.
func (l Location) GoString() string { return "records.Location(" + l.String() + ")" }

// Parse reads the store inputs: "" is no store; s3://<endpoint>/<bucket>
// [/<prefix>/] an Object Storage bucket whose keys are the key inputs
// (Keys checks that both are there); anything else a directory relative to
// the workspace, for which the key inputs are refused. It sends no
// request. in must have been read from a table that declares InStore,
// InAccessKey and InSecretKey.
func Parse(a *githubactions.Action, in gha.Values) (Location, error) {
	v := in.Get(InStore)
	access, secret := in.Get(InAccessKey), in.Get(InSecretKey)
	if !strings.HasPrefix(v, "s3://") {
		if access != "" || secret != "" {
			if v == "" {
				v = "(none)"
			}
			return Location{}, fmt.Errorf("%s, %s: given for a local store %s; they are for an s3:// store", InAccessKey, InSecretKey, v)
		}
		return Location{Dir: gha.Path(a, v)}, nil
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" {
		return Location{}, fmt.Errorf("%s: %q is not s3://<endpoint>/<bucket>[/<prefix>/] (credentials go in %s and %s)", InStore, redactURL(v), InAccessKey, InSecretKey)
	}
	bucket, prefix, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	if bucket == "" {
		return Location{}, fmt.Errorf("%s: %q names no bucket: want s3://<endpoint>/<bucket>[/<prefix>/]", InStore, v)
	}
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return Location{Endpoint: u.Host, Bucket: bucket, Prefix: prefix, AccessKey: access, SecretKey: secret}, nil
}

// Keys checks that an s3:// location has both its keys; any other
// location needs none.
func (l Location) Keys() error {
	if l.IsS3() && (l.AccessKey == "" || l.SecretKey == "") {
		return fmt.Errorf("%s, %s: required for an s3:// store", InAccessKey, InSecretKey)
	}
	return nil
}

// OpenOption changes how Open makes the store.
type OpenOption func(*openOptions)

type openOptions struct {
	transport http.RoundTripper
}

// WithTransport carries an s3:// store's requests through rt (a test
// server's transport, such as linodetest.Server.S3Transport). Default:
// minio-go's own HTTPS transport.
func WithTransport(rt http.RoundTripper) OpenOption {
	return func(o *openOptions) { o.transport = rt }
}

// Open makes the store l names. It sends no request; the first use of an
// s3:// store (the lock's probe of conditional create) proves the keys.
func (l Location) Open(opts ...OpenOption) (store.Store, error) {
	var o openOptions
	for _, f := range opts {
		f(&o)
	}
	switch {
	case l.IsZero():
		return nil, fmt.Errorf("%s: none given", InStore)
	case !l.IsS3():
		st, err := store.NewLocal(l.Dir)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", InStore, err)
		}
		return st, nil
	}
	if err := l.Keys(); err != nil {
		return nil, err
	}
	st, err := store.NewS3(store.S3Config{Endpoint: l.Endpoint, Bucket: l.Bucket, Prefix: l.Prefix,
		AccessKey: l.AccessKey, SecretKey: l.SecretKey, Transport: o.transport})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", InStore, err)
	}
	return st, nil
}

// redactURL drops any user information from a URL given where none
// belongs: it could be a secret.
func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		u.User = nil
		return u.String() + " (credentials removed)"
	}
	if strings.Contains(s, "@") {
		return "(not shown: it may hold credentials)"
	}
	return s
}

// API is the part of the Linode API Create calls: objectstorage's, and the
// list of Object Storage endpoints, to find the region of the store's.
type API interface {
	objectstorage.API
	ListObjectStorageEndpoints(ctx context.Context, opts *linodego.ListOptions) ([]linodego.ObjectStorageEndpoint, error)
}

var _ API = (*linodego.Client)(nil)

// maxKeyLabel is Linode's longest Object Storage key label.
const maxKeyLabel = 50

// Made is what Create did: the bucket, found or created, and the key it
// created, whose SecretKey is set — the one time Linode shows it.
type Made struct {
	Bucket objectstorage.BucketResult
	Key    objectstorage.AccessKey
}

// Create makes the bucket of the s3:// location l when it is absent, and a
// read-write key limited to it labelled as the bucket is, and returns l
// with the new key's credentials. It reads first: an existing bucket is
// not written to, and an existing key is not recreated — its secret cannot
// be read back, so Create fails with an error that wraps
// objectstorage.ErrSecretUnavailable and says to pass the saved secret,
// having written nothing. Bad input fails before any request. The secret
// is in the returned Location and Made.Key only: the caller masks it
// before printing anything of it.
func Create(ctx context.Context, api API, l Location, opts ...objectstorage.Option) (Location, Made, error) {
	switch {
	case !l.IsS3():
		return l, Made{}, fmt.Errorf("%s: %q is not an s3:// store: only an Object Storage bucket is created", InStore, l.String())
	case len(l.Bucket) > maxKeyLabel:
		return l, Made{}, fmt.Errorf("%s: bucket %q is longer than %d characters, the longest key label: its key, labelled as the bucket, cannot be created", InStore, l.Bucket, maxKeyLabel)
	}
	eps, err := api.ListObjectStorageEndpoints(ctx, nil)
	if err != nil {
		return l, Made{}, fmt.Errorf("list Object Storage endpoints: %w", err)
	}
	region := ""
	var known []string
	for _, ep := range eps {
		if ep.S3Endpoint == nil {
			continue
		}
		known = append(known, *ep.S3Endpoint)
		if *ep.S3Endpoint == l.Endpoint {
			region = ep.Region
		}
	}
	if region == "" {
		return l, Made{}, fmt.Errorf("%s: endpoint %s is not one of the account's Object Storage endpoints (%s)", InStore, l.Endpoint, strings.Join(known, ", "))
	}
	var made Made
	if made.Bucket, err = objectstorage.EnsureBucket(ctx, api, region, l.Bucket, opts...); err != nil {
		return l, made, fmt.Errorf("create the store's bucket: %w", err)
	}
	if made.Bucket.Endpoint != "" && made.Bucket.Endpoint != l.Endpoint {
		return l, made, fmt.Errorf("%s: bucket %s is at endpoint %s, not %s: name that endpoint", InStore, l.Bucket, made.Bucket.Endpoint, l.Endpoint)
	}
	key, err := objectstorage.CreateAccessKey(ctx, api, l.Bucket, objectstorage.BucketRef{Region: region, Label: l.Bucket}, objectstorage.ReadWrite, opts...)
	if err != nil {
		if kerr, ok := errors.AsType[*objectstorage.KeyExistsError](err); ok {
			return l, made, fmt.Errorf("%s: the store's Object Storage key %q (id %d) exists, and Linode shows a key's secret only in the answer that created it: "+
				"pass the secret and access key the run that created it output (store-secret-key, store-access-key), saved as repository secrets, as the inputs %s and %s: %w",
				InSecretKey, kerr.Key.Label, kerr.Key.ID, InSecretKey, InAccessKey, ErrSecretUnavailable)
		}
		return l, made, fmt.Errorf("create the store's key: %w", err)
	}
	made.Key = key
	l.AccessKey, l.SecretKey = key.AccessKey, key.SecretKey
	return l, made, nil
}

// ErrSecretUnavailable is objectstorage.ErrSecretUnavailable: Create's
// error for a key that exists, whose secret only the inputs can give.
var ErrSecretUnavailable = objectstorage.ErrSecretUnavailable

// Owner names who acts, for the lock's holder and the audit record:
// "github:<actor> via <action> run <GITHUB_RUN_ID>", actor being GITHUB_ACTOR
// when the actor input is empty; "github-actions: <action>" when neither
// names anyone.
func Owner(a *githubactions.Action, actor, action string) string {
	if actor == "" {
		actor = a.Getenv("GITHUB_ACTOR")
	}
	via := action
	if run := a.Getenv("GITHUB_RUN_ID"); run != "" {
		via += " run " + run
	}
	if actor == "" {
		return "github-actions: " + via
	}
	return "github:" + actor + " via " + via
}

// DefaultDir is the local store an action uses when none is given where
// that is allowed (the simulator): platform-records under RUNNER_TEMP, or
// under the workspace when RUNNER_TEMP is not set.
func DefaultDir(a *githubactions.Action) string {
	if tmp := a.Getenv("RUNNER_TEMP"); tmp != "" {
		return filepath.Join(tmp, "platform-records")
	}
	return gha.Path(a, ".platform-records")
}
