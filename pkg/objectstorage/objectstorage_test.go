package objectstorage_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/org/platform/pkg/linodetest"
	"github.com/org/platform/pkg/objectstorage"
	"github.com/org/platform/pkg/store"
)

// TestStoreEndToEnd makes the bucket and key through the Linode API and
// uses them as pkg/store's S3 store, all against the simulator: the store
// honours conditional creates, keeps objects and holds a lock.
func TestStoreEndToEnd(t *testing.T) {
	t.Parallel()
	srv, client := linodetest.New(t)
	ctx := t.Context()
	core, logs := observer.New(zap.DebugLevel)
	log := zap.New(core)
	label := objectstorage.BucketLabel("staging", objectstorage.PurposeState)

	b, err := objectstorage.EnsureBucket(ctx, client, "us-east", label, objectstorage.WithLogger(log))
	if err != nil || b.Op() != "create" || b.Endpoint == "" {
		t.Fatalf("first EnsureBucket = %+v, %v; want a create with an endpoint", b, err)
	}
	srv.ResetCounts()
	again, err := objectstorage.EnsureBucket(ctx, client, "us-east", label)
	if err != nil || again.Changed() || again.Endpoint != b.Endpoint {
		t.Fatalf("second EnsureBucket = %+v, %v; want unchanged", again, err)
	}
	if n := srv.Counts().Mutating; n != 0 {
		t.Errorf("second EnsureBucket sent %d writes, want 0", n)
	}

	keyLabel := objectstorage.KeyLabel("staging", objectstorage.PurposeState)
	ref := objectstorage.BucketRef{Region: "us-east", Label: label}
	key, err := objectstorage.CreateAccessKey(ctx, client, keyLabel, ref, objectstorage.ReadWrite, objectstorage.WithLogger(log))
	if err != nil || key.SecretKey == "" || key.AccessKey == "" {
		t.Fatalf("CreateAccessKey = %v, %v; want a key with its secret", key, err)
	}

	// The secret is in no log line, print or JSON of the key.
	for _, e := range logs.All() {
		if line := fmt.Sprint(e.Message, e.ContextMap()); strings.Contains(line, key.SecretKey) {
			t.Errorf("log line holds the secret: %s", line)
		}
	}
	js, _ := json.Marshal(key)
	for _, shown := range []string{key.String(), fmt.Sprintf("%v %+v %#v", key, key, key), string(js)} {
		if strings.Contains(shown, key.SecretKey) {
			t.Errorf("the key shows its secret: %s", shown)
		}
	}

	// A second call finds the key, does not recreate it, and says the
	// secret must be supplied.
	srv.ResetCounts()
	again2, err := objectstorage.CreateAccessKey(ctx, client, keyLabel, ref, objectstorage.ReadWrite)
	var exists *objectstorage.KeyExistsError
	if !errors.As(err, &exists) || !errors.Is(err, objectstorage.ErrSecretUnavailable) || again2.ID != key.ID || again2.SecretKey != "" {
		t.Fatalf("second CreateAccessKey = %v, %v; want the same key without secret and a *KeyExistsError", again2, err)
	}
	if n := srv.Counts().Mutating; n != 0 {
		t.Errorf("second CreateAccessKey sent %d writes, want 0", n)
	}

	s, err := store.NewS3(store.S3Config{Endpoint: b.Endpoint, Bucket: label, Region: "us-east-1",
		AccessKey: key.AccessKey, SecretKey: key.SecretKey, Transport: srv.S3Transport()})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.CheckConditionalCreate(ctx, s); err != nil {
		t.Fatalf("the simulator's S3 must honour conditional creates: %v", err)
	}
	if err := s.Put(ctx, "snapshots/a.json", []byte(`{"a":1}`)); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx, "snapshots/a.json"); err != nil || string(got) != `{"a":1}` {
		t.Fatalf("get = %q, %v", got, err)
	}
	if keys, err := s.List(ctx, "snapshots/"); err != nil || len(keys) != 1 || keys[0] != "snapshots/a.json" {
		t.Fatalf("list = %v, %v", keys, err)
	}
	l, err := store.Acquire(ctx, s, "staging", "test")
	if err != nil {
		t.Fatalf("acquire the lock: %v", err)
	}
	if _, err := store.Acquire(ctx, s, "staging", "other"); !errors.Is(err, store.ErrLocked) {
		t.Errorf("second acquire: %v, want ErrLocked", err)
	}
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}

	// A key with a wrong secret is refused by the store's endpoint.
	bad, err := store.NewS3(store.S3Config{Endpoint: b.Endpoint, Bucket: label, Region: "us-east-1",
		AccessKey: key.AccessKey, SecretKey: "not-the-secret", Transport: srv.S3Transport()})
	if err != nil {
		t.Fatal(err)
	}
	if err := bad.Put(ctx, "x", []byte("1")); err == nil {
		t.Error("a put signed with a wrong secret was accepted")
	}
}

// Bad input fails before any request, naming the field.
func TestBadInput(t *testing.T) {
	t.Parallel()
	srv, client := linodetest.New(t)
	ctx := t.Context()
	ref := objectstorage.BucketRef{Region: "us-east", Label: "abc"}
	for _, tt := range []struct {
		name, field string
		call        func() error
	}{
		{"short bucket label", "bucket label", func() error { _, err := objectstorage.EnsureBucket(ctx, client, "us-east", "ab"); return err }},
		{"no region", "bucket region", func() error { _, err := objectstorage.EnsureBucket(ctx, client, "", "abc"); return err }},
		{"long key label", "key label", func() error {
			_, err := objectstorage.CreateAccessKey(ctx, client, strings.Repeat("k", 51), ref, objectstorage.ReadOnly)
			return err
		}},
		{"bad permission", "key permissions", func() error {
			_, err := objectstorage.CreateAccessKey(ctx, client, "k", ref, "admin")
			return err
		}},
	} {
		if err := tt.call(); err == nil || !strings.HasPrefix(err.Error(), tt.field) {
			t.Errorf("%s: %v, want an error naming %q", tt.name, err, tt.field)
		}
	}
	if c := srv.Counts(); c.Mutating+c.Reading != 0 {
		t.Errorf("bad input sent %d requests, want 0", c.Mutating+c.Reading)
	}
}
