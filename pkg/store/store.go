package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Store is what this package needs of an object store. Keys are
// slash-separated paths of non-empty segments ("locks/production"), never
// starting with "/" and never holding "." or ".." segments. Implementations
// are safe for concurrent use.
type Store interface {
	// Put writes data at key, replacing what is there.
	Put(ctx context.Context, key string, data []byte) error
	// Create writes data at key only if key is absent; otherwise it writes
	// nothing and returns an *ExistsError.
	Create(ctx context.Context, key string, data []byte) error
	// Get returns the object at key, or an error wrapping ErrNotFound.
	Get(ctx context.Context, key string) ([]byte, error)
	// List returns the keys that start with prefix, sorted.
	List(ctx context.Context, prefix string) ([]string, error)
	// Delete removes the object at key; an absent key is not an error.
	Delete(ctx context.Context, key string) error
}

var (
	// ErrNotFound means no object has the key.
	ErrNotFound = errors.New("object not found")
	// ErrExists means a conditional create found its key taken.
	ErrExists = errors.New("object already exists")
	// ErrUnsafeStore means a store does not refuse a second create of a key,
	// so nothing that relies on conditional create may use it.
	ErrUnsafeStore = errors.New("store does not honour conditional create")
	// ErrLocked means another owner holds an environment's lock.
	ErrLocked = errors.New("environment locked")
	// ErrLockLost means a lock is no longer ours: it expired or was taken
	// over.
	ErrLockLost = errors.New("lock lost")
	// ErrCorrupt means a stored object does not match its key's digest or
	// does not parse.
	ErrCorrupt = errors.New("stored object corrupt")
)

// ExistsError is a conditional create refused because its key exists (S3's
// 412 Precondition Failed).
type ExistsError struct {
	// Key is the key that exists.
	Key string
}

func (e *ExistsError) Error() string { return fmt.Sprintf("create %s: %v", e.Key, ErrExists) }

// Unwrap returns ErrExists.
func (e *ExistsError) Unwrap() error { return ErrExists }

// UnsafeStoreError says why a store failed CheckConditionalCreate.
type UnsafeStoreError struct {
	// Reason says what the probe saw.
	Reason string
}

func (e *UnsafeStoreError) Error() string {
	return fmt.Sprintf("%v: %s; refusing to rely on it for locks or append-only records", ErrUnsafeStore, e.Reason)
}

// Unwrap returns ErrUnsafeStore.
func (e *UnsafeStoreError) Unwrap() error { return ErrUnsafeStore }

// ValidateKey reports whether key is a key every Store accepts.
func ValidateKey(key string) error {
	if key == "" {
		return errors.New("empty key")
	}
	if strings.HasPrefix(key, "/") || strings.ContainsRune(key, '\\') || strings.ContainsRune(key, 0) {
		return fmt.Errorf("key %q: must be a relative slash-separated path", key)
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("key %q: empty, \".\" or \"..\" segment", key)
		}
	}
	return nil
}

// validateName checks an environment name used as one key segment.
func validateName(what, name string) error {
	if name == "" || strings.ContainsAny(name, "/\\\x00") || name == "." || name == ".." {
		return fmt.Errorf("%s %q: must be one non-empty key segment", what, name)
	}
	return nil
}
