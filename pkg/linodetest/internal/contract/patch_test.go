package contract

import (
	"errors"
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"
)

const patchDoc = `
a:
  b: 1
  "x/y": 2
  "t~u": 3
list: [10, 20, 30]
`

func TestApplyPatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		patch string
		want  string // JSON of the result; empty when an error is wanted
		err   string
	}{
		{"add member", `[{"op":"add","path":"/a/c","value":{"k":[1]},"note":"n"}]`,
			`{"a":{"b":1,"c":{"k":[1]},"t~u":3,"x/y":2},"list":[10,20,30]}`, ""},
		{"escaped tokens", `[{"op":"replace","path":"/a/x~1y","value":5,"note":"n"},{"op":"remove","path":"/a/t~0u","note":"n"}]`,
			`{"a":{"b":1,"x/y":5},"list":[10,20,30]}`, ""},
		{"replace member", `[{"op":"replace","path":"/a/b","value":"one","note":"n"}]`,
			`{"a":{"b":"one","t~u":3,"x/y":2},"list":[10,20,30]}`, ""},
		{"remove member", `[{"op":"remove","path":"/a/b","note":"n"}]`,
			`{"a":{"t~u":3,"x/y":2},"list":[10,20,30]}`, ""},
		{"array insert, append, replace, remove", `[
			{"op":"add","path":"/list/1","value":15,"note":"n"},
			{"op":"add","path":"/list/-","value":40,"note":"n"},
			{"op":"add","path":"/list/5","value":50,"note":"n"},
			{"op":"replace","path":"/list/0","value":5,"note":"n"},
			{"op":"remove","path":"/list/2","note":"n"}]`,
			`{"a":{"b":1,"t~u":3,"x/y":2},"list":[5,15,30,40,50]}`, ""},
		{"test passes", `[{"op":"test","path":"/list","value":[10,20,30],"note":"n"}]`,
			`{"a":{"b":1,"t~u":3,"x/y":2},"list":[10,20,30]}`, ""},
		{"test fails", `[{"op":"test","path":"/a/b","value":2,"note":"n"}]`, "", "test failed"},
		{"add refuses to overwrite", `[{"op":"add","path":"/a/b","value":2,"note":"n"}]`, "", "already exists"},
		{"replace needs the member", `[{"op":"replace","path":"/a/zz","value":2,"note":"n"}]`, "", `no member "zz"`},
		{"remove needs the member", `[{"op":"remove","path":"/a/zz","note":"n"}]`, "", `no member "zz"`},
		{"missing parent", `[{"op":"add","path":"/nope/x","value":1,"note":"n"}]`, "", `no member "nope"`},
		{"index out of range", `[{"op":"replace","path":"/list/3","value":1,"note":"n"}]`, "", "out of range"},
		{"leading zero index", `[{"op":"remove","path":"/list/01","note":"n"}]`, "", "bad array index"},
		{"step into a scalar", `[{"op":"add","path":"/a/b/c","value":1,"note":"n"}]`, "", "not an object or array"},
		{"whole document", `[{"op":"replace","path":"","value":1,"note":"n"}]`, "", "whole document"},
		{"stops at the first failure", `[{"op":"add","path":"/a/c","value":1,"note":"n"},{"op":"remove","path":"/zz","note":"n"}]`, "", "patch entry 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var doc yaml.Node
			if err := yaml.Unmarshal([]byte(patchDoc), &doc); err != nil {
				t.Fatal(err)
			}
			ops, err := parsePatch([]byte(tt.patch))
			if err != nil {
				t.Fatalf("parsePatch: %v", err)
			}
			err = applyPatch(&doc, ops)
			if tt.err != "" {
				if !errors.Is(err, errPatch) || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("applyPatch = %v, want an error mentioning %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("applyPatch: %v", err)
			}
			var got any
			if err := doc.Decode(&got); err != nil {
				t.Fatal(err)
			}
			if s := compactJSON(got); s != tt.want {
				t.Errorf("result %s, want %s", s, tt.want)
			}
		})
	}
}

func TestParsePatchRejects(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, patch, want string }{
		{"not an array", `{"op":"add"}`, "decode JSON patch"},
		{"unknown member", `[{"op":"add","path":"/a","value":1,"note":"n","why":"x"}]`, "unknown field"},
		{"unsupported op", `[{"op":"move","from":"/a","path":"/b","note":"n"}]`, "unknown field"},
		{"unsupported op without from", `[{"op":"copy","path":"/b","note":"n"}]`, `unsupported op "copy"`},
		{"no note", `[{"op":"add","path":"/a","value":1}]`, "note is required"},
		{"blank note", `[{"op":"remove","path":"/a","note":"  "}]`, "note is required"},
		{"no value", `[{"op":"replace","path":"/a","note":"n"}]`, "value is required"},
		{"relative pointer", `[{"op":"remove","path":"a","note":"n"}]`, "must start with /"},
		{"bad escape", `[{"op":"remove","path":"/a~2","note":"n"}]`, "bad escape"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := parsePatch([]byte(tt.patch)); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("parsePatch = %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
}
