package change

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"

	jsonpatch "github.com/evanphx/json-patch"
)

// KnownAfterApply is how a plan shows a value that an earlier step of the
// same plan produces when it runs (the id of a firewall still to be
// created, for example).
const KnownAfterApply = "(known after apply)"

// Ref names a value that an earlier step of a plan produces when it runs:
// the step's ID and the name of its output ("id", "subnet/nodes").
type Ref struct {
	Step   string `json:"step"`
	Output string `json:"output"`
}

// String renders the reference for a reviewer.
func (r Ref) String() string { return r.Step + "#" + r.Output }

// Int is an integer input of a plan: known now, or known only once the
// step Ref names has run (then Value is 0). The zero value is "none".
type Int struct {
	Value int  `json:"value,omitempty"`
	Ref   *Ref `json:"ref,omitempty"`
}

// Known returns an Int known now.
func Known(v int) Int { return Int{Value: v} }

// After returns an Int that step's output will hold.
func After(step, output string) Int { return Int{Ref: &Ref{Step: step, Output: output}} }

// IsZero reports whether the Int is neither known nor referenced.
func (i Int) IsZero() bool { return i.Value == 0 && i.Ref == nil }

// String renders the value, or KnownAfterApply for a reference.
func (i Int) String() string {
	if i.Ref != nil {
		return KnownAfterApply
	}
	return strconv.Itoa(i.Value)
}

// Fill says where in a step's Action a value that an earlier step produces
// goes: Path is a JSON pointer into the Action (RFC 6901).
type Fill struct {
	Path string `json:"path"`
	Ref  Ref    `json:"ref"`
}

// Step is one unit of work of a plan: what it does to which object, the
// field changes a reviewer reads, and everything needed to carry it out.
//
// Action is the request the concern package that planned the step sends
// when it applies it (for example the body of a Linode POST), as plain
// JSON; values not known when the plan was made are left zero there and
// listed in Fills, which apply resolves from the Outputs of earlier steps.
// A plan never carries a secret value: a sensitive input is a reference
// plus a keyed fingerprint.
type Step struct {
	// ID is unique within the plan, for example
	// "production/linode/firewall/platform-production".
	ID string `json:"id"`
	// Env is the environment the step belongs to.
	Env string `json:"env,omitempty"`
	// Layer is the part of the platform the step changes.
	Layer Layer `json:"layer"`
	// Kind names the action, as the concern package that applies it knows
	// it ("firewall.create", "lke.pool.update", "k8s.apply").
	Kind string `json:"kind"`
	// Op is what happens to the object: Create, Update, Replace or Delete.
	Op Op `json:"op"`
	// Object names the object, as in a Change.
	Object string `json:"object"`
	// Changes are the field changes (or the whole-object change) a
	// reviewer reads.
	Changes []Change `json:"changes"`
	// Action is what applying the step sends; see the type's doc.
	Action json.RawMessage `json:"action,omitempty"`
	// Fills lists the values of Action that earlier steps produce.
	Fills []Fill `json:"fills,omitempty"`
	// Creates marks a step that begins with a request that creates
	// something: it is never repeated blindly after an error; the world is
	// read again instead, and what a lost response made is adopted.
	Creates bool `json:"creates,omitempty"`
}

// NewStep returns a step whose Action is action marshalled to JSON.
func NewStep(id string, layer Layer, kind string, op Op, object string, action any, changes ...Change) (Step, error) {
	s := Step{ID: id, Layer: layer, Kind: kind, Op: op, Object: object, Changes: changes}
	if action != nil {
		b, err := json.Marshal(action)
		if err != nil {
			return Step{}, fmt.Errorf("plan step %s: encode action: %w", id, err)
		}
		s.Action = b
	}
	return s, nil
}

// Decode unmarshals the step's Action into v.
func (s Step) Decode(v any) error {
	if err := json.Unmarshal(s.Action, v); err != nil {
		return fmt.Errorf("plan step %s (%s): decode action: %w", s.ID, s.Kind, err)
	}
	return nil
}

// Retained is an object the spec no longer wants but that a run kept, and
// why (a namespace that still runs pods, for example).
type Retained struct {
	Object string `json:"object"`
	Reason string `json:"reason"`
}

// String renders the retained object for a reviewer.
func (r Retained) String() string { return r.Object + ": " + r.Reason }

// Plan is what a concern, an environment or a whole rollout would do: its
// steps in the order to apply them, and the base they were decided on.
//
// Base maps a name for each observed value that a decision of the plan
// compared ("lke/platform-production/pool/general count") to that value,
// canonical. Values that move on their own — autoscaled counts, node and
// cluster status, instance ids, resourceVersions, quota usage — are never
// in it, so a plan stays applicable while nothing it relied on changed.
type Plan struct {
	Steps    []Step            `json:"steps"`
	Base     map[string]string `json:"base,omitempty"`
	Retained []Retained        `json:"retained,omitempty"`
}

