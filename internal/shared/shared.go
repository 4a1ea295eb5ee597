package shared

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// EnvDir names the environment variable that points at the shared directory.
const EnvDir = "PLATFORM_SHARED_DIR"

// HowToGet says how to obtain the shared files; errors quote it.
const HowToGet = "run `make shared` (it fetches the files from their upstream locations into " +
	"$XDG_CACHE_HOME/platform/shared), or set " + EnvDir + " to a directory holding linode-api/ and charts/"

// Find returns the absolute path of rel (for example
// "linode-api/openapi.yaml") inside the shared directory. It looks, in order,
// at $PLATFORM_SHARED_DIR (only there, when it is set), at "shared/<rel>" in the working directory and each
// of its ancestors, and at the cache filled by `make shared`.
func Find(rel string) (string, error) {
	var tried []string
	try := func(dir string) (string, bool) {
		p := filepath.Join(dir, rel)
		tried = append(tried, p)
		if _, err := os.Stat(p); err == nil {
			abs, err := filepath.Abs(p)
			return abs, err == nil
		}
		return "", false
	}
	if d := os.Getenv(EnvDir); d != "" {
		// An explicit setting that points nowhere is a mistake to report,
		// not a reason to look elsewhere.
		if p, ok := try(d); ok {
			return p, nil
		}
		return "", fmt.Errorf("find shared file %s: not in %s=%s; %s", rel, EnvDir, d, HowToGet)
	}
	if wd, err := os.Getwd(); err == nil {
		for dir := wd; ; dir = filepath.Dir(dir) {
			if p, ok := try(filepath.Join(dir, "shared")); ok {
				return p, nil
			}
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	if c, err := os.UserCacheDir(); err == nil {
		if p, ok := try(filepath.Join(c, "platform", "shared")); ok {
			return p, nil
		}
	}
	return "", fmt.Errorf("find shared file %s: not found (looked at %s); %s", rel, strings.Join(tried, ", "), HowToGet)
}

// EnvRequire names the environment variable that this repository's test
// command (make test) sets to demand the shared files: with it set, a
// missing file fails a test instead of skipping it. Whether a file is
// demanded never depends on the caller's module path, so an importer's
// tests behave the same in any repository.
const EnvRequire = "PLATFORM_REQUIRE_SHARED"

// Required reports whether EnvRequire is set.
func Required() bool { return os.Getenv(EnvRequire) != "" }
