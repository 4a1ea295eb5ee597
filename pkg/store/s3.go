package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config says where an S3 store lives and how to sign in.
type S3Config struct {
	// Endpoint is the S3 endpoint's host[:port], without scheme, for
	// example "us-east-1.linodeobjects.com".
	Endpoint string
	// Bucket is the bucket holding the objects.
	Bucket string
	// Prefix, if set, is prepended to every key ("platform/"), so that
	// several stores can share a bucket.
	Prefix string
	// AccessKey and SecretKey are an Object Storage key's credentials.
	// The secret is used only to sign requests; it is never logged.
	AccessKey string
	SecretKey string
	// Region is the signing region; empty lets the client discover it.
	Region string
	// Insecure talks plain HTTP instead of HTTPS (tests only).
	Insecure bool
	// Transport, if set, carries the requests (a test server's client).
	Transport http.RoundTripper
}

// S3 is a Store in an S3 bucket, through github.com/minio/minio-go/v7.
// Create is a PutObject carrying If-None-Match: * (minio-go's
// SetMatchETagExcept("*")), which S3, Ceph RGW (Linode Object Storage) and
// MinIO answer with 412 when the key exists; the 409 that AWS returns while
// a competing conditional write is in flight is treated as refused too,
// which is the safe reading. Whether a given endpoint honours the header is
// what CheckConditionalCreate proves before a lock is taken.
type S3 struct {
	client *minio.Client
	bucket string
	prefix string
}

var _ Store = (*S3)(nil)

// NewS3 returns a store in cfg.Bucket. It sends no request.
func NewS3(cfg S3Config) (*S3, error) {
	switch {
	case cfg.Endpoint == "":
		return nil, errors.New("s3 store: endpoint: required")
	case cfg.Bucket == "":
		return nil, errors.New("s3 store: bucket: required")
	case cfg.AccessKey == "" || cfg.SecretKey == "":
		return nil, errors.New("s3 store: accessKey and secretKey: required")
	}
	if cfg.Prefix != "" && !strings.HasSuffix(cfg.Prefix, "/") {
		return nil, fmt.Errorf("s3 store: prefix %q: must end with /", cfg.Prefix)
	}
	c, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:     credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:    !cfg.Insecure,
		Region:    cfg.Region,
		Transport: cfg.Transport,
	})
	if err != nil {
		return nil, fmt.Errorf("s3 store %s: %w", cfg.Endpoint, err)
	}
	return &S3{client: c, bucket: cfg.Bucket, prefix: cfg.Prefix}, nil
}

func (s *S3) object(key string) (string, error) {
	if err := ValidateKey(key); err != nil {
		return "", err
	}
	return s.prefix + key, nil
}

func (s *S3) put(ctx context.Context, op, key string, data []byte, create bool) error {
	name, err := s.object(key)
	if err != nil {
		return fmt.Errorf("%s %s: %w", op, key, err)
	}
	opts := minio.PutObjectOptions{ContentType: "application/json"}
	if create {
		opts.SetMatchETagExcept("*") // If-None-Match: *
	}
	_, err = s.client.PutObject(ctx, s.bucket, name, bytes.NewReader(data), int64(len(data)), opts)
	if err != nil {
		if create {
			switch minio.ToErrorResponse(err).StatusCode {
			case http.StatusPreconditionFailed, http.StatusConflict:
				return &ExistsError{Key: key}
			}
		}
		return fmt.Errorf("%s s3://%s/%s: %w", op, s.bucket, name, err)
	}
	return nil
}

// Put writes data at key, replacing any object there.
func (s *S3) Put(ctx context.Context, key string, data []byte) error {
	return s.put(ctx, "put", key, data, false)
}

// Create writes data at key only if key is absent.
func (s *S3) Create(ctx context.Context, key string, data []byte) error {
	return s.put(ctx, "create", key, data, true)
}

func isNotFound(err error) bool {
	r := minio.ToErrorResponse(err)
	return r.StatusCode == http.StatusNotFound || r.Code == minio.NoSuchKey
}

// Get returns the object at key.
func (s *S3) Get(ctx context.Context, key string) ([]byte, error) {
	name, err := s.object(key)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	obj, err := s.client.GetObject(ctx, s.bucket, name, minio.GetObjectOptions{})
	if err == nil {
		defer obj.Close()
		var b []byte
		if b, err = io.ReadAll(obj); err == nil {
			return b, nil
		}
	}
	if isNotFound(err) {
		return nil, fmt.Errorf("get %s: %w", key, ErrNotFound)
	}
	return nil, fmt.Errorf("get s3://%s/%s: %w", s.bucket, name, err)
}

// List returns the keys that start with prefix, sorted.
func (s *S3) List(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	for o := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix + prefix, Recursive: true}) {
		if o.Err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", s.bucket, s.prefix+prefix, o.Err)
		}
		keys = append(keys, strings.TrimPrefix(o.Key, s.prefix))
	}
	slices.Sort(keys)
	return keys, nil
}

// Delete removes the object at key; an absent key is not an error.
func (s *S3) Delete(ctx context.Context, key string) error {
	name, err := s.object(key)
	if err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	if err := s.client.RemoveObject(ctx, s.bucket, name, minio.RemoveObjectOptions{}); err != nil && !isNotFound(err) {
		return fmt.Errorf("delete s3://%s/%s: %w", s.bucket, name, err)
	}
	return nil
}
