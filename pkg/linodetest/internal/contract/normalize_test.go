package contract

import (
	"slices"
	"testing"
)

// The operation-wide rules reach every operation, not only the ones the other
// tests call.
func TestNormalizeCoversEveryOperation(t *testing.T) {
	t.Parallel()
	v := validator(t)
	var ops, lists int
	for path, item := range v.doc.Paths.Map() {
		for method, op := range item.Operations() {
			ops++
			def := op.Responses.Default()
			if def == nil || def.Value == nil {
				t.Errorf("%s %s: no default response", method, path)
				continue
			}
			if s := jsonSchemaOf(def.Value); s == nil || !slices.Contains(s.Required, "errors") || s.Properties["errors"].Value.MinItems != 1 {
				t.Errorf("%s %s: default response does not require a non-empty errors array", method, path)
			}
			for code, ref := range op.Responses.Map() {
				s := jsonSchemaOf(ref.Value)
				if isErrorCode(code) || s == nil {
					continue
				}
				if s.Properties["data"] != nil && s.Properties["pages"] != nil {
					lists++
					for _, f := range listEnvelopeFields {
						if !slices.Contains(s.Required, f) {
							t.Errorf("%s %s %s: list envelope does not require %q", method, path, code, f)
						}
					}
				}
				for _, part := range s.AllOf {
					if part.Value != nil && part.Value.Properties["pages"] != nil {
						t.Errorf("%s %s %s: list envelope left as allOf", method, path, code)
					}
				}
			}
		}
	}
	if ops < 390 || lists < 80 {
		t.Errorf("saw %d operations and %d list envelopes; want the whole spec (≥ 390, ≥ 80)", ops, lists)
	}
	t.Logf("%d operations, %d list envelopes", ops, lists)
}
