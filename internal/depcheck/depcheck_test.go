package depcheck

import (
	"bufio"
	"bytes"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const mod = "github.com/org/platform"

// deps returns the transitive imports of pkg (module-relative, e.g. "pkg/cluster").
// A package that does not exist yet yields nil.
func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-e", "-deps", "-f", "{{.ImportPath}}", mod+"/"+pkg).Output()
	if err != nil {
		t.Fatalf("go list %s: %v", pkg, err)
	}
	var ds []string
	s := bufio.NewScanner(bytes.NewReader(out))
	for s.Scan() {
		ds = append(ds, s.Text())
	}
	return ds
}

func TestImportDirection(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pkg       string
		forbidden []string // prefixes
	}{
		{"pkg/spec", []string{mod + "/"}},
		{"pkg/change", []string{mod + "/"}},
		// No package under pkg/ imports the harness or the embedded default:
		// TestPkgStaysBelowTheEmbeddedDefault checks all of them.
		// pkg/cluster talks to Linode only: no Kubernetes client, API types or
		// object machinery. It may inherit, through pkg/spec, apimachinery's
		// validation of names, labels and quantities (pure string rules).
		{"pkg/cluster", []string{"k8s.io/client-go", "k8s.io/api/", "k8s.io/apimachinery/pkg/apis", "k8s.io/apimachinery/pkg/runtime/schema", "k8s.io/apimachinery/pkg/watch", "helm.sh/", mod + "/pkg/network", mod + "/pkg/secrets", mod + "/pkg/observability"}},
		{"pkg/network", []string{mod + "/pkg/cluster", mod + "/pkg/secrets", mod + "/pkg/observability", mod + "/pkg/ingress", "helm.sh/", mod + "/pkg/gitops"}},
		{"pkg/secrets", []string{mod + "/pkg/cluster", mod + "/pkg/network", mod + "/pkg/observability", mod + "/pkg/ingress", mod + "/pkg/gitops"}},
		{"pkg/observability", []string{mod + "/pkg/cluster", mod + "/pkg/network", mod + "/pkg/secrets", mod + "/pkg/ingress", mod + "/pkg/gitops"}},
		{"pkg/ingress", []string{mod + "/pkg/cluster", mod + "/pkg/network", mod + "/pkg/secrets", mod + "/pkg/observability", mod + "/pkg/rollout", "github.com/linode/linodego", mod + "/pkg/gitops"}},
		// Argo CD and the GitOps wiring: a concern beside the others; it
		// builds on internal/helmrelease and internal/kubeobjects only.
		{"pkg/gitops", []string{mod + "/pkg/cluster", mod + "/pkg/network", mod + "/pkg/secrets", mod + "/pkg/observability", mod + "/pkg/ingress", mod + "/pkg/rollout", "github.com/linode/linodego"}},
		{"pkg/linodetest", []string{"k8s.io/", "helm.sh/"}},
		// The record store sits beside the leaves: it knows specs and
		// changes, never a concern or a client of Linode or Kubernetes.
		{"pkg/store", []string{mod + "/pkg/cluster", mod + "/pkg/network", mod + "/pkg/secrets", mod + "/pkg/observability", mod + "/pkg/rollout", "k8s.io/client-go", "github.com/linode/linodego", "helm.sh/"}},
		{"pkg/linodeclient", []string{mod + "/", "k8s.io/", "helm.sh/"}},
		// The Object Storage bucket and key, made through linodego: a
		// concern beside the others, importing none of them nor the S3 store.
		// Environment access metadata: a concern of its own over specs and
		// the Linode API, serving no credential; it imports no other
		// concern (dashboards come through its Source), no Kubernetes or
		// Helm client and nothing that holds secrets.
		{"pkg/access", []string{mod + "/pkg/cluster", mod + "/pkg/network", mod + "/pkg/secrets", mod + "/pkg/observability", mod + "/pkg/ingress", mod + "/pkg/rollout", mod + "/pkg/store", mod + "/pkg/objectstorage", mod + "/internal/", "k8s.io/client-go", "k8s.io/api/", "helm.sh/"}},
		{"pkg/objectstorage", []string{mod + "/pkg/cluster", mod + "/pkg/network", mod + "/pkg/secrets", mod + "/pkg/observability", mod + "/pkg/rollout", mod + "/pkg/store", "k8s.io/", "helm.sh/"}},
	}
	// Prefixes exempt from forbidden: k8s.io/utils/clock (and its testing
	// fake) import nothing but the standard library; internal/clock and the
	// simulator's ManualClock build on them.
	allowed := map[string][]string{"pkg/linodetest": {"k8s.io/utils/clock"}}
	for _, tt := range tests {
		t.Run(tt.pkg, func(t *testing.T) {
			t.Parallel()
			for _, d := range deps(t, tt.pkg) {
				if d == mod+"/"+tt.pkg {
					continue
				}
				// A leaf may use internal helpers only if they are leaves too;
				// pkg/spec and pkg/change use none.
				if slices.ContainsFunc(allowed[tt.pkg], func(a string) bool { return strings.HasPrefix(d, a) }) {
					continue
				}
				for _, f := range tt.forbidden {
					if strings.HasPrefix(d, f) && !strings.HasPrefix(d, mod+"/"+tt.pkg+"/") {
						t.Errorf("%s imports %s (forbidden: %s)", tt.pkg, d, f)
					}
				}
			}
		})
	}
}

func TestNoMainImported(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-e", "-deps", "-f", "{{.ImportPath}} {{.Name}}", mod+"/pkg/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && f[1] == "main" && strings.HasPrefix(f[0], mod) {
			t.Errorf("a package under pkg/ depends on main package %s", f[0])
		}
	}
}

// TestPkgStaysBelowTheEmbeddedDefault checks that no package under pkg/
// imports, directly or not, the test harness, the local control plane or
// the embedded default: those stand above the SDK, for the example
// programs, the actions and the tests.
func TestPkgStaysBelowTheEmbeddedDefault(t *testing.T) {
	t.Parallel()
	forbidden := []string{mod + "/internal/testutil", mod + "/internal/controlplane", mod + "/internal/local"}
	out, err := exec.Command("go", "list", "-e", "-f", `{{.ImportPath}} {{join .Deps " "}}`, mod+"/pkg/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	pkgs := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		pkgs++
		for _, d := range f[1:] {
			for _, p := range forbidden {
				if d == p || strings.HasPrefix(d, p+"/") {
					t.Errorf("%s imports %s (nothing under pkg/ may import %s)", f[0], d, p)
				}
			}
		}
	}
	if pkgs == 0 {
		t.Fatal("go list found no package under pkg/")
	}
}
