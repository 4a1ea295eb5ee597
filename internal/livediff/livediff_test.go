package livediff

import (
	"slices"
	"testing"
)

func TestDiffReportsOnlyWhatTheApplyChanges(t *testing.T) {
	t.Parallel()
	live := map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "a", "resourceVersion": "7", "uid": "u1", "labels": map[string]any{"team": "x", "keep": "y"}},
		"data":     map[string]any{"k": "old", "same": "1"},
		"status":   map[string]any{"phase": "whatever"},
	}
	applied := map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "a", "resourceVersion": "8", "uid": "u1", "labels": map[string]any{"team": "z", "keep": "y"}},
		"data":     map[string]any{"k": "new", "same": "1", "added": "2"},
		"status":   map[string]any{"phase": "moved"},
	}
	got, err := Diff(live, applied)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range got {
		paths = append(paths, f.Path+": "+f.From+" → "+f.To)
	}
	want := []string{"data.added:  → 2", "data.k: old → new", "metadata.labels.team: x → z"}
	if !slices.Equal(paths, want) {
		t.Errorf("Diff = %q, want %q (server bookkeeping and status never reported)", paths, want)
	}
}

func TestStripServerKeepsWhatTheObjectIs(t *testing.T) {
	t.Parallel()
	m := map[string]any{"apiVersion": "v1", "kind": "Secret", "status": 1,
		"metadata": map[string]any{"name": "s", "managedFields": []any{1}, "generation": 3}}
	StripServer(m)
	md := m["metadata"].(map[string]any)
	if _, ok := m["status"]; ok || md["managedFields"] != nil || md["generation"] != nil || m["kind"] != "Secret" || md["name"] != "s" {
		t.Errorf("StripServer left %v", m)
	}
}
