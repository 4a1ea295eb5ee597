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

// EnvSpecPath names the environment variable that points the simulator at
// Linode's OpenAPI description (openapi.yaml from linode/linode-api-docs),
// as WithSpecPath does.
const EnvSpecPath = "LINODETEST_OPENAPI"

// EnvRequireContract names the environment variable that makes New fail a
// test when the OpenAPI description cannot be found, instead of carrying on
// without contract validation after a one-line notice. This repository's
// test command sets it; set it in your own CI to be sure every response is
// checked.
const EnvRequireContract = "LINODETEST_REQUIRE_CONTRACT"

// SpecPath finds the Linode API OpenAPI description that responses are
// validated against: the file named by $LINODETEST_OPENAPI, else
// linode-api/openapi.yaml in this project's shared directory
// ($PLATFORM_SHARED_DIR, the first shared/ in the working directory or one
// of its parents, or the cache `make shared` fills). The error wraps
// ErrSpecNotFound and says how to get the file.
func SpecPath() (string, error) {
	if p := os.Getenv(EnvSpecPath); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%w: %s=%s: %v", ErrSpecNotFound, EnvSpecPath, p, err)
		}
		return p, nil
	}
	p, err := shared.Find("linode-api/openapi.yaml")
	if err != nil {
		return "", fmt.Errorf("%w (set %s or use WithSpecPath): %v", ErrSpecNotFound, EnvSpecPath, err)
	}
	return p, nil
}

// specRequired reports whether a missing contract must fail the test: only
// when $LINODETEST_REQUIRE_CONTRACT is set, never because of where the
// test runs or what its go.mod says.
func specRequired() bool { return os.Getenv(EnvRequireContract) != "" }

func isSpecMissing(err error) bool { return errors.Is(err, ErrSpecNotFound) }
