package contract

import (
	"fmt"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// ResponseSchema returns the schema of the 200 response of the operation
// method template (a path as the spec writes it, such as
// "/{apiVersion}/regions"), with the overlay applied, as a plain JSON
// Schema value: references inlined, and only the keywords that constrain a
// value kept (type, nullable, properties, required, additionalProperties,
// items, enum, format, pattern, minimum, maximum, minLength, maxLength,
// minItems, maxItems, allOf, anyOf, oneOf). Descriptions and examples are
// dropped: the result is small enough to embed where the spec is absent.
func (v *Validator) ResponseSchema(method, template string) (map[string]any, error) {
	item := v.doc.Paths.Value(template)
	if item == nil {
		return nil, fmt.Errorf("response schema of %s %s: %w", method, template, ErrUnknownOperation)
	}
	op := item.GetOperation(strings.ToUpper(method))
	if op == nil {
		return nil, fmt.Errorf("response schema of %s %s: %w", method, template, ErrUnknownOperation)
	}
	resp := op.Responses.Status(200)
	if resp == nil || resp.Value == nil {
		return nil, fmt.Errorf("response schema of %s %s: no 200 response", method, template)
	}
	mt := resp.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
		return nil, fmt.Errorf("response schema of %s %s: no application/json schema", method, template)
	}
	return plainSchema(mt.Schema.Value, 0)
}

// maxSchemaDepth bounds plainSchema's recursion: the catalogue's schemas
// are a few levels deep, a recursive schema would not end.
const maxSchemaDepth = 32

func plainSchema(s *openapi3.Schema, depth int) (map[string]any, error) {
	if depth > maxSchemaDepth {
		return nil, fmt.Errorf("schema nested deeper than %d levels (recursive?)", maxSchemaDepth)
	}
	out := map[string]any{}
	if s.Type != nil && len(*s.Type) > 0 {
		if len(*s.Type) == 1 {
			out["type"] = (*s.Type)[0]
		} else {
			out["type"] = []string(*s.Type)
		}
	}
	if s.Nullable {
		out["nullable"] = true
	}
	if len(s.Enum) > 0 {
		out["enum"] = s.Enum
	}
	if s.Format != "" {
		out["format"] = s.Format
	}
	if s.Pattern != "" {
		out["pattern"] = s.Pattern
	}
	if s.Min != nil {
		out["minimum"] = *s.Min
	}
	if s.Max != nil {
		out["maximum"] = *s.Max
	}
	if s.MinLength != 0 {
		out["minLength"] = s.MinLength
	}
	if s.MaxLength != nil {
		out["maxLength"] = *s.MaxLength
	}
	if s.MinItems != 0 {
		out["minItems"] = s.MinItems
	}
	if s.MaxItems != nil {
		out["maxItems"] = *s.MaxItems
	}
	if len(s.Required) > 0 {
		out["required"] = s.Required
	}
	if len(s.Properties) > 0 {
		props := map[string]any{}
		for name, p := range s.Properties {
			if p == nil || p.Value == nil {
				continue
			}
			ps, err := plainSchema(p.Value, depth+1)
			if err != nil {
				return nil, fmt.Errorf("property %s: %w", name, err)
			}
			props[name] = ps
		}
		out["properties"] = props
	}
	switch ap := s.AdditionalProperties; {
	case ap.Has != nil:
		out["additionalProperties"] = *ap.Has
	case ap.Schema != nil && ap.Schema.Value != nil:
		as, err := plainSchema(ap.Schema.Value, depth+1)
		if err != nil {
			return nil, fmt.Errorf("additionalProperties: %w", err)
		}
		out["additionalProperties"] = as
	}
	if s.Items != nil && s.Items.Value != nil {
		is, err := plainSchema(s.Items.Value, depth+1)
		if err != nil {
			return nil, fmt.Errorf("items: %w", err)
		}
		out["items"] = is
	}
	for kw, list := range map[string]openapi3.SchemaRefs{"allOf": s.AllOf, "anyOf": s.AnyOf, "oneOf": s.OneOf} {
		if len(list) == 0 {
			continue
		}
		parts := make([]any, 0, len(list))
		for i, r := range list {
			if r == nil || r.Value == nil {
				continue
			}
			ps, err := plainSchema(r.Value, depth+1)
			if err != nil {
				return nil, fmt.Errorf("%s[%d]: %w", kw, i, err)
			}
			parts = append(parts, ps)
		}
		out[kw] = parts
	}
	return out, nil
}
