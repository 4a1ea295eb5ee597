// Package spec is the environment spec: the typed, documented desired state
// of one of the platform's isolated Kubernetes environments (development,
// staging, production, system), loaded from YAML and validated before any
// API is called.
//
// It is a leaf: it imports nothing of this module, and every other package
// imports it. Validate returns every problem at once, each a FieldError whose
// path starts at the YAML root and names node pools by name, for example
//
//	cluster.nodePools[general].autoscaler.max: must be ≥ min (3 < 5)
package spec
