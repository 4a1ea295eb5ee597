package contract

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v4"
)

// patchOp is one operation of an RFC 6902 JSON Patch. Note is an extra member
// (RFC 6902 §4 has appliers ignore members they do not know) that says why
// the entry exists and which linodego field it matches.
type patchOp struct {
	Op    string          `json:"op"`
	Path  string          `json:"path"`
	Value json.RawMessage `json:"value,omitempty"`
	Note  string          `json:"note"`
}

// errPatch marks a patch entry that does not apply to the document.
var errPatch = errors.New("patch does not apply")

// parsePatch decodes a JSON Patch document and checks that every entry is one
// of the supported operations, has a valid path and carries a note.
func parsePatch(data []byte) ([]patchOp, error) {
	var ops []patchOp
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ops); err != nil {
		return nil, fmt.Errorf("decode JSON patch: %w", err)
	}
	for i, op := range ops {
		switch op.Op {
		case "add", "replace", "test":
			if len(op.Value) == 0 {
				return nil, fmt.Errorf("patch entry %d (%s %s): value is required", i, op.Op, op.Path)
			}
			if !json.Valid(op.Value) {
				return nil, fmt.Errorf("patch entry %d (%s %s): value is not JSON", i, op.Op, op.Path)
			}
		case "remove":
		default:
			return nil, fmt.Errorf("patch entry %d: unsupported op %q (supported: add, replace, remove, test)", i, op.Op)
		}
		if strings.TrimSpace(op.Note) == "" {
			return nil, fmt.Errorf("patch entry %d (%s %s): note is required", i, op.Op, op.Path)
		}
		if _, err := splitPointer(op.Path); err != nil {
			return nil, fmt.Errorf("patch entry %d: %w", i, err)
		}
	}
	return ops, nil
}

// applyPatch applies ops in order to a parsed YAML document and stops at the
// first entry that does not apply. Working on the yaml.Node tree, rather than
// on decoded maps, lets the patched tree be decoded straight into kin-openapi's
// model, which is several times faster than a JSON round trip.
//
// Why not github.com/evanphx/json-patch (in go.mod, v5.9.11): it patches
// JSON bytes, so loading would have to turn the 3.6 MB YAML spec into JSON
// (yaml → any → json.Marshal), apply the overlay, and decode the JSON into
// kin-openapi's model. Measured with BenchmarkLoad (go test -run '^$'
// -bench BenchmarkLoad, 3 loads per run, 5 runs interleaved, 2 cores with
// a background build running), the whole load took 0.29–0.58 s per op
// (median 0.33 s) with this applier and 1.11–1.46 s (median 1.21 s) with
// the library: about 3.6 times slower, far beyond the 10 % the switch was
// allowed, and every test that starts a validating simulator pays it once.
// The library would also lose the stricter "add" below.
//
// One deliberate difference from RFC 6902: "add" refuses to overwrite an
// existing object member. An overlay entry that adds a property the spec
// already has means upstream caught up, and the entry must be reviewed (and
// written as "replace" if it is still needed) rather than silently win.
func applyPatch(doc *yaml.Node, ops []patchOp) error {
	root := doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) != 1 {
			return fmt.Errorf("YAML document has %d roots", len(root.Content))
		}
		root = root.Content[0]
	}
	for i, op := range ops {
		if err := applyOp(root, op); err != nil {
			return fmt.Errorf("patch entry %d (%s %s): %w", i, op.Op, op.Path, err)
		}
	}
	return nil
}

