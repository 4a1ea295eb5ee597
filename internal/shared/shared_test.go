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
// upstream files it needs: absent, it fails (never skips) here and in CI.
func TestRepoSpecPresent(t *testing.T) {
	if !InThisRepo() {
		t.Fatal("InThisRepo() = false inside the repository")
	}
	for _, rel := range []string{"linode-api/openapi.yaml", "charts/index.yaml"} {
		if _, err := Find(rel); err != nil {
			t.Error(err)
		}
	}
}
