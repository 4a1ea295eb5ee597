package spec_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/org/platform/pkg/spec"
)

// FuzzLoad asserts that Load never panics, that every error it returns
// wraps ErrInvalid, and that what it accepts survives Validate, a second
// ApplyDefaults and a YAML round trip unchanged.
func FuzzLoad(f *testing.F) {
	for _, pattern := range []string{"testdata/*.yaml", "testdata/invalid/*.yaml"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	for _, seed := range []string{"", "null", "[]", "name: 1", "cluster: {nodePools: [null, 1, {}]}", "a: &a [*a]", "namespaces: [{labels: {a: [b]}}]"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		env, err := spec.Load(data)
		if err != nil {
			if !errors.Is(err, spec.ErrInvalid) {
				t.Fatalf("Load error does not wrap ErrInvalid: %v", err)
			}
			return
		}
		_ = env.Validate() // must not panic; any verdict is fine

		again := env
		again.ApplyDefaults()
		if a, b := mustJSON(t, env), mustJSON(t, again); a != b {
			t.Fatalf("ApplyDefaults after Load changed the spec:\n%s\n%s", a, b)
		}
		out, err := yaml.Marshal(env)
		if err != nil {
			t.Fatalf("marshal loaded spec: %v", err)
		}
		back, err := spec.Load(out)
		if err != nil {
			t.Fatalf("loading a marshalled spec: %v\n%s", err, out)
		}
		if a, b := mustJSON(t, env), mustJSON(t, back); a != b {
			t.Fatalf("round trip changed the spec:\n%s\n%s", a, b)
		}
	})
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
