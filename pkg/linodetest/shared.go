package linodetest

import (
	"errors"
	"fmt"
	"os"

	"github.com/org/platform/internal/shared"
)

// ErrSpecNotFound is returned (wrapped) by SpecPath when the Linode OpenAPI
// description cannot be found.
var ErrSpecNotFound = errors.New("Linode OpenAPI description (openapi.yaml) not found")

// SpecPath finds the Linode API OpenAPI description that responses are
// validated against: the file named by $PLATFORM_LINODE_OPENAPI, else
// linode-api/openapi.yaml in the shared directory ($PLATFORM_SHARED_DIR, the
// first shared/ in the working directory or one of its parents, or the cache
// `make shared` fills). The error wraps ErrSpecNotFound and says how to get
// the file.
func SpecPath() (string, error) {
	if p := os.Getenv("PLATFORM_LINODE_OPENAPI"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%w: PLATFORM_LINODE_OPENAPI=%s: %v; %s", ErrSpecNotFound, p, err, shared.HowToGet)
		}
		return p, nil
	}
	p, err := shared.Find("linode-api/openapi.yaml")
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrSpecNotFound, err)
	}
	return p, nil
}

// specRequired reports whether a missing contract must fail the test: in
// this repository's own suite and whenever $CI is set. Elsewhere validation
// is skipped with a note.
func specRequired() bool { return shared.InThisRepo() }

func isSpecMissing(err error) bool { return errors.Is(err, ErrSpecNotFound) }
