package helmrelease

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/registry"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/org/platform/internal/livediff"
	"github.com/org/platform/pkg/change"
)

// Release is the desired state of one Helm release: which chart, pinned,
// with exactly which values, installed as Name in Namespace.
type Release struct {
	// Name is the release name (a DNS-1123 subdomain of at most 53
	// characters, as Helm requires).
	Name string `json:"name"`
	// Namespace is where the release and its namespaced objects live.
	Namespace string `json:"namespace"`
	// Chart locates the chart.
	Chart Chart `json:"chart"`
	// Values are the values the chart is rendered with, exactly: they
	// are not merged with a deployed release's values.
	Values map[string]any `json:"values,omitempty"`
	// Sensitive marks values that must never appear in a plan; see
	// SensitiveValue.
	Sensitive []SensitiveValue `json:"sensitive,omitempty"`
}

// Chart names a chart by name and pinned version in a repository.
type Chart struct {
	// Name is the chart's name in the repository ("sealed-secrets").
	Name string `json:"name"`
	// Version is the exact chart version ("2.18.5"). It is required:
	// there is no "latest".
	Version string `json:"version"`
	// RepoURL is an HTTP(S) chart repository (the URL that serves
	// index.yaml) or an OCI registry path ("oci://ghcr.io/org/charts"),
	// to which the chart's name is appended.
	RepoURL string `json:"repoURL"`
}

// String renders the chart for a reviewer: "sealed-secrets 2.18.5".
func (c Chart) String() string { return c.Name + " " + c.Version }

// SensitiveValue marks one key of Release.Values as a secret. A plan
// carries, for it, only Ref and a keyed fingerprint of the value (see
// WithFingerprintKey), never the value: ApplyStep takes the value back
// from the resolver given by WithSensitiveResolver and refuses a value
// whose fingerprint differs from the plan's.
type SensitiveValue struct {
	// Path is the key's dotted path from the root of Values
	// ("adminPassword", "grafana.adminPassword").
	Path string `json:"path"`
	// Ref says where the value comes from, for a reviewer and for the
	// resolver ("secret/monitoring/grafana#admin-password").
	Ref string `json:"ref"`
}

// SensitiveRef is what a plan records of a SensitiveValue.
type SensitiveRef struct {
	Path        string `json:"path"`
	Ref         string `json:"ref"`
	Fingerprint string `json:"fingerprint"`
}

// ErrInvalid is wrapped by every error about a Release that fails
// validation, before any request.
var ErrInvalid = errors.New("invalid release")

// Validate checks the release without a request: the name, the
// namespace, the chart's name, pinned version and repository, and that
// every sensitive path names a value. Errors name the field by its path
// ("chart.version: required: a chart is pinned to a version").
func (r Release) Validate() error {
	var errs []string
	add := func(field, msg string) { errs = append(errs, field+": "+msg) }
	if err := chartutil.ValidateReleaseName(r.Name); err != nil {
		add("name", fmt.Sprintf("%v (got %q)", err, r.Name))
	}
	if msgs := validation.IsDNS1123Label(r.Namespace); len(msgs) > 0 {
		add("namespace", fmt.Sprintf("%s (got %q)", strings.Join(msgs, "; "), r.Namespace))
	}
	for _, e := range r.Chart.errs() {
		errs = append(errs, "chart."+e)
	}
	seen := map[string]bool{}
	for i, s := range r.Sensitive {
		f := fmt.Sprintf("sensitive[%d]", i)
		switch {
		case s.Path == "":
			add(f+".path", "required")
		case seen[s.Path]:
			add(f+".path", fmt.Sprintf("duplicate %q", s.Path))
		default:
			if _, ok := lookup(r.Values, s.Path); !ok {
				add(f+".path", fmt.Sprintf("no value at %q", s.Path))
			}
		}
		if s.Ref == "" {
			add(f+".ref", "required: a plan shows where the value comes from")
		}
		seen[s.Path] = true
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w %s/%s: %s", ErrInvalid, r.Namespace, r.Name, strings.Join(errs, "; "))
	}
	return nil
}

// validate checks a chart's name, pinned version and repository, as
// Release.Validate does.
func (c Chart) validate() error {
	if errs := c.errs(); len(errs) > 0 {
		return fmt.Errorf("%w chart %s: %s", ErrInvalid, c, strings.Join(errs, "; "))
	}
	return nil
}

// errs lists what is wrong with c, each "<field>: <message>".
func (c Chart) errs() []string {
	var errs []string
	add := func(field, msg string) { errs = append(errs, field+": "+msg) }
	if c.Name == "" {
		add("name", "required")
	} else if strings.ContainsAny(c.Name, "/ ") {
		add("name", fmt.Sprintf("a chart name, not a path (got %q)", c.Name))
	}
	switch v := strings.TrimSpace(c.Version); {
	case v == "":
		add("version", "required: a chart is pinned to a version, there is no \"latest\"")
	case v == "latest" || strings.ContainsAny(v, "<>=~^*|, ") || strings.Contains(v, ".x"):
		add("version", fmt.Sprintf("an exact version, not a range (got %q)", c.Version))
	}
	switch u := c.RepoURL; {
	case u == "":
		add("repoURL", "required: an https index.yaml repository or an oci:// registry")
	case !registry.IsOCI(u) && !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://"):
		add("repoURL", fmt.Sprintf("http(s):// or oci:// (got %q)", u))
	}
	return errs
}

