package contract

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/getkin/kin-openapi/openapi3"
)

// Rules applied to every operation of the loaded spec, after the overlay.
// They encode what the API documentation states in prose for all operations
// alike (the list envelope, the error envelope), so they live in code rather
// than as hundreds of overlay entries. Each one tightens the spec or repairs
// a schema that no response could satisfy; none loosens it.

// errorResponseName is the spec's shared error envelope under
// components.responses.
const errorResponseName = "error-response"

// listEnvelopeFields are the members of every paginated list response.
var listEnvelopeFields = []string{"data", "page", "pages", "results"}

// normalize applies the operation-wide rules:
//
//   - every operation gets a "default" response, the shared error envelope,
//     when it lists none, so error statuses the spec does not enumerate for
//     an operation (429, 503, …) are still checked;
//   - error envelopes ("default" and 4xx/5xx responses) require a non-empty
//     "errors" array whose items carry a "reason": linodego treats a 4xx
//     without one as success;
//   - list envelopes require data, page, pages and results; the form the
//     spec writes as allOf[{page,pages,results}, {data}] — whose first part,
//     with additionalProperties: false, rejects "data" and so every real
//     response — is merged into one strict object.
func normalize(doc *openapi3.T) error {
	if doc.Components == nil || doc.Components.Responses[errorResponseName] == nil ||
		doc.Components.Responses[errorResponseName].Value == nil {
		return fmt.Errorf("spec has no components.responses.%s", errorResponseName)
	}
	envelope := doc.Components.Responses[errorResponseName]
	tightenErrorResponse(envelope.Value)
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			if op.Responses == nil {
				op.Responses = openapi3.NewResponses()
			}
			if op.Responses.Default() == nil {
				op.Responses.Set("default", &openapi3.ResponseRef{
					Ref:   "#/components/responses/" + errorResponseName,
					Value: envelope.Value,
				})
			}
			for code, ref := range op.Responses.Map() {
				if ref == nil || ref.Value == nil {
					continue
				}
				if isErrorCode(code) {
					tightenErrorResponse(ref.Value)
				} else if s := jsonSchemaOf(ref.Value); s != nil {
					tightenListEnvelope(s)
				}
			}
		}
	}
	return nil
}

// isErrorCode reports whether a response key stands for error statuses.
func isErrorCode(code string) bool {
	if code == "default" || code == "4XX" || code == "5XX" {
		return true
	}
	n, err := strconv.Atoi(code)
	return err == nil && n >= 400
}

// jsonSchemaOf returns the application/json schema of a response.
func jsonSchemaOf(r *openapi3.Response) *openapi3.Schema {
	media := r.Content["application/json"]
	if media == nil || media.Schema == nil {
		return nil
	}
	return media.Schema.Value
}

func tightenErrorResponse(r *openapi3.Response) {
	s := jsonSchemaOf(r)
	if s == nil || s.Properties["errors"] == nil || s.Properties["errors"].Value == nil {
		return
	}
	addRequired(s, "errors")
	errs := s.Properties["errors"].Value
	if errs.MinItems == 0 {
		errs.MinItems = 1
	}
	if errs.Items != nil && errs.Items.Value != nil && errs.Items.Value.Properties["reason"] != nil {
		addRequired(errs.Items.Value, "reason")
	}
}

func tightenListEnvelope(s *openapi3.Schema) {
	if len(s.AllOf) > 0 {
		if !mergeListEnvelope(s) {
			return
		}
	}
	if len(s.Properties) != len(listEnvelopeFields) {
		return
	}
	for _, f := range listEnvelopeFields {
		if s.Properties[f] == nil {
			return
		}
	}
	for _, f := range listEnvelopeFields {
		addRequired(s, f)
	}
}

// mergeListEnvelope merges allOf parts that together hold exactly the list
// envelope's members, each part a plain object schema, into s itself, which
// then forbids other members. It reports whether it merged.
func mergeListEnvelope(s *openapi3.Schema) bool {
	if s.Type != nil && !s.Type.Is(openapi3.TypeObject) || len(s.Properties) > 0 {
		return false
	}
	merged := openapi3.Schemas{}
	for _, part := range s.AllOf {
		p := part.Value
		if p == nil || len(p.AllOf) > 0 || len(p.OneOf) > 0 || len(p.AnyOf) > 0 || p.Not != nil {
			return false
		}
		for name, prop := range p.Properties {
			if !slices.Contains(listEnvelopeFields, name) {
				return false
			}
			merged[name] = prop
		}
	}
	if len(merged) != len(listEnvelopeFields) {
		return false
	}
	no := false
	s.AllOf = nil
	s.Type = &openapi3.Types{openapi3.TypeObject}
	s.Properties = merged
	s.AdditionalProperties = openapi3.AdditionalProperties{Has: &no}
	return true
}

func addRequired(s *openapi3.Schema, name string) {
	if !slices.Contains(s.Required, name) {
		s.Required = append(s.Required, name)
	}
}
