package shared

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// EnvDir names the environment variable that points at the shared directory.
const EnvDir = "PLATFORM_SHARED_DIR"

// Module is this repository's module path.
const Module = "github.com/org/platform"

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

// InThisRepo reports whether the working directory lies inside this
// repository's own module (its go.mod declares Module), where a missing
// shared file is a failure rather than a reason to skip. CI (env CI set)
// counts as this repository too.
func InThisRepo() bool {
	if os.Getenv("CI") != "" {
		return true
	}
	wd, err := os.Getwd()
	if err != nil {
		return false
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if f, err := os.Open(filepath.Join(dir, "go.mod")); err == nil {
			mod := modulePath(f)
			f.Close()
			return mod == Module
		}
		if filepath.Dir(dir) == dir {
			return false
		}
	}
}

func modulePath(f *os.File) string {
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		if rest, ok := strings.CutPrefix(line, "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}