// ValueAt returns the value at a dotted path of values, as
// SensitiveValue.Path is written ("grafana.adminPassword").
func ValueAt(values map[string]any, path string) (any, bool) { return lookup(values, path) }

// SetValueAt sets the value at a dotted path of values, making maps on the
// way.
func SetValueAt(values map[string]any, path string, v any) { setPath(values, path, v) }

// lookup returns the value at a dotted path of values.
func lookup(values map[string]any, path string) (any, bool) {
	cur := any(values)
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// setPath sets the value at a dotted path, making maps on the way.
func setPath(values map[string]any, path string, v any) {
	keys := strings.Split(path, ".")
	m := values
	for _, k := range keys[:len(keys)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	m[keys[len(keys)-1]] = v
}

// deletePath removes the value at a dotted path, if any.
func deletePath(values map[string]any, path string) {
	keys := strings.Split(path, ".")
	m := values
	for _, k := range keys[:len(keys)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			return
		}
		m = next
	}
	delete(m, keys[len(keys)-1])
}

// deepCopy returns a copy of values through JSON, numbers kept as written,
// so that what is rendered is what a plan written to disk reads back.
func deepCopy(values map[string]any) (map[string]any, error) {
	if values == nil {
		return map[string]any{}, nil
	}
	b, err := json.Marshal(values)
	if err != nil {
		return nil, err
	}
	out, err := decodeValues(b)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// decodeValues reads JSON values as Helm reads a values file
// (chartutil.ReadValues: JSON is YAML), so that templates see the same
// types whichever way the values came.
func decodeValues(b []byte) (map[string]any, error) {
	v, err := chartutil.ReadValues(b)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return map[string]any{}, nil
	}
	return v.AsMap(), nil
}

// fingerprint is the keyed fingerprint of one sensitive value:
// "hmac-sha256:" and the hex HMAC of its canonical JSON.
func fingerprint(key []byte, v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("fingerprint a sensitive value: %w", err)
	}
	m := hmac.New(sha256.New, key)
	m.Write(b)
	return "hmac-sha256:" + hex.EncodeToString(m.Sum(nil)), nil
}

// redacted returns values with every sensitive path removed (for the
// plan's Action) and the refs with their fingerprints, in path order.
func redacted(values map[string]any, sens []SensitiveValue, key []byte) (map[string]any, []SensitiveRef, error) {
	out, err := deepCopy(values)
	if err != nil {
		return nil, nil, fmt.Errorf("copy values: %w", err)
	}
	var refs []SensitiveRef
	for _, s := range sens {
		v, ok := lookup(out, s.Path)
		if !ok {
			return nil, nil, fmt.Errorf("sensitive value %s: no value at this path", s.Path)
		}
		fp, err := fingerprint(key, v)
		if err != nil {
			return nil, nil, err
		}
		deletePath(out, s.Path)
		refs = append(refs, SensitiveRef{Path: s.Path, Ref: s.Ref, Fingerprint: fp})
	}
	slices.SortFunc(refs, func(a, b SensitiveRef) int { return strings.Compare(a.Path, b.Path) })
	return out, refs, nil
}

// valuesDigest is the SHA-256 of the canonical values (change.Digest:
// keys in order, so the digest does not depend on map order), with each
// sensitive value replaced by its keyed fingerprint: the digest never
// lets a low-entropy secret be guessed from a plan.
func valuesDigest(public map[string]any, refs []SensitiveRef) (string, error) {
	v, err := deepCopy(public)
	if err != nil {
		return "", err
	}
	for _, r := range refs {
		setPath(v, r.Path, r.Fingerprint)
	}
	d, err := change.Digest(v)
	if err != nil {
		return "", fmt.Errorf("digest values: %w", err)
	}
	return "sha256:" + d, nil
}

// sensitivePaths returns the set of sensitive paths.
func sensitivePaths(refs []SensitiveRef) map[string]bool {
	out := make(map[string]bool, len(refs))
	for _, r := range refs {
		out[r.Path] = true
	}
	return out
}

// flatten lists every leaf of values by dotted path, lists whole, as
// rendered for a change line.
func flatten(prefix string, values map[string]any, out map[string]string) {
	for _, k := range slices.Sorted(maps.Keys(values)) {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		if m, ok := values[k].(map[string]any); ok && len(m) > 0 {
			flatten(p, m, out)
			continue
		}
		out[p] = livediff.Render(values[k])
	}
}
