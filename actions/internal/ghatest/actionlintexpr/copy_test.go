package actionlintexpr

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSameAsActionlint checks that each copied file is actionlint's, the
// version go.mod names, but for the two-line header and the package clause.
func TestSameAsActionlint(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/rhysd/actionlint").Output()
	if err != nil {
		t.Fatalf("go list -m github.com/rhysd/actionlint: %v", err)
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		t.Fatal("github.com/rhysd/actionlint is not in the module cache (go mod download)")
	}
	for _, f := range []string{"expr.go", "expr_ast.go", "expr_lexer.go", "expr_parser.go", "quotes.go"} {
		orig, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		ours, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		_, body, ok := strings.Cut(string(ours), "\n\n") // the header
		want := strings.Replace(string(orig), "package actionlint\n", "package actionlintexpr\n", 1)
		if !ok || body != want {
			t.Errorf("%s differs from actionlint's %s", f, filepath.Join(dir, f))
		}
	}
}
