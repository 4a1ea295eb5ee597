package linodetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
)

// fileSchemas is the name, in catalogue/, of the response schemas each
// catalogue file is checked against. It is generated from Linode's OpenAPI
// description (with the contract's overlay) by TestCatalogueSchemasFile
// -update; see catalogue_schema_test.go.
const fileSchemas = "schemas.json"

// schemasFile is the layout of catalogue/schemas.json.
type schemasFile struct {
	Comment string                      `json:"comment"`
	Files   map[string]*openapi3.Schema `json:"files"`
}

// catSchema checks one catalogue file against the schema of its response.
type catSchema struct {
	s *openapi3.Schema
}

var catalogueSchemas = sync.OnceValues(func() (map[string]*catSchema, error) {
	b, err := catalogueDir.ReadFile("catalogue/" + fileSchemas)
	if err != nil {
		return nil, fmt.Errorf("read embedded %s: %w", fileSchemas, err)
	}
	var sf schemasFile
	if err := json.Unmarshal(b, &sf); err != nil {
		return nil, fmt.Errorf("read embedded %s: %w", fileSchemas, err)
	}
	out := map[string]*catSchema{}
	for _, f := range catalogueFiles {
		s := sf.Files[f]
		if s == nil {
			return nil, fmt.Errorf("embedded %s: no schema for %s", fileSchemas, f)
		}
		out[f] = &catSchema{s: s}
	}
	return out, nil
})

// catalogueFiles are the response files of a catalogue, in load order.
var catalogueFiles = []string{
	fileRegions, fileLinodeTypes, fileAvailability, fileLKETypes,
	fileLKEVersions, fileTierStandard, fileTierEnterprise,
}

// check validates the body b of file; the error names the file and the
// JSON path of the first value that does not fit.
func (cs *catSchema) check(file string, b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("%s: %w", file, describeJSONError(b, err))
	}
	if err := visit(cs.s, v); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	return nil
}

// checkItem validates one item of the file's data array; the error starts
// with the path inside the item (".price.hourly: …"), or ": …" for the
// item itself.
func (cs *catSchema) checkItem(raw json.RawMessage) error {
	data := cs.s.Properties["data"]
	if data == nil || data.Value == nil || data.Value.Items == nil || data.Value.Items.Value == nil {
		return errors.New(": the schema has no items")
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return fmt.Errorf(": %w", err)
	}
	err := visit(data.Value.Items.Value, v)
	if err == nil {
		return nil
	}
	if msg := err.Error(); strings.HasPrefix(msg, "(root)") {
		return errors.New(strings.TrimPrefix(msg, "(root)"))
	}
	return fmt.Errorf(".%w", err)
}

// missingOrExtra finds the member a required or additionalProperties
// violation is about (kin-openapi reports the object's path).
var missingOrExtra = regexp.MustCompile(`^property "([^"]+)" is (missing|unsupported)`)

// visit validates v and reports the first violation as "path: reason",
// the path written as data[3].capabilities.
func visit(s *openapi3.Schema, v any) error {
	err := s.VisitJSON(v, openapi3.VisitAsResponse())
	if err == nil {
		return nil
	}
	var se *openapi3.SchemaError
	if !errors.As(err, &se) {
		return err
	}
	ptr := se.JSONPointer()
	reason := se.Reason
	if m := missingOrExtra.FindStringSubmatch(reason); m != nil {
		if len(ptr) == 0 || ptr[len(ptr)-1] != m[1] {
			ptr = append(ptr, m[1])
		}
		if m[2] == "unsupported" {
			reason = "unknown field (the response schema allows no other members)"
		} else {
			reason = "required field is missing"
		}
	}
	return fmt.Errorf("%s: %s", jsonPath(ptr), reason)
}

// jsonPath writes pointer tokens as data[3].capabilities; the empty
// pointer is "(root)".
func jsonPath(tokens []string) string {
	if len(tokens) == 0 {
		return "(root)"
	}
	var b strings.Builder
	for _, t := range tokens {
		if _, err := strconv.Atoi(t); err == nil {
			b.WriteString("[" + t + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(t)
	}
	return b.String()
}

// describeJSONError says where in b decoding failed.
func describeJSONError(b []byte, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := lineCol(b, se.Offset)
		return fmt.Errorf("malformed JSON at line %d, column %d: %w", line, col, err)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return fmt.Errorf("%s: %w", te.Field, err)
	}
	return err
}

func lineCol(b []byte, offset int64) (line, col int) {
	line, col = 1, 1
	for i := int64(0); i < offset-1 && i < int64(len(b)); i++ {
		if b[i] == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}
