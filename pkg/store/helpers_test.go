package store

import (
	"context"
	"testing"

	"github.com/linode/linodego"

	"github.com/org/platform/pkg/linodetest"
)

const testBucket = "platform-state"

// s3Store starts a Linode simulator, which serves S3 for the buckets it
// creates (see pkg/linodetest), creates testBucket and a key limited to it
// through the API, and returns a store in the bucket signed with that key.
func s3Store(t *testing.T) *S3 {
	t.Helper()
	srv, client := linodetest.New(t)
	ctx := t.Context()
	b, err := client.CreateObjectStorageBucket(ctx, linodego.ObjectStorageBucketCreateOptions{Region: "us-east", Label: testBucket})
	if err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	k, err := client.CreateObjectStorageKey(ctx, linodego.ObjectStorageKeyCreateOptions{Label: "store-test",
		BucketAccess: &[]linodego.ObjectStorageKeyBucketAccess{{Region: "us-east", BucketName: testBucket, Permissions: "read_write"}}})
	if err != nil {
		t.Fatalf("create key: %v", err)
	}
	s, err := NewS3(S3Config{
		Endpoint: b.S3Endpoint, Bucket: testBucket, Region: "us-east-1",
		AccessKey: k.AccessKey, SecretKey: k.SecretKey, Transport: srv.S3Transport(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func localStore(t *testing.T) *Local {
	t.Helper()
	s, err := NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// stores is the table every conformance, lock and record test runs on.
var stores = []struct {
	name string
	new  func(t *testing.T) Store
}{
	{"local", func(t *testing.T) Store { return localStore(t) }},
	{"s3", func(t *testing.T) Store { return s3Store(t) }},
}

// overwriting is a store that ignores conditional creates: Create is Put.
type overwriting struct{ Store }

func (o overwriting) Create(ctx context.Context, key string, data []byte) error {
	return o.Store.Put(ctx, key, data)
}

// hooked runs before on every Create of a key, then creates.
type hooked struct {
	Store
	before func(key string)
}

func (h hooked) Create(ctx context.Context, key string, data []byte) error {
	h.before(key)
	return h.Store.Create(ctx, key, data)
}
