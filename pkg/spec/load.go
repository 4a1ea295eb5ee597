package spec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"
)

// Load parses a YAML (or JSON) environment spec and applies defaults to the
// fields it leaves unset (see ApplyDefaults). It does not validate: call
// Validate, or use LoadAndValidate.
//
// Load is strict. A field the types do not have, a value of the wrong type
// (an unquoted 1.33 where a string is expected) and a key given twice are
// errors; Load then returns a zero Environment and FieldErrors naming every
// such field by its path, for example
//
//	cluster.nodePools[general].autoscalr: unknown field (did you mean "autoscaler"?)
//
// YAML that does not parse yields an error that wraps both ErrInvalid and the
// parser's error. Every error Load returns wraps ErrInvalid.
func Load(data []byte) (Environment, error) {
	js, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return Environment{}, fmt.Errorf("parse environment YAML: %w: %w", ErrInvalid, err)
	}

	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return Environment{}, fmt.Errorf("parse environment YAML: %w: %w", ErrInvalid, err)
	}
	if doc == nil {
		return Environment{}, FieldErrors{{Message: "empty document: an environment spec needs at least name and cluster"}}
	}
	var c collector
	checkShape(&c, "", doc, reflect.TypeFor[Environment]())
	if len(c.errs) > 0 {
		return Environment{}, c.errs
	}

	// checkShape has ruled out every error the decoder reports; strictness
	// here is a second line of defence.
	dec = json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	var env Environment
	if err := dec.Decode(&env); err != nil {
		return Environment{}, fmt.Errorf("decode environment spec: %w: %w", ErrInvalid, err)
	}
	env.ApplyDefaults()
	return env, nil
}

// LoadFile reads the file at path and loads it with Load.
func LoadFile(path string) (Environment, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Environment{}, fmt.Errorf("read environment spec: %w", err)
	}
	env, err := Load(data)
	if err != nil {
		return Environment{}, fmt.Errorf("load %s: %w", path, err)
	}
	return env, nil
}

// LoadAndValidate loads data with Load and validates the result. It returns
// the Environment only when both succeed.
func LoadAndValidate(data []byte) (Environment, error) {
	env, err := Load(data)
	if err != nil {
		return Environment{}, err
	}
	if err := env.Validate(); err != nil {
		return Environment{}, err
	}
	return env, nil
}

// checkShape reports every field of v, a document decoded from JSON with
// UseNumber, that has no counterpart in t or the wrong JSON type. A null
// value is accepted anywhere: it leaves the field unset.
func checkShape(c *collector, p fieldPath, v any, t reflect.Type) {
	if v == nil {
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		checkShape(c, p, v, t.Elem())
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			if p == "" {
				c.add(p, "the document must be a mapping (got %s)", jsonKind(v))
				return
			}
			c.add(p, "must be a mapping (got %s)", jsonKind(v))
			return
		}
		fields := jsonFields(t)
		for _, k := range sortedKeys(m) {
			f, ok := fields[k]
			if !ok {
				c.add(p.field(k), "unknown field%s", suggest(k, fields))
				continue
			}
			checkShape(c, p.field(k), m[k], f.Type)
		}
	case reflect.Slice:
		l, ok := v.([]any)
		if !ok {
			c.add(p, "must be a list (got %s)", jsonKind(v))
			return
		}
		keys := EntryKeys(entryNames(l, t.Elem()))
		for i, e := range l {
			checkShape(c, p.key(keys[i]), e, t.Elem())
		}
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			c.add(p, "must be a mapping (got %s)", jsonKind(v))
			return
		}
		for _, k := range sortedKeys(m) {
			checkShape(c, p.key(k), m[k], t.Elem())
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			if _, isNum := v.(json.Number); isNum {
				c.add(p, "must be a string (got %s: quote it)", jsonKind(v))
				return
			}
			c.add(p, "must be a string (got %s)", jsonKind(v))
		}
	case reflect.Int:
		n, ok := v.(json.Number)
		if !ok {
			c.add(p, "must be an integer (got %s)", jsonKind(v))
			return
		}
		if _, err := strconv.ParseInt(n.String(), 10, strconv.IntSize); err != nil {
			c.add(p, "must be an integer (got %s)", jsonKind(v))
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			c.add(p, "must be true or false (got %s)", jsonKind(v))
		}
	default:
		// The spec types hold nothing else; a new kind must be taught here.
		panic(fmt.Sprintf("spec: checkShape: unhandled kind %s at %s", t.Kind(), p))
	}
}

// jsonKind describes a decoded JSON value for a message; strings that look
// like secrets are not repeated.
func jsonKind(v any) string {
	switch v := v.(type) {
	case string:
		return "string " + quote(v)
	case json.Number:
		return "number " + v.String()
	case bool:
		return "boolean " + strconv.FormatBool(v)
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	default:
		return fmt.Sprintf("%T", v)
	}
}

// jsonFields maps the JSON names of t's fields to the fields.
func jsonFields(t reflect.Type) map[string]reflect.StructField {
	fields := make(map[string]reflect.StructField, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		if name := jsonName(f); name != "" {
			fields[name] = f
		}
	}
	return fields
}

// jsonName returns the JSON name of f, or "" when f is not encoded.
func jsonName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	switch name {
	case "-":
		return ""
	case "":
		return f.Name
	}
	return name
}

// nameKey returns the JSON name of the field that names entries of a list of
// t ("name" or "label"), or "" when entries are named by index.
func nameKey(t reflect.Type) string {
	if t.Kind() != reflect.Struct {
		return ""
	}
	for _, key := range []string{"name", "label"} {
		if f, ok := jsonFields(t)[key]; ok && f.Type.Kind() == reflect.String {
			return key
		}
	}
	return ""
}

// entryNames returns the names of the decoded list entries l of element type
// t, "" where an entry has none.
func entryNames(l []any, t reflect.Type) []string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	key := nameKey(t)
	names := make([]string, len(l))
	if key == "" {
		return names
	}
	for i, e := range l {
		if m, ok := e.(map[string]any); ok {
			names[i], _ = m[key].(string)
		}
	}
	return names
}

// sortedKeys returns the keys of m in order, so errors come out stable.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// suggest returns ` (did you mean "x"?)` for the known field closest to an
// unknown one, or "" when none is close.
func suggest(unknown string, fields map[string]reflect.StructField) string {
	best, bestDist := "", 3
	for _, name := range sortedKeys(fields) {
		d := editDistance(strings.ToLower(unknown), strings.ToLower(name))
		if d < bestDist {
			best, bestDist = name, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
