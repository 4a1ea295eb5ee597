package helmrelease

// The comparison of a live object with its dry-run apply is the one of
// pkg/network (dryrun.go), copied rather than imported: a concern package
// that plans Helm releases through this package must not import
// pkg/network (concern packages do not import each other).

import (
	"bytes"
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"
)

// fieldDiff is one field that differs between the live object and what a
// dry-run apply returned.
type fieldDiff struct {
	path     string // "spec.hard.pods", "metadata.labels[team]"
	from, to string // rendered values; "" for absent
}

// Fields the API server moves on its own, which a plan never reports.
var (
	serverMetadata = []string{
		"resourceVersion", "generation", "managedFields", "uid", "selfLink",
		"creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
	}
	serverTopLevel = []string{"apiVersion", "kind", "status"}
)

// diffLive compares the live object with the object a server-side apply
// in dry-run returned for it, and returns every field that differs, sorted
// by path. The server did the merge — its defaulting, its list and map
// semantics, the fields other managers own — so whatever differs is what
// the apply would change, apart from the bookkeeping in serverMetadata and
// status, which are dropped first. Maps are compared key by key; lists are
// reported whole (every list this package writes is atomic).
func diffLive(live, applied any) ([]fieldDiff, error) {
	l, err := toMap(live)
	if err != nil {
		return nil, err
	}
	a, err := toMap(applied)
	if err != nil {
		return nil, err
	}
	for _, m := range []map[string]any{l, a} {
		for _, k := range serverTopLevel {
			delete(m, k)
		}
		if md, ok := m["metadata"].(map[string]any); ok {
			for _, k := range serverMetadata {
				delete(md, k)
			}
		}
	}
	var out []fieldDiff
	compareMaps(nil, l, a, &out)
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out, nil
}

// toMap marshals v to JSON and back, numbers kept as written.
func toMap(v any) (map[string]any, error) {
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
func compareMaps(path []string, live, applied map[string]any, out *[]fieldDiff) {
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
			*out = append(*out, fieldDiff{path: renderPath(p), from: render(lv), to: render(av)})
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

// render prints a value for a change line: strings bare, the rest as
// compact JSON (map keys sorted); absent as "".
func render(v any) string {
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

// managed returns the fields of live that desired sets — maps key by key,
// anything else whole — without the bookkeeping the server moves on its
// own: what the release manages of the live object, for a plan's base.
func managed(live, desired map[string]any) map[string]any {
	out := map[string]any{}
	for k, dv := range desired {
		lv, ok := live[k]
		if !ok {
			continue
		}
		dm, dIsMap := dv.(map[string]any)
		lm, lIsMap := lv.(map[string]any)
		if dIsMap && lIsMap {
			out[k] = managed(lm, dm)
			continue
		}
		out[k] = lv
	}
	return out
}
