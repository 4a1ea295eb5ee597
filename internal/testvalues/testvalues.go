// Package testvalues holds the values that a local test cluster (a real
// API server with kwok nodes, internal/controlplane) installs over the
// baseline's production values, and nothing else: testvalues.yaml, where
// each entry says why. The examples and the tests on local control planes
// pass Overrides as rollout.Deps.ReleaseValues.
package testvalues

import (
	_ "embed"
	"fmt"

	"sigs.k8s.io/yaml"
)

//go:embed testvalues.yaml
var raw []byte

// Overrides returns the overrides, keyed "<namespace>/<release>", freshly
// decoded (the caller may change them).
func Overrides() map[string]map[string]any {
	var out map[string]map[string]any
	if err := yaml.Unmarshal(raw, &out); err != nil {
		panic(fmt.Sprintf("internal/testvalues: testvalues.yaml: %v", err)) // embedded: a test catches it
	}
	return out
}
