package shared

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindFromEnv(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "linode-api"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "linode-api", "x.yaml"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvDir, dir)
	got, err := Find("linode-api/x.yaml")
	if err != nil || got != filepath.Join(dir, "linode-api", "x.yaml") {
		t.Fatalf("Find = %q, %v", got, err)
	}
	_, err = Find("linode-api/missing.yaml")
	if err == nil || !strings.Contains(err.Error(), "make shared") {
		t.Fatalf("Find of a missing file = %v, want an error saying how to get it", err)
	}
}

// TestRepoSpecPresent is the check that this repository's suite has the
// upstream files it needs: under make test (which sets EnvRequire) and in
// CI, absent files fail it.
func TestRepoSpecPresent(t *testing.T) {
	if !Required() {
		t.Skipf("%s is not set: run make test to demand the shared files", EnvRequire)
	}
	for _, rel := range []string{"linode-api/openapi.yaml", "charts/index.yaml"} {
		if _, err := Find(rel); err != nil {
			t.Error(err)
		}
	}
}
