package store

import (
	"context"
	"testing"

	"github.com/minio/minio-go/v7"
)

const (
	testAccessKey = "AKTESTPLATFORM"
	testSecret    = "s3cr3t-of-the-platform-key"
	testBucket    = "platform-state"
)

// s3Store starts a verifying fake S3 server, creates testBucket over the
// protocol with the key, and returns a store in it.
func s3Store(t *testing.T) *S3 {
	t.Helper()
	srv := newS3Server(t, map[string]s3Key{
		testAccessKey: {secret: testSecret, buckets: []string{testBucket}},
		"AKOTHER":     {secret: "other-secret", buckets: []string{"other-bucket"}},
	})
	s, err := NewS3(S3Config{
		Endpoint: srv.Listener.Addr().String(), Bucket: testBucket, Region: "us-east-1",
		AccessKey: testAccessKey, SecretKey: testSecret, Transport: srv.Client().Transport,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.client.MakeBucket(t.Context(), testBucket, minio.MakeBucketOptions{Region: "us-east-1"}); err != nil {
		t.Fatalf("create bucket: %v", err)
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
