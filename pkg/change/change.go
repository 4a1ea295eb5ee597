package change

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Op is what happens, or would happen, to one object or field.
type Op string

// The operations a Change can carry.
const (
	// Create makes an object that does not exist.
	Create Op = "create"
	// Update changes an existing object in place.
	Update Op = "update"
	// Replace makes a new object and then removes the old one (a node
	// pool whose type changes), so capacity never drops.
	Replace Op = "replace"
	// Delete removes an object.
	Delete Op = "delete"
	// Unchanged means the object already matches the spec.
	Unchanged Op = "unchanged"
)

// Layer says which part of the platform a change belongs to.
type Layer string

// The layers of an environment.
const (
	LayerLinode        Layer = "linode"
	LayerKubernetes    Layer = "kubernetes"
	LayerHelm          Layer = "helm"
	LayerSecrets       Layer = "secrets"
	LayerObservability Layer = "observability"
	LayerGitOps        Layer = "gitops"
)

// Redacted is what a sensitive value prints as.
const Redacted = "(sensitive)"

// Change is one difference between the spec and the world, or one action
// taken to remove it.
type Change struct {
	// Layer is the part of the platform, for example LayerLinode.
	Layer Layer `json:"layer"`
	// Object names the object, for example "lke/platform-production" or
	// "lke/platform-production/pool/general".
	Object string `json:"object"`
	// Field is the field that differs ("count", "tags"); empty when the
	// whole object is created or deleted.
	Field string `json:"field,omitempty"`
	// From is the current value, empty for a create.
	From string `json:"from,omitempty"`
	// To is the desired value, empty for a delete.
	To string `json:"to,omitempty"`
	// Op is what happens to the object.
	Op Op `json:"op"`
	// Sensitive hides From and To wherever the change is printed.
	Sensitive bool `json:"sensitive,omitempty"`
}

// String renders the change for a reviewer:
//
//	update lke/platform-production/pool/general count: 3 → 5
func (c Change) String() string {
	from, to := c.From, c.To
	if c.Sensitive {
		from, to = Redacted, Redacted
	}
	var b strings.Builder
	b.WriteString(string(c.Op))
	b.WriteByte(' ')
	b.WriteString(c.Object)
	if c.Field != "" {
		b.WriteByte(' ')
		b.WriteString(c.Field)
	}
	switch c.Op {
	case Update, Replace:
		fmt.Fprintf(&b, ": %s → %s", orNone(from), orNone(to))
	case Create:
		if c.To != "" {
			fmt.Fprintf(&b, ": %s", to)
		}
	case Delete:
		if c.From != "" {
			fmt.Fprintf(&b, ": %s", from)
		}
	}
	return b.String()
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// MarshalJSON writes the change with sensitive values redacted, so that plans
// and snapshots written to disk never carry them.
func (c Change) MarshalJSON() ([]byte, error) {
	type plain Change
	p := plain(c)
	if p.Sensitive {
		if p.From != "" {
			p.From = Redacted
		}
		if p.To != "" {
			p.To = Redacted
		}
	}
	return json.Marshal(p)
}

// Redact returns the change with its values replaced when it is sensitive.
func (c Change) Redact() Change {
	if c.Sensitive {
		if c.From != "" {
			c.From = Redacted
		}
		if c.To != "" {
			c.To = Redacted
		}
	}
	return c
}

// Result is what an Ensure did or a Plan would do. Every concern's result
// embeds it, beside the id of the object it is about (named ID everywhere).
type Result struct {
	// Changes lists every change, in the order made. Unchanged objects may be
	// listed with Op Unchanged. An Ensure that fails half-way lists only
	// the changes that took effect.
	Changes []Change `json:"changes"`
	// Retained lists objects the spec no longer wants that were kept, and why.
	Retained []Retained `json:"retained,omitempty"`
	// Elapsed is how long the call took on the clock in use (model time on
	// the simulator, wall time on Linode).
	Elapsed time.Duration `json:"elapsed"`
}

// Add appends changes to the result.
func (r *Result) Add(cs ...Change) { r.Changes = append(r.Changes, cs...) }

// Merge appends another result's changes and retained objects.
func (r *Result) Merge(o Result) {
	r.Changes = append(r.Changes, o.Changes...)
	r.Retained = append(r.Retained, o.Retained...)
}

// Changed reports whether anything was created, updated or deleted.
func (r Result) Changed() bool {
	for _, c := range r.Changes {
		if c.Op != Unchanged {
			return true
		}
	}
	return false
}

// Op summarises the result: Create if any object was created, else Replace
// if any was replaced, else Update if any was updated, else Delete if any
// was deleted, else Unchanged.
func (r Result) Op() Op {
	seen := map[Op]bool{}
	for _, c := range r.Changes {
		seen[c.Op] = true
	}
	for _, op := range []Op{Create, Replace, Update, Delete} {
		if seen[op] {
			return op
		}
	}
	return Unchanged
}

// Count returns how many changes have op.
func (r Result) Count(op Op) int {
	n := 0
	for _, c := range r.Changes {
		if c.Op == op {
			n++
		}
	}
	return n
}

// Filter returns the changes with op.
func (r Result) Filter(op Op) []Change {
	var out []Change
	for _, c := range r.Changes {
		if c.Op == op {
			out = append(out, c)
		}
	}
	return out
}

// Summary counts the changes by op: "2 to create, 1 to update, 0 to delete".
func (r Result) Summary() string {
	return fmt.Sprintf("%d to create, %d to update, %d to delete",
		r.Count(Create), r.Count(Update), r.Count(Delete))
}

// Lines renders the changes other than Unchanged, one string each, sorted,
// with sensitive values redacted.
func (r Result) Lines() []string {
	var lines []string
	for _, c := range r.Changes {
		if c.Op != Unchanged {
			lines = append(lines, c.String())
		}
	}
	sort.Strings(lines)
	return lines
}

// String lists the changes other than Unchanged, one per line, sorted, with
// sensitive values redacted; "no changes" when there are none.
func (r Result) String() string {
	lines := r.Lines()
	if len(lines) == 0 {
		return "no changes"
	}
	return strings.Join(lines, "\n")
}

// Sentinel errors shared by every package; wrap them with %w and test with
// errors.Is. (A spec that fails validation is reported with pkg/spec's own
// FieldErrors, since pkg/spec is a leaf too.)
var (
	// ErrNotFound means an object that should exist does not.
	ErrNotFound = errors.New("not found")
	// ErrConflict means the world holds something the spec cannot adopt,
	// such as two clusters with one label.
	ErrConflict = errors.New("conflict")
	// ErrIrreversible means the spec asks to undo what the API cannot undo,
	// such as turning off control-plane HA.
	ErrIrreversible = errors.New("irreversible change")
	// ErrNotReady means a resource did not become ready in time.
	ErrNotReady = errors.New("not ready")
	// ErrApprovalRequired means a change needs approvals it does not have.
	ErrApprovalRequired = errors.New("approval required")
	// ErrGitOpsOnly means a direct change was attempted on a GitOps-only
	// environment.
	ErrGitOpsOnly = errors.New("gitops-only environment")
)
