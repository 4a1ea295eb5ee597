package contract

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// pathEntries are the overlay entries that add whole operations; each names
// a request that reaches the added operation and a valid response to it.
var pathEntries = map[string]struct {
	method, path string
	body         string
}{
	"/paths/~1{apiVersion}~1lke~1tiers~1{tier}~1versions": {
		"GET", "/v4beta/lke/tiers/standard/versions", list(`{"id":"1.31","tier":"standard"}`)},
	"/paths/~1{apiVersion}~1lke~1tiers~1{tier}~1versions~1{version}": {
		"GET", "/v4beta/lke/tiers/enterprise/versions/v1.31.1+lke1", `{"id":"v1.31.1+lke1","tier":"enterprise"}`},
	"/paths/~1{apiVersion}~1object-storage~1buckets~1{regionId}~1{bucket}~1access/get": {
		"GET", "/v4/object-storage/buckets/us-ord/b/access", `{"acl":"public-read","acl_xml":"<x/>","cors_enabled":true,"cors_xml":"<y/>"}`},
	"/paths/~1{apiVersion}~1object-storage~1endpoints": {
		"GET", "/v4/object-storage/endpoints", list(`{"region":"us-ord","endpoint_type":"E3","s3_endpoint":"us-ord-1.linodeobjects.com"}`)},
	"/paths/~1{apiVersion}~1networking~1firewalls~1settings": {
		"GET", "/v4/networking/firewalls/settings", `{"default_firewall_ids":{"linode":1,"nodebalancer":null,"public_interface":null,"vpc_interface":2}}`},
	"/paths/~1{apiVersion}~1networking~1firewalls~1templates": {
		"GET", "/v4/networking/firewalls/templates", list(`{"slug":"public","rules":{"inbound":[{"action":"ACCEPT","protocol":"ICMP","label":"accept-inbound-icmp","addresses":{"ipv4":["0.0.0.0/0"]}}],"inbound_policy":"DROP","outbound":[],"outbound_policy":"ACCEPT"}}`)},
	"/paths/~1{apiVersion}~1regions~1vpc-availability": {
		"GET", "/v4/regions/vpc-availability", list(`{"region":"us-ord","available":true,"available_ipv6_prefix_lengths":[52,48]}`)},
	"/paths/~1{apiVersion}~1regions~1{regionId}~1vpc-availability": {
		"GET", "/v4/regions/us-ord/vpc-availability", `{"region":"us-ord","available":false,"available_ipv6_prefix_lengths":[]}`},
}

// shadowedPaths are added operations whose path the bare spec routes to
// another operation (a literal segment where the spec has a parameter):
// without the overlay the response breaks that operation's schema.
var shadowedPaths = map[string]string{
	"/paths/~1{apiVersion}~1networking~1firewalls~1settings":  "get-firewall",
	"/paths/~1{apiVersion}~1networking~1firewalls~1templates": "get-firewall",
	"/paths/~1{apiVersion}~1regions~1vpc-availability":        "get-region",
}

func overlayOps(t testing.TB) []patchOp {
	t.Helper()
	ops, err := parsePatch(overlayJSON)
	if err != nil {
		t.Fatalf("embedded overlay: %v", err)
	}
	return ops
}

// schemaAt follows a schema-level overlay pointer through a loaded document,
// for entries whose subject exists only in the bare spec (removals).
func schemaAt(v *Validator, pointer string) (*openapi3.Schema, error) {
	tok, err := splitPointer(pointer)
	if err != nil {
		return nil, err
	}
	op := v.doc.Paths.Value(tok[1]).GetOperation(strings.ToUpper(tok[2]))
	if op == nil {
		return nil, fmt.Errorf("no operation %s %s", tok[2], tok[1])
	}
	s := op.Responses.Value(tok[4]).Value.Content[tok[6]].Schema.Value
	for i := 8; i < len(tok) && s != nil; i++ {
		switch tok[i] {
		case "properties":
			i++
			ref := s.Properties[tok[i]]
			if ref == nil {
				return nil, fmt.Errorf("no property %q", tok[i])
			}
			s = ref.Value
		case "items":
			s = s.Items.Value
		case "allOf":
			// The validator merged the list envelope's allOf; its members are
			// now the schema's own.
			i++
		}
	}
	if s == nil {
		return nil, fmt.Errorf("no schema at %s", pointer)
	}
	return s, nil
}

