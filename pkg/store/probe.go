package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
)

// probePrefix is where CheckConditionalCreate writes its probes.
const probePrefix = "probes/"

// CheckConditionalCreate proves that s refuses a second create of a key: it
// creates a fresh probe object, creates it again with other content, and
// requires the second create to fail with an *ExistsError and the object to
// still hold the first content. It then deletes the probe. A store that
// overwrites, or accepts both creates, yields an *UnsafeStoreError saying
// what it did; other errors are the store's own.
func CheckConditionalCreate(ctx context.Context, s Store) error {
	key := probePrefix + randomToken()
	first, second := []byte("first "+key), []byte("second "+key)
	if err := s.Create(ctx, key, first); err != nil {
		if errors.Is(err, ErrExists) {
			return &UnsafeStoreError{Reason: fmt.Sprintf("the first create of the fresh key %s was refused", key)}
		}
		return fmt.Errorf("probe conditional create: %w", err)
	}
	defer func() { _ = s.Delete(context.WithoutCancel(ctx), key) }()
	err := s.Create(ctx, key, second)
	if err == nil {
		return &UnsafeStoreError{Reason: fmt.Sprintf("a second create of %s succeeded", key)}
	}
	if !errors.Is(err, ErrExists) {
		return fmt.Errorf("probe conditional create: %w", err)
	}
	got, err := s.Get(ctx, key)
	if err != nil {
		return fmt.Errorf("probe conditional create: read back: %w", err)
	}
	if !bytes.Equal(got, first) {
		return &UnsafeStoreError{Reason: fmt.Sprintf("a refused second create of %s overwrote the object", key)}
	}
	return nil
}

// randomToken returns 128 random bits in hex.
func randomToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	return hex.EncodeToString(b[:])
}
