package spec_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/invopop/jsonschema"
	"sigs.k8s.io/yaml"

	"github.com/org/platform/pkg/spec"
)

const schemaFile = "environment.schema.json"

// generateSchema reflects the JSON Schema of spec.Environment, with
// descriptions from the doc comments of the package's source. It runs in
// the package directory, as go test does.
func generateSchema(t *testing.T) []byte {
	t.Helper()
	r := &jsonschema.Reflector{
		// One self-contained tree: no $defs to chase.
		DoNotReference: true,
		ExpandedStruct: true,
	}
	if err := r.AddGoComments("github.com/org/platform/pkg/spec", "."); err != nil {
		t.Fatalf("read doc comments: %v", err)
	}
	s := r.Reflect(&spec.Environment{})
	s.ID = spec.SchemaID
	s.Title = "Platform environment spec"
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // keep "<name>" readable in descriptions
	enc.SetIndent("", "  ")
	if err := enc.Encode(s); err != nil {
		t.Fatalf("encode schema: %v", err)
	}
	return b.Bytes()
}

// TestSchemaUpToDate fails when environment.schema.json no longer matches
// the types. Regenerate with go test ./pkg/spec -run TestSchemaUpToDate -update.
func TestSchemaUpToDate(t *testing.T) {
	t.Parallel()
	got := generateSchema(t)
	if *update {
		if err := os.WriteFile(schemaFile, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if want := spec.JSONSchema(); !bytes.Equal(got, want) {
		t.Errorf("%s is stale (run with -update, then review the diff); generated:\n%s", schemaFile, got)
	}
}

// loadSchema parses the committed schema for validation.
func loadSchema(t *testing.T) *openapi3.Schema {
	t.Helper()
	var s openapi3.Schema
	if err := json.Unmarshal(spec.JSONSchema(), &s); err != nil {
		t.Fatalf("parse %s: %v", schemaFile, err)
	}
	return &s
}

// yamlValue decodes a YAML file into the generic value a validator takes.
func yamlValue(t *testing.T, path string) any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(js, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestSchemaAcceptsExamples proves the schema admits every valid example.
func TestSchemaAcceptsExamples(t *testing.T) {
	t.Parallel()
	s := loadSchema(t)
	files := []string{"minimal.yaml"}
	for _, n := range spec.StandardNames() {
		files = append(files, n+".yaml")
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			t.Parallel()
			if err := s.VisitJSON(yamlValue(t, filepath.Join("testdata", f)), openapi3.MultiErrors()); err != nil {
				t.Errorf("schema rejects testdata/%s:\n%v", f, err)
			}
		})
	}
}

// TestSchemaRejects proves the schema rejects what Load rejects (unknown
// fields, wrong types) and what it can express of Validate (enumerations,
// required fields).
func TestSchemaRejects(t *testing.T) {
	t.Parallel()
	s := loadSchema(t)
	tests := []struct {
		file     string
		wantInEr string
	}{
		{"unknown-field.yaml", "clustr"},
		{"wrong-type.yaml", "kubernetesVersion"},
		{"firewall.yaml", "REJECT"},
		{"firewall-rules.yaml", "SCTP"},
		{"everything-missing.yaml", "name"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			err := s.VisitJSON(yamlValue(t, filepath.Join("testdata", "invalid", tt.file)), openapi3.MultiErrors())
			if err == nil {
				t.Fatalf("schema accepts testdata/invalid/%s", tt.file)
			}
			if !strings.Contains(err.Error(), tt.wantInEr) {
				t.Errorf("schema error does not mention %q:\n%v", tt.wantInEr, err)
			}
		})
	}
}

// TestSchemaShape checks what the generator promises: additionalProperties
// false on every object, and descriptions taken from the doc comments.
func TestSchemaShape(t *testing.T) {
	t.Parallel()
	var root map[string]any
	if err := json.Unmarshal(spec.JSONSchema(), &root); err != nil {
		t.Fatal(err)
	}
	objects := 0
	var walk func(path string, node map[string]any)
	walk = func(path string, node map[string]any) {
		if props, ok := node["properties"].(map[string]any); ok {
			objects++
			if node["additionalProperties"] != false {
				t.Errorf("%s: additionalProperties = %v, want false", path, node["additionalProperties"])
			}
			for name, p := range props {
				child := p.(map[string]any)
				if d, _ := child["description"].(string); d == "" {
					t.Errorf("%s.%s has no description", path, name)
				}
				walk(path+"."+name, child)
			}
		}
		if items, ok := node["items"].(map[string]any); ok {
			walk(path+"[]", items)
		}
	}
	walk("$", root)
	if objects < 20 {
		t.Errorf("walked %d object schemas; the types have more than 20 (is the schema expanded?)", objects)
	}
	cluster := root["properties"].(map[string]any)["cluster"].(map[string]any)
	label := cluster["properties"].(map[string]any)["label"].(map[string]any)
	if d := label["description"].(string); !strings.HasPrefix(d, "Label is the LKE cluster label") {
		t.Errorf("cluster.label description = %q, want the Go doc comment", d)
	}
	if req := root["required"]; !reflectContains(req, "name") || !reflectContains(req, "cluster") {
		t.Errorf("root required = %v, want name and cluster", req)
	}
}

func reflectContains(list any, s string) bool {
	l, _ := list.([]any)
	for _, v := range l {
		if v == s {
			return true
		}
	}
	return false
}
