package spec_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestLeafImports keeps pkg/spec a leaf: its non-test code imports the
// standard library, sigs.k8s.io/yaml and apimachinery's validation and
// quantity rules only: nothing of this module, no Kubernetes or Linode
// client, no schema generator.
func TestLeafImports(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{
		"sigs.k8s.io/yaml":                        true,
		"k8s.io/apimachinery/pkg/util/validation": true,
		"k8s.io/apimachinery/pkg/api/resource":    true,
	}
	checked := 0
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		for _, imp := range f.Imports {
			path, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				t.Fatal(err)
			}
			stdlib := !strings.Contains(strings.Split(path, "/")[0], ".")
			if !stdlib && !allowed[path] {
				t.Errorf("%s imports %s; pkg/spec may import only the standard library, sigs.k8s.io/yaml and %d apimachinery rule packages", file, path, len(allowed)-1)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no non-test Go files found")
	}
}
