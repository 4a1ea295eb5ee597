package contract

import (
	"os"
	"sync"
	"testing"

	"github.com/org/platform/internal/shared"
)

// specPath finds the Linode OpenAPI spec: $PLATFORM_LINODE_OPENAPI (the file
// itself), else linode-api/openapi.yaml in the shared directory
// ($PLATFORM_SHARED_DIR, shared/ beside the working directory or one of its
// parents, or the cache `make shared` fills). A missing spec fails the test:
// the contract is part of this repository's checks, not an extra.
func specPath(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("PLATFORM_LINODE_OPENAPI"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("PLATFORM_LINODE_OPENAPI=%s: %v; unset it, or %s", p, err, shared.HowToGet)
		}
		return p
	}
	p, err := shared.Find("linode-api/openapi.yaml")
	if err != nil {
		t.Fatalf("Linode OpenAPI spec: %v", err)
	}
	return p
}

// validator returns the memoized Validator with the overlay.
func validator(t testing.TB) *Validator {
	t.Helper()
	v, err := Load(specPath(t))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return v
}

var bare struct {
	once sync.Once
	v    *Validator
	err  error
}

// loadWithoutOverlay returns a Validator over the spec with the operation-wide
// rules but none of the overlay entries, to show what each entry is for.
func loadWithoutOverlay(t testing.TB) *Validator {
	t.Helper()
	path := specPath(t)
	bare.once.Do(func() { bare.v, bare.err = load(path, nil) })
	if bare.err != nil {
		t.Fatalf("load without overlay: %v", bare.err)
	}
	return bare.v
}