// Empty reports whether the plan has nothing to do.
func (p Plan) Empty() bool { return len(p.Steps) == 0 }

// Append adds another plan's steps, base and retained objects after p's.
func (p *Plan) Append(o Plan) {
	p.Steps = append(p.Steps, o.Steps...)
	if len(o.Base) > 0 {
		if p.Base == nil {
			p.Base = map[string]string{}
		}
		maps.Copy(p.Base, o.Base)
	}
	p.Retained = append(p.Retained, o.Retained...)
}

// Observe records an observed value the plan's decisions compare.
func (p *Plan) Observe(key, value string) {
	if p.Base == nil {
		p.Base = map[string]string{}
	}
	p.Base[key] = value
}

// Add appends a step.
func (p *Plan) Add(s ...Step) { p.Steps = append(p.Steps, s...) }

// Result lists the changes of every step, as a plan's human form and
// Result.Summary count them.
func (p Plan) Result() Result {
	var r Result
	for _, s := range p.Steps {
		r.Add(s.Changes...)
	}
	r.Retained = slices.Clone(p.Retained)
	return r
}

// Moved compares the plan's base with a fresh one and names, sorted, every
// value that differs, was added or is gone ("key: from → to").
func (p Plan) Moved(fresh map[string]string) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(p.Base)) {
		v, ok := fresh[k]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("%s: %s → (gone)", k, orNone(p.Base[k])))
		case v != p.Base[k]:
			out = append(out, fmt.Sprintf("%s: %s → %s", k, orNone(p.Base[k]), orNone(v)))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(fresh)) {
		if _, ok := p.Base[k]; !ok {
			out = append(out, fmt.Sprintf("%s: (not observed) → %s", k, orNone(fresh[k])))
		}
	}
	return out
}

// Digest returns the hex SHA-256 of v's canonical JSON: v is marshalled,
// then every object's members are put in key order and numbers kept as
// written, so the digest does not depend on how a tool that read and
// rewrote the document ordered its members.
func Digest(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("digest: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var generic any
	if err := dec.Decode(&generic); err != nil {
		return "", fmt.Errorf("digest: %w", err)
	}
	canonical, err := json.Marshal(generic) // maps marshal in key order
	if err != nil {
		return "", fmt.Errorf("digest: %w", err)
	}
	sum := sha256.Sum256(canonical)
	return hex.EncodeToString(sum[:]), nil
}

// Outputs holds what applied steps produced (ids, mostly), for the Fills of
// later steps. It is safe for concurrent use; the zero value is ready.
type Outputs struct {
	mu sync.Mutex
	m  map[Ref]json.RawMessage
}

// Set records output name of step as v, marshalled to JSON.
func (o *Outputs) Set(step, name string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("record output %s of step %s: %w", name, step, err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.m == nil {
		o.m = map[Ref]json.RawMessage{}
	}
	o.m[Ref{Step: step, Output: name}] = b
	return nil
}

// Get returns the output r names.
func (o *Outputs) Get(r Ref) (json.RawMessage, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	v, ok := o.m[r]
	return v, ok
}

// Resolve returns s with every Fill written into its Action from the
// outputs, and Fills emptied. A fill whose step has not produced its output
// is an error naming both steps.
func (o *Outputs) Resolve(s Step) (Step, error) {
	if len(s.Fills) == 0 {
		return s, nil
	}
	ops := make([]map[string]any, 0, len(s.Fills))
	for _, f := range s.Fills {
		v, ok := o.Get(f.Ref)
		if !ok {
			return s, fmt.Errorf("plan step %s needs output %q of step %s, which has not run", s.ID, f.Ref.Output, f.Ref.Step)
		}
		// "add" sets an object member whether or not the action carries it
		// (a zero id is often left out by omitempty).
		ops = append(ops, map[string]any{"op": "add", "path": f.Path, "value": v})
	}
	raw, err := json.Marshal(ops)
	if err != nil {
		return s, err
	}
	patch, err := jsonpatch.DecodePatch(raw)
	if err != nil {
		return s, fmt.Errorf("plan step %s: fills: %w", s.ID, err)
	}
	action, err := patch.Apply(s.Action)
	if err != nil {
		return s, fmt.Errorf("plan step %s: fill the action: %w", s.ID, err)
	}
	s.Action, s.Fills = action, nil
	return s, nil
}
