package controlplane

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// repoRoot is the checkout's root, from this package's directory.
var repoRoot = filepath.Join("..", "..")

func readRepoFile(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, rel))
	if err != nil {
		t.Fatalf("read %s: %v", rel, err)
	}
	return string(b)
}

// TestVersionsMatchTools checks that the harness looks for the versions that
// hack/controlplane.sh builds, and that the modules stay as designed.
func TestVersionsMatchTools(t *testing.T) {
	t.Parallel()
	k8sMod := readRepoFile(t, "tools/k8s/go.mod")
	etcdMod := readRepoFile(t, "tools/etcd/go.mod")
	script := readRepoFile(t, "hack/controlplane.sh")
	rootMod := readRepoFile(t, "go.mod")
	stagingVersion := "v0" + strings.TrimPrefix(kubernetesVersion, "v1") // v1.37.2 → v0.37.2

	tests := []struct {
		name, text, pattern string
	}{
		{"tools/k8s requires k8s.io/kubernetes", k8sMod, `(?m)^\s*(require\s+)?k8s\.io/kubernetes ` + regexp.QuoteMeta(kubernetesVersion) + `\s*$`},
		{"tools/etcd requires the etcd server", etcdMod, `(?m)^\s*(require\s+)?go\.etcd\.io/etcd/server/v3 ` + regexp.QuoteMeta(etcdVersion) + `\s*$`},
		{"the script installs kwok", script, `(?m)^KWOK_VERSION=` + regexp.QuoteMeta(kwokVersion) + `$`},
		{"tools/k8s is its own module", k8sMod, `(?m)^module github\.com/org/platform/tools/k8s$`},
		{"tools/etcd is its own module", etcdMod, `(?m)^module github\.com/org/platform/tools/etcd$`},
	}
	for _, tt := range tests {
		if !regexp.MustCompile(tt.pattern).MatchString(tt.text) {
			t.Errorf("%s: no line matches %s", tt.name, tt.pattern)
		}
	}

	// Every staging module is replaced by its published release.
	replaces := regexp.MustCompile(`(?m)^\s*(k8s\.io/[a-z0-9-]+) => (k8s\.io/[a-z0-9-]+) (v\S+)\s*$`).FindAllStringSubmatch(k8sMod, -1)
	if len(replaces) != 33 {
		t.Errorf("tools/k8s/go.mod has %d staging replaces, want 33", len(replaces))
	}
	for _, r := range replaces {
		if r[1] != r[2] || r[3] != stagingVersion {
			t.Errorf("replace %s => %s %s; want the same module at %s", r[1], r[2], r[3], stagingVersion)
		}
	}

	// The root module never depends on k8s.io/kubernetes nor on the tools.
	for _, forbidden := range []string{"k8s.io/kubernetes ", "github.com/org/platform/tools/"} {
		if strings.Contains(rootMod, forbidden) {
			t.Errorf("root go.mod mentions %q", strings.TrimSpace(forbidden))
		}
	}
}
