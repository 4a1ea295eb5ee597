package network

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

// fieldDiff is one field that differs between the desired and the live
// object.
type fieldDiff struct {
	path     string // "spec.hard.pods", "metadata.labels[team]"
	from, to string // rendered values; "" for absent
}

// diffObject compares the fields of the desired object (its apply
// configuration, marshalled) with the live object, and returns what
// differs, sorted by path. Only the fields this package manages count:
//
//   - every field the apply configuration sets must hold the same value in
//     the live object (maps are compared key by key, so keys others added
//     do not count; lists are atomic in every kind written here and are
//     compared whole);
//   - every field FieldManager owns in the live object by an earlier apply
//     and the apply configuration no longer sets will be removed by the
//     next apply, so it differs too.
//
// This is what a server-side dry-run apply would report for these kinds,
// computed locally so that a plan never sends a request that could write
// (fake clientsets ignore dry-run).
func diffObject(desiredAC any, live any, managed []metav1.ManagedFieldsEntry) ([]fieldDiff, error) {
	desired, err := toMap(desiredAC)
	if err != nil {
		return nil, fmt.Errorf("encode desired object: %w", err)
	}
	current, err := toMap(live)
	if err != nil {
		return nil, fmt.Errorf("encode live object: %w", err)
	}
	delete(desired, "apiVersion")
	delete(desired, "kind")
	if md, ok := desired["metadata"].(map[string]any); ok {
		delete(md, "name")
		delete(md, "namespace")
	}
	var out []fieldDiff
	compare(nil, desired, current, &out)

	owned, err := ownedFields(managed)
	if err != nil {
		return nil, err
	}
	owned.Leaves().Iterate(func(p fieldpath.Path) {
		keys, ok := fieldNames(p)
		if !ok || len(keys) == 0 {
			return
		}
		if _, want := lookup(desired, keys); want {
			return
		}
		if have, ok := lookup(current, keys); ok {
			out = append(out, fieldDiff{path: renderPath(keys), from: render(have)})
		}
	})
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out, nil
}

// toMap marshals v to JSON and back, so desired and live values have the
// same Go types (float64 numbers, []any, map[string]any).
func toMap(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		m = map[string]any{}
	}
	dropZero(m)
	return m, nil
}

// dropZero removes, at every depth, fields holding "", false, 0, null or
// an empty list: the typed API objects omit them when marshalled, while an
// apply configuration may carry them explicitly, and for the kinds written
// here the two mean the same. Empty objects ("podSelector: {}", which
// selects everything) are kept.
func dropZero(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			e = dropZero(e)
			switch e := e.(type) {
			case nil:
				delete(v, k)
				continue
			case string:
				if e == "" {
					delete(v, k)
					continue
				}
			case bool:
				if !e {
					delete(v, k)
					continue
				}
			case float64:
				if e == 0 {
					delete(v, k)
					continue
				}
			case []any:
				if len(e) == 0 {
					delete(v, k)
					continue
				}
			}
			v[k] = e
		}
		return v
	case []any:
		for i := range v {
			v[i] = dropZero(v[i])
		}
		return v
	}
	return v
}

// compare records where live differs from want, for the fields want sets.
func compare(path []string, want, live any, out *[]fieldDiff) {
	wm, ok := want.(map[string]any)
	if !ok {
		if !reflect.DeepEqual(want, live) {
			*out = append(*out, fieldDiff{path: renderPath(path), from: render(live), to: render(want)})
		}
		return
	}
	lm, _ := live.(map[string]any)
	if len(wm) == 0 && lm == nil {
		// An empty object the live one lacks ("podSelector: {}" is read back
		// as such; a missing one only on objects written by others).
		if live == nil {
			*out = append(*out, fieldDiff{path: renderPath(path), to: "{}"})
		}
		return
	}
	for k, wv := range wm {
		var lv any
		if lm != nil {
			lv = lm[k]
		}
		compare(append(append([]string(nil), path...), k), wv, lv, out)
	}
}

// ownedFields returns the fields FieldManager owns by apply.
func ownedFields(managed []metav1.ManagedFieldsEntry) (*fieldpath.Set, error) {
	set := &fieldpath.Set{}
	for _, m := range managed {
		if m.Manager != FieldManager || m.Operation != metav1.ManagedFieldsOperationApply || m.FieldsV1 == nil {
			continue
		}
		s := &fieldpath.Set{}
		if err := s.FromJSON(bytes.NewReader(m.FieldsV1.Raw)); err != nil {
			return nil, fmt.Errorf("read managed fields of %s: %w", FieldManager, err)
		}
		set = set.Union(s)
	}
	return set, nil
}

// fieldNames returns the path as map keys; false when it goes through a
// list element, which never happens for the atomic lists written here.
func fieldNames(p fieldpath.Path) ([]string, bool) {
	keys := make([]string, 0, len(p))
	for _, e := range p {
		if e.FieldName == nil {
			return nil, false
		}
		keys = append(keys, *e.FieldName)
	}
	return keys, true
}

func lookup(m map[string]any, keys []string) (any, bool) {
	var cur any = m
	for _, k := range keys {
		cm, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = cm[k]; !ok {
			return nil, false
		}
	}
	return cur, true
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

// render prints a value for a change line: strings bare, the rest as
// compact JSON; absent as "".
func render(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
