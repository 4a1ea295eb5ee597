package store

import (
	"bytes"
	"errors"
	"net/http"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// TestS3Protocol exercises the verifying fake S3 server with a real client.
func TestS3Protocol(t *testing.T) {
	t.Parallel()
	srv := newS3Server(t, map[string]s3Key{
		testAccessKey: {secret: testSecret, buckets: []string{testBucket}},
		"AKOTHER":     {secret: "other-secret", buckets: []string{"other-bucket"}},
	})
	client := func(ak, sk string) *minio.Client {
		c, err := minio.New(srv.Listener.Addr().String(), &minio.Options{
			Creds: credentials.NewStaticV4(ak, sk, ""), Secure: true, Region: "us-east-1", Transport: srv.Client().Transport,
		})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	ctx := t.Context()
	good := client(testAccessKey, testSecret)
	put := func(c *minio.Client, bucket, key string, create bool) error {
		opts := minio.PutObjectOptions{}
		if create {
			opts.SetMatchETagExcept("*")
		}
		_, err := c.PutObject(ctx, bucket, key, bytes.NewReader([]byte("v")), 1, opts)
		return err
	}
	status := func(err error) int { return minio.ToErrorResponse(err).StatusCode }

	if err := good.MakeBucket(ctx, testBucket, minio.MakeBucketOptions{Region: "us-east-1"}); err != nil {
		t.Fatalf("create bucket with its key: %v", err)
	}
	if err := put(good, testBucket, "a/b.json", false); err != nil {
		t.Fatalf("put with the right key: %v", err)
	}
	if err := put(client(testAccessKey, "wrong-secret"), testBucket, "a/c.json", false); status(err) != http.StatusForbidden {
		t.Errorf("put signed with a wrong secret: got %v (status %d), want 403", err, status(err))
	}
	if err := put(client("AKOTHER", "other-secret"), testBucket, "a/d.json", false); status(err) != http.StatusForbidden {
		t.Errorf("put to a bucket the key has no access to: got %v (status %d), want 403", err, status(err))
	}
	if err := put(good, testBucket, "once.json", true); err != nil {
		t.Fatalf("first conditional create: %v", err)
	}
	if err := put(good, testBucket, "once.json", true); status(err) != http.StatusPreconditionFailed {
		t.Errorf("second conditional create: got %v (status %d), want 412", err, status(err))
	}
	// The refused objects were not written.
	for _, k := range []string{"a/c.json", "a/d.json"} {
		if _, err := good.StatObject(ctx, testBucket, k, minio.StatObjectOptions{}); status(err) != http.StatusNotFound {
			t.Errorf("%s: stat after a refused put: %v, want 404", k, err)
		}
	}
	// And through the store: 412 is an *ExistsError.
	s := s3Store(t)
	if err := s.Create(ctx, "x", []byte("1")); err != nil {
		t.Fatal(err)
	}
	var ee *ExistsError
	if err := s.Create(ctx, "x", []byte("2")); !errors.As(err, &ee) || ee.Key != "x" {
		t.Errorf("second create through the store: %v, want *ExistsError for x", err)
	}
}
