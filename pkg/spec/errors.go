package spec

import (
	"errors"
	"strings"
)

// ErrInvalid is wrapped by every error that reports a bad spec: the
// FieldErrors of Load and Validate, and YAML that does not parse. Test for it
// with errors.Is(err, spec.ErrInvalid).
var ErrInvalid = errors.New("invalid environment spec")

// ErrUnknownEnvironment is wrapped by Default for a name that is not one of
// StandardNames.
var ErrUnknownEnvironment = errors.New("unknown standard environment")

// FieldError is one problem with one field of a spec.
//
// Path starts at the YAML root and uses the YAML field names. A list entry is
// named by its name key ("name" for node pools, namespaces, data services and
// alert routes; "label" for firewall rules and subnets) and by its index when
// it has no name key, when the name is empty or when an earlier entry already
// uses it; map entries are named by their key:
//
//	cluster.nodePools[general].autoscaler.max
//	network.firewall.inbound[kubelet].ports
//	namespaces[apps].dataServices[0]
//	cluster.nodePools[ingress].labels[dedicated]
//
// Message never repeats a value that looks like a secret.
type FieldError struct {
	// Path locates the field from the YAML root; it is empty for a problem
	// with the document as a whole.
	Path string
	// Message says what is wrong and, where it helps, what was found:
	// "must be ≥ min (3 < 5)".
	Message string
}

// Error returns "path: message", or the message alone when Path is empty.
func (e *FieldError) Error() string {
	if e.Path == "" {
		return e.Message
	}
	return e.Path + ": " + e.Message
}

// FieldErrors lists every problem found in a spec, in field order. It is the
// error Load and Validate return; errors.Is(err, ErrInvalid) holds for it, and
// errors.As finds it (or its first *FieldError) through any wrapping.
type FieldErrors []*FieldError

// Error returns one FieldError per line.
func (e FieldErrors) Error() string {
	lines := make([]string, len(e))
	for i, fe := range e {
		lines[i] = fe.Error()
	}
	return strings.Join(lines, "\n")
}

// Is reports whether target is ErrInvalid.
func (e FieldErrors) Is(target error) bool { return target == ErrInvalid }

// Unwrap returns the individual FieldErrors.
func (e FieldErrors) Unwrap() []error {
	errs := make([]error, len(e))
	for i, fe := range e {
		errs[i] = fe
	}
	return errs
}

// orNil returns e as an error, or a nil error (not a typed nil) when e is
// empty.
func (e FieldErrors) orNil() error {
	if len(e) == 0 {
		return nil
	}
	return e
}