// responseTarget is where a schema-level overlay entry acts: the operation
// and status, and the JSON path inside the response body.
type responseTarget struct {
	template, method, status string
	body                     []string // "properties" names and "items" steps
}

// schemaTarget reads a pointer of the form
// /paths/{template}/{method}/responses/{status}/content/application~1json/schema/…
func schemaTarget(pointer string) (responseTarget, bool) {
	tok, err := splitPointer(pointer)
	if err != nil || len(tok) < 9 || tok[0] != "paths" || tok[3] != "responses" ||
		tok[5] != "content" || tok[6] != "application/json" || tok[7] != "schema" {
		return responseTarget{}, false
	}
	rt := responseTarget{template: tok[1], method: tok[2], status: tok[4]}
	rest := tok[8:]
	for i := 0; i < len(rest); i++ {
		switch rest[i] {
		case "properties":
			if i+1 >= len(rest) {
				return responseTarget{}, false
			}
			rt.body = append(rt.body, rest[i+1])
			i++
		case "items":
			rt.body = append(rt.body, "[]")
		case "allOf":
			i++ // the part index: the body does not see allOf
		default:
			return responseTarget{}, false
		}
	}
	return rt, len(rt.body) > 0 && rt.body[len(rt.body)-1] != "[]"
}

// requestPath fills a template's parameters; the validator matches paths,
// so any non-empty value selects the operation.
func requestPath(template string) string {
	return regexp.MustCompile(`\{[^}]+\}`).ReplaceAllStringFunc(template, func(p string) string {
		if p == "{apiVersion}" {
			return "v4beta"
		}
		return "1"
	})
}

// bodyWith builds the smallest response body that holds value at the path,
// wrapped in the list envelope when the path goes through data[].
func bodyWith(path []string, value any) ([]byte, string) {
	v := value
	for i := len(path) - 1; i >= 0; i-- {
		if path[i] == "[]" {
			v = []any{v}
		} else {
			v = map[string]any{path[i]: v}
		}
	}
	if len(path) > 1 && path[0] == "data" && path[1] == "[]" {
		v.(map[string]any)["page"], v.(map[string]any)["pages"], v.(map[string]any)["results"] = 1, 1, 1
	}
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	pointer := ""
	for _, p := range path {
		if p == "[]" {
			p = "0"
		}
		pointer += "/" + p
	}
	return data, pointer
}

// exampleOf returns the "example" member of a schema, else its first enum value.
func exampleOf(schema any) (any, bool) {
	m, ok := schema.(map[string]any)
	if !ok {
		return nil, false
	}
	if ex, ok := m["example"]; ok {
		return ex, true
	}
	if enum, ok := m["enum"].([]any); ok && len(enum) > 0 {
		return enum[0], true
	}
	return nil, false
}

