package spec

import (
	"bytes"
	_ "embed" // for the JSON Schema
)

//go:embed environment.schema.json
var schema []byte

// SchemaID is the $id of the JSON Schema JSONSchema returns.
const SchemaID = "https://github.com/org/platform/pkg/spec/environment.schema.json"

// JSONSchema returns the JSON Schema (draft 2020-12) of an Environment
// document, generated from the types and their doc comments: editors use it
// to complete and check spec files. It rejects unknown fields like Load
// does, but checks only shape, required fields and enumerations: Validate
// remains the authority. Each call returns a fresh copy.
func JSONSchema() []byte { return bytes.Clone(schema) }
