package linodetest

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ErrSpecNotFound is returned (wrapped) by SpecPath when the Linode OpenAPI
// description cannot be found.
var ErrSpecNotFound = errors.New("Linode OpenAPI description (openapi.yaml) not found")

// ownModule is the module whose own test suite must validate.
const ownModule = "github.com/org/platform"

// specHint says how to get the contract file.
const specHint = "run `make shared` to fetch it, or set PLATFORM_LINODE_OPENAPI (the file) or PLATFORM_SHARED_DIR (the shared directory)"

// SpecPath finds the Linode API OpenAPI description that responses are
// validated against: the file named by $PLATFORM_LINODE_OPENAPI, else
// $PLATFORM_SHARED_DIR/linode-api/openapi.yaml, else the first
// shared/linode-api/openapi.yaml found in the working directory or one of
// its parents. The error wraps ErrSpecNotFound.
func SpecPath() (string, error) {
	const rel = "linode-api/openapi.yaml"
	if p := os.Getenv("PLATFORM_LINODE_OPENAPI"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%w: PLATFORM_LINODE_OPENAPI=%s: %v", ErrSpecNotFound, p, err)
		}
		return p, nil
	}
	if dir := os.Getenv("PLATFORM_SHARED_DIR"); dir != "" {
		p := filepath.Join(dir, rel)
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%w: PLATFORM_SHARED_DIR=%s: %v", ErrSpecNotFound, dir, err)
		}
		return p, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("%w: working directory: %v", ErrSpecNotFound, err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		p := filepath.Join(dir, "shared", rel)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
		if filepath.Dir(dir) == dir {
			break
		}
	}
	return "", fmt.Errorf("%w: no shared/%s in %s or its parents", ErrSpecNotFound, rel, wd)
}

// specRequired reports whether a missing contract must fail the test: in
// this repository's own suite (the nearest go.mod declares ownModule) and
// whenever $CI is set. Elsewhere validation is skipped with a note.
func specRequired() bool {
	if os.Getenv("CI") != "" {
		return true
	}
	wd, err := os.Getwd()
	if err != nil {
		return false
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if mod, ok := moduleName(filepath.Join(dir, "go.mod")); ok {
			return mod == ownModule
		}
		if filepath.Dir(dir) == dir {
			return false
		}
	}
}

func moduleName(gomod string) (string, bool) {
	f, err := os.Open(gomod)
	if err != nil {
		return "", false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(line, "module"); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
			return strings.Trim(strings.TrimSpace(rest), `"`), true
		}
	}
	return "", true
}

func isSpecMissing(err error) bool { return errors.Is(err, ErrSpecNotFound) }
