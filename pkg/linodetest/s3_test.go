package linodetest

import (
	"bytes"
	"io"
	"net/http"
	"testing"

	"github.com/linode/linodego"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

func mustS3Endpoint(t *testing.T, srv *Server, region string) string {
	t.Helper()
	ep, err := srv.S3Endpoint(region)
	if err != nil {
		t.Fatal(err)
	}
	return ep
}

// s3Client is a minio-go client of the endpoint the API reported, signing
// with the given key id and secret.
func s3Client(t *testing.T, srv *Server, endpoint, id, secret string) *minio.Client {
	t.Helper()
	c, err := minio.New(endpoint, &minio.Options{
		Creds: credentials.NewStaticV4(id, secret, ""), Secure: true, Region: "us-east-1", Transport: srv.S3Transport(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func s3Status(err error) int { return minio.ToErrorResponse(err).StatusCode }

// TestS3ThroughTheAPI runs the whole path: buckets and keys made through
// linodego, objects through minio-go with those keys, every request's
// signature checked against the key's secret and its bucket_access.
func TestS3ThroughTheAPI(t *testing.T) {
	t.Parallel()
	srv, client := New(t)
	ctx := t.Context()
	for _, l := range []string{"state", "other"} {
		if _, err := client.CreateObjectStorageBucket(ctx, linodego.ObjectStorageBucketCreateOptions{Region: "us-east", Label: l}); err != nil {
			t.Fatal(err)
		}
	}
	b, err := client.GetObjectStorageBucket(ctx, "us-east", "state")
	if err != nil {
		t.Fatal(err)
	}
	full, err := client.CreateObjectStorageKey(ctx, linodego.ObjectStorageKeyCreateOptions{Label: "full"})
	if err != nil {
		t.Fatal(err)
	}
	mk := func(label, bucket, perm string) *linodego.ObjectStorageKey {
		k, err := client.CreateObjectStorageKey(ctx, linodego.ObjectStorageKeyCreateOptions{Label: label,
			BucketAccess: &[]linodego.ObjectStorageKeyBucketAccess{{Region: "us-east", BucketName: bucket, Permissions: perm}}})
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	rw, ro, otherOnly := mk("rw", "state", "read_write"), mk("ro", "state", "read_only"), mk("other", "other", "read_write")

	// The secret is shown once, at creation.
	again, err := client.GetObjectStorageKey(ctx, full.ID)
	if err != nil || again.SecretKey == full.SecretKey || full.SecretKey == "" {
		t.Fatalf("GET of a key shows secret %q (created with %q), err %v: want it redacted", again.SecretKey, full.SecretKey, err)
	}

	put := func(c *minio.Client, bucket, key string, create bool) error {
		opts := minio.PutObjectOptions{}
		if create {
			opts.SetMatchETagExcept("*")
		}
		_, err := c.PutObject(ctx, bucket, key, bytes.NewReader([]byte("v")), 1, opts)
		return err
	}
	ep := b.S3Endpoint
	tests := []struct {
		name       string
		id, secret string
		bucket     string
		want       int // 0: success
	}{
		{"unrestricted key", full.AccessKey, full.SecretKey, "state", 0},
		{"read_write key on its bucket", rw.AccessKey, rw.SecretKey, "state", 0},
		{"right key id, wrong secret", rw.AccessKey, full.SecretKey, "state", http.StatusForbidden},
		{"read_only key", ro.AccessKey, ro.SecretKey, "state", http.StatusForbidden},
		{"key without access to the bucket", otherOnly.AccessKey, otherOnly.SecretKey, "state", http.StatusForbidden},
		{"key the simulator never issued", "AKNOTISSUED", "secret", "state", http.StatusForbidden},
		{"bucket that does not exist", full.AccessKey, full.SecretKey, "nope", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := put(s3Client(t, srv, ep, tt.id, tt.secret), tt.bucket, "obj/"+tt.name, false)
			if tt.want == 0 && err != nil {
				t.Fatalf("put: %v", err)
			}
			if tt.want != 0 && s3Status(err) != tt.want {
				t.Fatalf("put: %v (status %d), want %d", err, s3Status(err), tt.want)
			}
			// Nothing refused was written.
			_, err = s3Client(t, srv, ep, full.AccessKey, full.SecretKey).StatObject(ctx, "state", "obj/"+tt.name, minio.StatObjectOptions{})
			if got := err == nil; got != (tt.want == 0) {
				t.Errorf("object present after the put: %v (stat error %v)", got, err)
			}
		})
	}

	t.Run("read_only key reads", func(t *testing.T) {
		if err := put(s3Client(t, srv, ep, full.AccessKey, full.SecretKey), "state", "ro.json", false); err != nil {
			t.Fatal(err)
		}
		obj, err := s3Client(t, srv, ep, ro.AccessKey, ro.SecretKey).GetObject(ctx, "state", "ro.json", minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer obj.Close()
		if b, err := io.ReadAll(obj); err != nil || string(b) != "v" {
			t.Fatalf("read with a read_only key: %q, %v", b, err)
		}
	})
	t.Run("conditional create", func(t *testing.T) {
		c := s3Client(t, srv, ep, rw.AccessKey, rw.SecretKey)
		if err := put(c, "state", "once", true); err != nil {
			t.Fatal(err)
		}
		if err := put(c, "state", "once", true); s3Status(err) != http.StatusPreconditionFailed {
			t.Fatalf("second conditional create: %v, want 412", err)
		}
	})
	t.Run("buckets only through the API", func(t *testing.T) {
		err := s3Client(t, srv, ep, full.AccessKey, full.SecretKey).MakeBucket(ctx, "made-by-s3", minio.MakeBucketOptions{Region: "us-east-1"})
		if s3Status(err) != http.StatusNotImplemented {
			t.Fatalf("make bucket over S3: %v, want 501", err)
		}
	})
}

// The API and S3 agree: a bucket holding objects counts them and cannot be
// deleted; a deleted key is refused at once; a bucket deleted through the
// API is gone from S3.
func TestS3FollowsTheAPI(t *testing.T) {
	t.Parallel()
	srv, client := New(t)
	ctx := t.Context()
	b, err := client.CreateObjectStorageBucket(ctx, linodego.ObjectStorageBucketCreateOptions{Region: "us-ord", Label: "snapshots"})
	if err != nil {
		t.Fatal(err)
	}
	k, err := client.CreateObjectStorageKey(ctx, linodego.ObjectStorageKeyCreateOptions{Label: "k"})
	if err != nil {
		t.Fatal(err)
	}
	c := s3Client(t, srv, b.S3Endpoint, k.AccessKey, k.SecretKey)
	if _, err := c.PutObject(ctx, "snapshots", "a", bytes.NewReader([]byte("abc")), 3, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := client.GetObjectStorageBucket(ctx, "us-ord", "snapshots")
	if err != nil || got.Objects != 1 || got.Size != 3 {
		t.Fatalf("bucket = %+v (%v), want 1 object of 3 bytes", got, err)
	}
	err = client.DeleteObjectStorageBucket(ctx, "us-ord", "snapshots")
	wantAPIError(t, err, http.StatusBadRequest)
	if err := c.RemoveObject(ctx, "snapshots", "a", minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := client.DeleteObjectStorageBucket(ctx, "us-ord", "snapshots"); err != nil {
		t.Fatalf("delete the emptied bucket: %v", err)
	}
	if _, err := c.PutObject(ctx, "snapshots", "b", bytes.NewReader([]byte("x")), 1, minio.PutObjectOptions{}); s3Status(err) != http.StatusNotFound {
		t.Fatalf("put into a deleted bucket: %v, want 404", err)
	}
	if err := client.DeleteObjectStorageKey(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListBuckets(ctx); s3Status(err) != http.StatusForbidden {
		t.Fatalf("request with a deleted key: %v, want 403", err)
	}
}