func applyOp(root *yaml.Node, op patchOp) error {
	tokens, err := splitPointer(op.Path)
	if err != nil {
		return err
	}
	if len(tokens) == 0 {
		return fmt.Errorf("%w: the overlay may not %s the whole document", errPatch, op.Op)
	}
	var value *yaml.Node
	if len(op.Value) > 0 {
		var v any
		if err := json.Unmarshal(op.Value, &v); err != nil {
			return fmt.Errorf("decode value: %w", err)
		}
		value = &yaml.Node{}
		if err := value.Encode(v); err != nil {
			return fmt.Errorf("encode value: %w", err)
		}
	}
	parent, err := lookupNode(root, tokens[:len(tokens)-1])
	if err != nil {
		return err
	}
	key := tokens[len(tokens)-1]
	switch parent.Kind {
	case yaml.MappingNode:
		i := memberIndex(parent, key)
		switch op.Op {
		case "add":
			if i >= 0 {
				return fmt.Errorf("%w: member %q already exists (the spec may have caught up: review the entry, or use replace)", errPatch, key)
			}
			k := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}
			parent.Content = append(parent.Content, k, value)
		case "replace", "remove", "test":
			if i < 0 {
				return fmt.Errorf("%w: no member %q", errPatch, key)
			}
			switch op.Op {
			case "replace":
				parent.Content[i+1] = value
			case "remove":
				parent.Content = append(parent.Content[:i], parent.Content[i+2:]...)
			case "test":
				return testNode(parent.Content[i+1], op.Value)
			}
		}
	case yaml.SequenceNode:
		if op.Op == "add" && key == "-" {
			parent.Content = append(parent.Content, value)
			return nil
		}
		idx, err := arrayIndex(key, len(parent.Content), op.Op == "add")
		if err != nil {
			return err
		}
		switch op.Op {
		case "add":
			parent.Content = append(parent.Content, nil)
			copy(parent.Content[idx+1:], parent.Content[idx:])
			parent.Content[idx] = value
		case "replace":
			parent.Content[idx] = value
		case "remove":
			parent.Content = append(parent.Content[:idx], parent.Content[idx+1:]...)
		case "test":
			return testNode(parent.Content[idx], op.Value)
		}
	default:
		return fmt.Errorf("%w: parent of %q is not an object or array", errPatch, key)
	}
	return nil
}

// testNode implements the "test" operation: the node must equal want.
func testNode(n *yaml.Node, want json.RawMessage) error {
	var got, w any
	if err := n.Decode(&got); err != nil {
		return fmt.Errorf("decode tested value: %w", err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		return fmt.Errorf("decode test value: %w", err)
	}
	if !jsonEqual(got, w) {
		return fmt.Errorf("%w: test failed: document holds %s", errPatch, compactJSON(got))
	}
	return nil
}

// lookupNode follows tokens from n.
func lookupNode(n *yaml.Node, tokens []string) (*yaml.Node, error) {
	for _, key := range tokens {
		switch n.Kind {
		case yaml.MappingNode:
			i := memberIndex(n, key)
			if i < 0 {
				return nil, fmt.Errorf("%w: no member %q", errPatch, key)
			}
			n = n.Content[i+1]
		case yaml.SequenceNode:
			idx, err := arrayIndex(key, len(n.Content), false)
			if err != nil {
				return nil, err
			}
			n = n.Content[idx]
		default:
			return nil, fmt.Errorf("%w: cannot step into a scalar with %q", errPatch, key)
		}
	}
	return n, nil
}

// memberIndex returns the index of key's key node in a mapping's Content, or -1.
func memberIndex(m *yaml.Node, key string) int {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return i
		}
	}
	return -1
}

// arrayIndex parses an RFC 6901 array index; appending allows len as index.
func arrayIndex(key string, length int, appending bool) (int, error) {
	if key == "" || (len(key) > 1 && key[0] == '0') {
		return 0, fmt.Errorf("%w: bad array index %q", errPatch, key)
	}
	idx, err := strconv.Atoi(key)
	if err != nil || idx < 0 {
		return 0, fmt.Errorf("%w: bad array index %q", errPatch, key)
	}
	limit := length - 1
	if appending {
		limit = length
	}
	if idx > limit {
		return 0, fmt.Errorf("%w: array index %d out of range (length %d)", errPatch, idx, length)
	}
	return idx, nil
}

// splitPointer splits an RFC 6901 JSON Pointer into unescaped tokens.
func splitPointer(pointer string) ([]string, error) {
	if pointer == "" {
		return nil, nil
	}
	if pointer[0] != '/' {
		return nil, fmt.Errorf("JSON pointer %q must start with /", pointer)
	}
	parts := strings.Split(pointer[1:], "/")
	for i, p := range parts {
		if strings.Contains(strings.ReplaceAll(strings.ReplaceAll(p, "~0", ""), "~1", ""), "~") {
			return nil, fmt.Errorf("JSON pointer %q: bad escape in %q", pointer, p)
		}
		parts[i] = strings.ReplaceAll(strings.ReplaceAll(p, "~1", "/"), "~0", "~")
	}
	return parts, nil
}

// jsonEqual compares two decoded values as JSON, so that YAML's ints and
// JSON's float64s compare equal.
func jsonEqual(a, b any) bool {
	return reflect.DeepEqual(roundTrip(a), roundTrip(b))
}

func roundTrip(v any) any {
	data, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	if err := json.Unmarshal(data, &out); err != nil {
		return v
	}
	return out
}

func compactJSON(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	const limit = 200
	if len(data) > limit {
		return string(data[:limit]) + "…"
	}
	return string(data)
}