// Every overlay entry is needed and works: a response using what the entry
// adds passes with the overlay and fails without it, naming the member; a
// response using what an entry removes fails with the overlay only.
func TestOverlayEntriesAreEachExercised(t *testing.T) {
	t.Parallel()
	with, without := validator(t), loadWithoutOverlay(t)
	ops := overlayOps(t)
	if len(ops) == 0 {
		t.Fatal("the overlay is empty")
	}
	for i, op := range ops {
		t.Run(fmt.Sprintf("%03d %s %s", i, op.Op, strings.TrimPrefix(op.Path, "/paths/")), func(t *testing.T) {
			t.Parallel()
			if pe, ok := pathEntries[op.Path]; ok {
				if op.Op != "add" {
					t.Fatalf("operation-level entry is %q, want add", op.Op)
				}
				if err := with.ValidateResponse(pe.method, pe.path, 200, jsonHeader(), []byte(pe.body)); err != nil {
					t.Errorf("with the overlay: %v", err)
				}
				err := without.ValidateResponse(pe.method, pe.path, 200, jsonHeader(), []byte(pe.body))
				if other, ok := shadowedPaths[op.Path]; ok {
					if !errors.Is(err, ErrContract) || !strings.Contains(fmt.Sprint(err), other) {
						t.Errorf("without the overlay: got %v, want %v from %s", err, ErrContract, other)
					}
					return
				}
				if !errors.Is(err, ErrUnknownOperation) {
					t.Errorf("without the overlay: got %v, want %v", err, ErrUnknownOperation)
				}
				return
			}
			target, ok := schemaTarget(op.Path)
			if !ok {
				t.Fatalf("entry is neither a response member nor listed in pathEntries: add a test for it")
			}
			var value any
			var passes, fails *Validator
			switch op.Op {
			case "add", "replace":
				var schema any
				if err := json.Unmarshal(op.Value, &schema); err != nil {
					t.Fatal(err)
				}
				if value, ok = exampleOf(schema); !ok {
					t.Fatal(`the added schema has no "example" (nor enum) to build a response from`)
				}
				passes, fails = with, without
			case "remove":
				schema, err := schemaAt(without, op.Path)
				if err != nil {
					t.Fatalf("removed member not in the bare spec: %v", err)
				}
				switch {
				case schema.Example != nil:
					value = schema.Example
				case len(schema.Enum) > 0:
					value = schema.Enum[0]
				default:
					t.Fatal("the removed schema has no example or enum")
				}
				passes, fails = without, with
			default:
				t.Fatalf("no exercise for op %q", op.Op)
			}
			body, pointer := bodyWith(target.body, value)
			method, path := strings.ToUpper(target.method), requestPath(target.template)
			status := 200
			if _, err := fmt.Sscan(target.status, &status); err != nil {
				t.Fatalf("status %q: %v", target.status, err)
			}
			if err := passes.ValidateResponse(method, path, status, jsonHeader(), body); err != nil {
				t.Errorf("%s %s %s: want valid, got %v", method, path, body, err)
			}
			err := fails.ValidateResponse(method, path, status, jsonHeader(), body)
			if !errors.Is(err, ErrContract) {
				t.Fatalf("%s %s %s: want %v, got %v", method, path, body, ErrContract, err)
			}
			member := target.body[len(target.body)-1]
			if !strings.Contains(err.Error(), `"`+member+`"`) && !strings.Contains(err.Error(), pointer) {
				t.Errorf("error %q names neither %q nor %s", err, member, pointer)
			}
		})
	}
}

// Each entry says why it exists and cites the linodego field it matches.
func TestOverlayEntriesCiteLinodego(t *testing.T) {
	t.Parallel()
	cite := regexp.MustCompile("linodego(\\.| v1\\.69\\.1 linodego\\.)[A-Z][A-Za-z]*(\\.[A-Z][A-Za-z]*)?( `json:\"[a-z0-9_-]+(,[a-z]+)?\"`)?")
	for i, op := range overlayOps(t) {
		if !cite.MatchString(op.Note) {
			t.Errorf("entry %d (%s %s): note %q cites no linodego type or field", i, op.Op, op.Path, op.Note)
		}
		if !strings.Contains(op.Note, "json:") && !strings.Contains(op.Note, "calls") {
			t.Errorf("entry %d (%s %s): note %q names no JSON member", i, op.Op, op.Path, op.Note)
		}
	}
}

