package spec

import (
	"fmt"
	"strconv"
)

// fieldPath is a FieldError path under construction.
type fieldPath string

// field returns the path of the named field below p.
func (p fieldPath) field(name string) fieldPath {
	if p == "" {
		return fieldPath(name)
	}
	return p + "." + fieldPath(name)
}

// key returns the path of the list or map entry named k below p. A name
// that looks like a secret is not repeated: it becomes "(redacted)".
func (p fieldPath) key(k string) fieldPath {
	if secretKind(k) != "" {
		k = "(redacted)"
	}
	return p + "[" + fieldPath(k) + "]"
}

// index returns the path of list entry i below p.
func (p fieldPath) index(i int) fieldPath { return p.key(strconv.Itoa(i)) }

// entryKeys returns how each list entry is named in a path: by its name when
// the name is set and no earlier entry has it, else by its index. The same
// rule names entries in load errors and in validation errors.
func EntryKeys(names []string) []string {
	keys := make([]string, len(names))
	seen := make(map[string]bool, len(names))
	for i, n := range names {
		if n == "" || seen[n] {
			keys[i] = strconv.Itoa(i)
			continue
		}
		seen[n] = true
		keys[i] = n
	}
	return keys
}

// EntryKeysOf is EntryKeys over the names that name picks out of items.
func EntryKeysOf[T any](items []T, name func(T) string) []string {
	names := make([]string, len(items))
	for i, it := range items {
		names[i] = name(it)
	}
	return EntryKeys(names)
}

// collector gathers FieldErrors.
type collector struct {
	errs FieldErrors
}

// add records a problem at p.
func (c *collector) add(p fieldPath, format string, args ...any) {
	c.errs = append(c.errs, &FieldError{Path: string(p), Message: fmt.Sprintf(format, args...)})
}
