package linodetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
)

// assumptions are facts about the API that no recorded response holds,
// layered over a catalogue's responses (see CatalogueFromResponses). Each
// entry says why it was assumed.
type assumptions struct {
	// Comment is free text for the file's reader.
	Comment      string                 `json:"comment"`
	Versions     []versionAssumption    `json:"versions"`
	Capabilities []capabilityAssumption `json:"capabilities"`
	LKETypes     []lkeTypeAssumption    `json:"lke_types"`
}

// versionAssumption replaces the current versions of a tier.
type versionAssumption struct {
	Tier    string   `json:"tier"`
	Current []string `json:"current"`
	Reason  string   `json:"reason"`
}

// capabilityAssumption adds capabilities to regions.
type capabilityAssumption struct {
	Regions []string `json:"regions"`
	Add     []string `json:"add"`
	Reason  string   `json:"reason"`
}

// lkeTypeAssumption adds or replaces an LKE control-plane type.
type lkeTypeAssumption struct {
	Type   json.RawMessage `json:"type"`
	Reason string          `json:"reason"`
}

func (l *catLoader) applyAssumptions(c *Catalogue) error {
	b, err := fs.ReadFile(l.fsys, fileAssumptions)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: %w", fileAssumptions, err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var a assumptions
	if err := dec.Decode(&a); err != nil {
		return fmt.Errorf("%s: %w", fileAssumptions, describeJSONError(b, err))
	}
	for i, v := range a.Versions {
		if err := applyVersions(c, v); err != nil {
			return fmt.Errorf("%s: versions[%d]%w", fileAssumptions, i, err)
		}
	}
	for i, ca := range a.Capabilities {
		if err := applyCapabilities(c, ca); err != nil {
			return fmt.Errorf("%s: capabilities[%d]%w", fileAssumptions, i, err)
		}
	}
	for i, t := range a.LKETypes {
		if err := l.applyLKEType(c, t); err != nil {
			return fmt.Errorf("%s: lke_types[%d]%w", fileAssumptions, i, err)
		}
	}
	return nil
}

// errAt is an error at a field below an assumption entry; it formats as
// ".field: reason", to follow the entry's path.
func errAt(field, format string, args ...any) error {
	return fmt.Errorf("."+field+": "+format, args...)
}

func applyVersions(c *Catalogue, v versionAssumption) error {
	switch {
	case v.Reason == "":
		return errAt("reason", "must say why the versions are assumed")
	case !isTier(v.Tier):
		return errAt("tier", "must be %s or %s (got %q)", tierStandard, tierEnterprise, v.Tier)
	case len(v.Current) == 0:
		return errAt("current", "must list at least one version")
	}
	cur := map[string]bool{}
	for j, id := range v.Current {
		if id == "" || cur[id] {
			return errAt(fmt.Sprintf("current[%d]", j), "empty or duplicate version %q", id)
		}
		cur[id] = true
		c.known[v.Tier][id] = true
	}
	c.current[v.Tier] = cur
	c.tierLists[v.Tier] = slices.Clone(v.Current)
	if v.Tier == tierStandard {
		c.versions = slices.Clone(v.Current)
	}
	return nil
}

func applyCapabilities(c *Catalogue, ca capabilityAssumption) error {
	switch {
	case ca.Reason == "":
		return errAt("reason", "must say why the capabilities are assumed")
	case len(ca.Regions) == 0:
		return errAt("regions", "must name at least one region")
	case len(ca.Add) == 0:
		return errAt("add", "must name at least one capability")
	}
	for j, id := range ca.Regions {
		k := slices.IndexFunc(c.regions, func(r catRegion) bool { return r.id == id })
		if k < 0 {
			return errAt(fmt.Sprintf("regions[%d]", j), "no region %q in %s", id, fileRegions)
		}
		r := &c.regions[k]
		added := false
		for _, capability := range ca.Add {
			if !r.has(capability) {
				r.capabilities = append(r.capabilities, capability)
				added = true
			}
		}
		if !added {
			continue
		}
		raw, err := withMember(r.raw, "capabilities", r.capabilities)
		if err != nil {
			return errAt(fmt.Sprintf("regions[%d]", j), "%v", err)
		}
		r.raw = raw
	}
	return nil
}

// withMember returns the object raw with member name set to v; other
// members keep their exact values (numbers are not reformatted).
func withMember(raw json.RawMessage, name string, v any) (json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	m[name] = b
	return json.Marshal(m)
}

func (l *catLoader) applyLKEType(c *Catalogue, t lkeTypeAssumption) error {
	if t.Reason == "" {
		return errAt("reason", "must say why the type is assumed")
	}
	if len(t.Type) == 0 {
		return errAt("type", "is required")
	}
	if err := l.schemas[fileLKETypes].checkItem(t.Type); err != nil {
		return fmt.Errorf(".type%w", err)
	}
	items, err := ids(fileAssumptions, "LKE type", []json.RawMessage{t.Type})
	if err != nil {
		return errAt("type", "%v", err)
	}
	it := items[0]
	if k := slices.IndexFunc(c.lkeTypes, func(x catItem) bool { return x.id == it.id }); k >= 0 {
		c.lkeTypes[k] = it
	} else {
		c.lkeTypes = append(c.lkeTypes, it)
	}
	return nil
}