func TestOverlayKeepsUnknownMembersOut(t *testing.T) {
	t.Parallel()
	v := validator(t)
	// Members the overlay adds nowhere stay unknown, at the top level and inside
	// the objects the overlay adds.
	tests := []struct {
		name, method, path, body, member string
	}{
		{"cluster", "GET", "/v4/lke/clusters/1", `{"id":1,"node_pools":[]}`, "node_pools"},
		{"added control_plane", "POST", "/v4/lke/clusters", `{"control_plane":{"high_availability":true,"ha":true}}`, "ha"},
		{"added tier version", "GET", "/v4beta/lke/tiers/standard/versions/1.31", `{"id":"1.31","tier":"standard","eol":"2026-01-01"}`, "eol"},
		{"added firewall entity", "GET", "/v4/networking/firewalls/1", `{"entities":[{"id":1,"parent_entity":null}]}`, "parent_entity"},
		{"added endpoint", "GET", "/v4/object-storage/endpoints", list(`{"region":"us-ord","cluster":"us-ord-1"}`), "cluster"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := v.ValidateResponse(tt.method, tt.path, 200, jsonHeader(), []byte(tt.body))
			if !errors.Is(err, ErrContract) || !strings.Contains(err.Error(), `"`+tt.member+`"`) {
				t.Errorf("ValidateResponse = %v, want %v naming %q", err, ErrContract, tt.member)
			}
		})
	}
}

// miniSpec is a small document shaped like Linode's (written for this test,
// not taken from the spec): one operation, the shared error envelope.
const miniSpec = `openapi: 3.0.1
info: {title: mini, version: "1"}
components:
  responses:
    error-response:
      description: error
      content:
        application/json:
          schema:
            type: object
            additionalProperties: false
            properties:
              errors:
                type: array
                items:
                  type: object
                  additionalProperties: false
                  properties: {field: {type: string}, reason: {type: string}}
paths:
  /{apiVersion}/lke/clusters/{clusterId}:
    parameters:
    - {in: path, name: apiVersion, required: true, schema: {type: string, enum: [v4, v4beta]}}
    - {in: path, name: clusterId, required: true, schema: {type: integer}}
    get:
      responses:
        "200":
          description: a cluster
          content:
            application/json:
              schema:
                type: object
                additionalProperties: false
                properties: {id: {type: integer}, label: {type: string}}
`

func TestLoadRejectsBrokenOverlays(t *testing.T) {
	t.Parallel()
	spec := t.TempDir() + "/mini.yaml"
	if err := os.WriteFile(spec, []byte(miniSpec), 0o600); err != nil {
		t.Fatal(err)
	}
	const cluster = "/paths/~1{apiVersion}~1lke~1clusters~1{clusterId}/get/responses/200/content/application~1json/schema/properties/"
	tests := []struct {
		name  string
		patch string
		want  string // "" when the overlay must load
	}{
		{"a good entry", `[{"op":"add","path":"` + cluster + `tier","value":{"type":"string"},"note":"n"}]`, ""},
		{"adds a member the spec already has", `[{"op":"add","path":"` + cluster + `label","value":{"type":"string"},"note":"n"}]`, "already exists"},
		{"replaces a member the spec lacks", `[{"op":"replace","path":"` + cluster + `nope","value":{"type":"string"},"note":"n"}]`, `no member "nope"`},
		{"walks a path the spec lacks", `[{"op":"add","path":"/paths/~1nowhere/get/x","value":{},"note":"n"}]`, `no member "/nowhere"`},
		{"adds an invalid schema", `[{"op":"add","path":"` + cluster + `zzz","value":{"type":"integr"},"note":"n"}]`, "integr"},
		{"adds a path outside /{apiVersion}", `[{"op":"add","path":"/paths/~1x","value":{"get":{"responses":{"200":{"description":"d"}}}},"note":"n"}]`, "does not start with /{apiVersion}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ops, err := parsePatch([]byte(tt.patch))
			if err != nil {
				t.Fatalf("parsePatch: %v", err)
			}
			v, err := load(spec, ops)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("load: %v", err)
				}
				h := jsonHeader()
				if err := v.ValidateResponse("GET", "/v4/lke/clusters/1", 200, h, []byte(`{"id":1,"tier":"standard"}`)); err != nil {
					t.Errorf("response using the added member: %v", err)
				}
				if err := v.ValidateResponse("GET", "/v4/lke/clusters/1", 404, h, []byte(`{"errors":[{"reason":"Not found"}]}`)); err != nil {
					t.Errorf("404 through the added default response: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("load = %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
}
