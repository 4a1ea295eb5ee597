// Package livediff compares a live Kubernetes object with the object a
// server-side apply in dry-run returned for it: what the apply would
// change, field by field, with the server's own merge. pkg/network plans
// its baseline with it and internal/helmrelease the objects of a release;
// it lives here so that neither imports the other.
package livediff

import (
	"bytes"
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"
)

// Field is one field that differs between the live object and what a
// dry-run apply returned.
type Field struct {
	Path     string // "spec.hard.pods", "metadata.labels[team]"
	From, To string // rendered values; "" for absent
}

// serverMetadata are the fields of metadata the API server moves on its
// own, which a plan never reports.
var serverMetadata = []string{
	"resourceVersion", "generation", "managedFields", "uid", "selfLink",
	"creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
}

// Diff compares the live object with the object a server-side apply
// in dry-run returned for it, and returns every field that differs, sorted
// by path. The server did the merge — its defaulting, its list and map
// semantics, the fields other managers own — so whatever differs is what
// the apply would change, apart from the bookkeeping StripServer drops
// first (and apiVersion and kind, which an apply does not change). Maps are compared key by key; lists are
// reported whole (every list this package writes is atomic).
func Diff(live, applied any) ([]Field, error) {
	l, err := ToMap(live)
	if err != nil {
		return nil, err
	}
	a, err := ToMap(applied)
	if err != nil {
		return nil, err
	}
	for _, m := range []map[string]any{l, a} {
		StripServer(m)
		delete(m, "apiVersion")
		delete(m, "kind")
	}
	var out []Field
	compareMaps(nil, l, a, &out)
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// StripServer deletes from an object, in place, what the API server moves
// on its own: status and the bookkeeping of metadata (resourceVersion,
// generation, managedFields, uid, timestamps). apiVersion and kind stay.
func StripServer(m map[string]any) {
	delete(m, "status")
	if md, ok := m["metadata"].(map[string]any); ok {
		for _, k := range serverMetadata {
			delete(md, k)
		}
	}
}

// ToMap marshals v to JSON and back, numbers kept as written.
func ToMap(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}

// compareMaps records, under path, every key whose value differs between
// live and applied.
func compareMaps(path []string, live, applied map[string]any, out *[]Field) {
	keys := slices.Sorted(maps.Keys(live))
	for k := range applied {
		if _, ok := live[k]; !ok {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		p := append(slices.Clone(path), k)
		lv, av := live[k], applied[k]
		lm, lIsMap := lv.(map[string]any)
		am, aIsMap := av.(map[string]any)
		switch {
		case reflect.DeepEqual(lv, av):
		case lIsMap && aIsMap,
			lIsMap && av == nil && len(lm) > 0,
			aIsMap && lv == nil && len(am) > 0:
			// A map on one side and absent on the other is compared key
			// by key too: "metadata.labels.tier: (none) → batch".
			compareMaps(p, lm, am, out)
		default:
			*out = append(*out, Field{Path: renderPath(p), From: Render(lv), To: Render(av)})
		}
	}
}

// renderPath joins keys with dots, bracketing keys that hold a dot or a
// slash: metadata.labels[app.kubernetes.io/managed-by].
func renderPath(keys []string) string {
	var b strings.Builder
	for i, k := range keys {
		switch {
		case strings.ContainsAny(k, "./"):
			b.WriteString("[" + k + "]")
		case i > 0:
			b.WriteString("." + k)
		default:
			b.WriteString(k)
		}
	}
	return b.String()
}

// Render prints a value for a change line: strings bare, the rest as
// compact JSON (map keys sorted); absent as "".
func Render(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "(unprintable)"
	}
	return string(b)
}
