package rollout

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/org/platform/pkg/change"
)

// ErrInvalidPlan means a plan file cannot be applied as it is: it does not
// parse, has another schema version, or was altered after it was written.
var ErrInvalidPlan = errors.New("invalid plan")

// WriteJSON writes the plan as indented JSON, the form saved between plan
// and apply (a workflow artifact, a file beside a pull request).
func (p Artifact) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(p); err != nil {
		return fmt.Errorf("write plan: %w", err)
	}
	return nil
}

// ReadPlan reads a plan written by WriteJSON and checks it as Verify does.
// Unknown members are refused: a plan from a newer SDK is not silently
// half-read.
func ReadPlan(r io.Reader) (Artifact, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return Artifact{}, fmt.Errorf("read plan: %w", err)
	}
	var head struct {
		SchemaVersion *int `json:"schemaVersion"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return Artifact{}, fmt.Errorf("read plan: %w: not JSON: %v", ErrInvalidPlan, err)
	}
	if head.SchemaVersion == nil || *head.SchemaVersion != SchemaVersion {
		got := "none"
		if head.SchemaVersion != nil {
			got = fmt.Sprint(*head.SchemaVersion)
		}
		return Artifact{}, fmt.Errorf("read plan: %w: schemaVersion %s, this SDK reads %d", ErrInvalidPlan, got, SchemaVersion)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var p Artifact
	if err := dec.Decode(&p); err != nil {
		return Artifact{}, fmt.Errorf("read plan: %w: %v", ErrInvalidPlan, err)
	}
	if err := Verify(p); err != nil {
		return Artifact{}, err
	}
	return p, nil
}

// Verify checks that a plan is intact: its schema version is this SDK's,
// and its digests match its steps, specs and bases — that is, nothing was
// altered after the plan was made. Apply calls it before anything else.
func Verify(p Artifact) error {
	if p.SchemaVersion != SchemaVersion {
		return fmt.Errorf("%w: schemaVersion %d, this SDK reads %d", ErrInvalidPlan, p.SchemaVersion, SchemaVersion)
	}
	if len(p.Environments) == 0 {
		return fmt.Errorf("%w: no environment", ErrInvalidPlan)
	}
	digest, err := stepsDigest(p.Environments)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidPlan, err)
	}
	if digest != p.Digest {
		return fmt.Errorf("%w: its steps do not match its digest %s (altered after it was written)", ErrInvalidPlan, p.Digest)
	}
	specs, err := specsDigest(p.Environments)
	if err != nil || specs != p.SpecDigest {
		return fmt.Errorf("%w: its specs do not match its spec digest (altered after it was written)", ErrInvalidPlan)
	}
	for _, e := range p.Environments {
		if d, err := change.Digest(e.Spec); err != nil || d != e.SpecDigest {
			return fmt.Errorf("%w: environment %q: its spec does not match its digest", ErrInvalidPlan, e.Name)
		}
		if d, err := change.Digest(e.Base); err != nil || d != e.BaseDigest {
			return fmt.Errorf("%w: environment %q: its base does not match its digest", ErrInvalidPlan, e.Name)
		}
		if e.Spec.Name != e.Name {
			return fmt.Errorf("%w: environment %q carries the spec of %q", ErrInvalidPlan, e.Name, e.Spec.Name)
		}
	}
	return nil
}
