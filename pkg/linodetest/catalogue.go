package linodetest

//go:generate go test . -run ^TestCatalogueSchemasFile$ -update

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sync"
)

// The files of a catalogue, named as the recordings in catalogue/ are. Each
// holds the body of one GET of the Linode API.
const (
	// Required.
	fileRegions     = "regions.json"      // GET /regions
	fileLinodeTypes = "linode-types.json" // GET /linode/types
	// Optional.
	fileAvailability   = "regions-availability.json"         // GET /regions/availability
	fileLKETypes       = "lke-types.json"                    // GET /lke/types
	fileLKEVersions    = "lke-versions.json"                 // GET /lke/versions
	fileTierStandard   = "lke-tier-versions-standard.json"   // GET /lke/tiers/standard/versions
	fileTierEnterprise = "lke-tier-versions-enterprise.json" // GET /lke/tiers/enterprise/versions
	fileAssumptions    = "assumptions.json"                  // not an API response: see assumptions
)

// LKE tiers.
const (
	tierStandard   = "standard"
	tierEnterprise = "enterprise"
)

// catalogueDir holds the recorded responses, the assumptions layered over
// them and the response schemas every catalogue is checked against.
//
//go:embed catalogue/*.json
var catalogueDir embed.FS

// Catalogue is what a Server offers: regions (in the API's own order) with
// their capabilities, region availability, Linode types, LKE control-plane
// types, and LKE versions per tier. A Catalogue is immutable once built and
// may be shared by any number of Servers.
//
// Build one with DefaultCatalogue or CatalogueFromResponses; the zero
// Catalogue is empty and WithCatalogue refuses it.
//
// # Current and known versions
//
// A version is current when a versions list offers it: GET /lke/versions
// and GET /lke/tiers/{tier}/versions list exactly the current ones, and a
// cluster can be created in, upgraded to, or (enterprise) given pools of
// only a current version of its tier. A version is known when some
// response of the catalogue listed it at some time: GET /lke/versions/{id}
// and GET /lke/tiers/{tier}/versions/{id} answer for every known version,
// as the API keeps answering for a version it no longer offers. Versions
// from the responses are current unless assumptions.json replaces a tier's
// current list; the versions it displaces stay known.
type Catalogue struct {
	regions    []catRegion
	regionByID map[string]*catRegion

	availability []availabilityJSON
	unavailable  map[regionPlan]bool

	types    []catItem
	typeByID map[string]*catItem

	lkeTypes []catItem

	// versions is GET /lke/versions, tierLists GET /lke/tiers/{tier}/versions.
	versions  []string
	tierLists map[string][]string
	current   map[string]map[string]bool // by tier
	known     map[string]map[string]bool // by tier
}

// catItem is one object of a catalogue list, kept as the bytes it is
// served as.
type catItem struct {
	id  string
	raw json.RawMessage
}

// catRegion is one region of the catalogue.
type catRegion struct {
	catItem
	capabilities []string
}

type regionPlan struct{ region, plan string }

// availabilityJSON is an entry of GET /regions/availability.
type availabilityJSON struct {
	Available bool   `json:"available"`
	Plan      string `json:"plan"`
	Region    string `json:"region"`
}

// Region capabilities the simulator's services check.
const (
	capLKE           = "Kubernetes"
	capLKEEnterprise = "Kubernetes Enterprise"
	capVPC           = "VPCs"
	capObjectStorage = "Object Storage"
)

func (r *catRegion) has(capability string) bool { return slices.Contains(r.capabilities, capability) }

// region returns the region id, or nil if the catalogue has none.
func (c *Catalogue) region(id string) *catRegion { return c.regionByID[id] }

// linodeType returns the Linode type id, or nil.
func (c *Catalogue) linodeType(id string) *catItem { return c.typeByID[id] }

// isTier reports whether tier is an LKE tier.
func isTier(tier string) bool { return tier == tierStandard || tier == tierEnterprise }

// creatable reports whether version is current in tier: a cluster of the
// tier can be created in it or upgraded to it.
func (c *Catalogue) creatable(tier, version string) bool { return c.current[tier][version] }

// planAvailable reports whether plan may be deployed in region: yes unless
// the availability data records it unavailable there.
func (c *Catalogue) planAvailable(region, plan string) bool {
	return !c.unavailable[regionPlan{region, plan}]
}

// Regions returns the IDs of the catalogue's regions in the API's order.
func (c Catalogue) Regions() []string {
	out := make([]string, len(c.regions))
	for i := range c.regions {
		out[i] = c.regions[i].id
	}
	return out
}

// Versions returns the current Kubernetes versions of an LKE tier
// ("standard" or "enterprise"), newest first as the API lists them; nil for
// another tier.
func (c Catalogue) Versions(tier string) []string { return slices.Clone(c.tierLists[tier]) }

// DefaultCatalogue returns the catalogue a Server offers without
// WithCatalogue: the responses of the real API recorded in the package's
// catalogue directory, with the assumptions of catalogue/assumptions.json
// layered over them (newer LKE versions, capabilities regions gained since
// the recordings, the LKE Enterprise control-plane type). It is loaded once.
func DefaultCatalogue() Catalogue {
	c, err := defaultCatalogue()
	if err != nil {
		// The embedded files are tested; this is a broken build.
		panic(fmt.Sprintf("linodetest: embedded catalogue: %v", err))
	}
	return c
}

var defaultCatalogue = sync.OnceValues(func() (Catalogue, error) {
	sub, err := fs.Sub(catalogueDir, "catalogue")
	if err != nil {
		return Catalogue{}, err
	}
	return CatalogueFromResponses(sub)
})

// CatalogueFromResponses builds a catalogue from response bodies of the
// Linode API saved as files of fsys (named as below, at its root), so that
// a Server offers exactly what an account sees. Each file holds the JSON
// body of one GET: the list envelope {"data":[…],"page":…,"pages":…,
// "results":…}, with every page's data merged into one data array (page,
// pages and results may then be left out).
//
// Required:
//
//	regions.json                      GET /regions
//	linode-types.json                 GET /linode/types
//
// Optional (and what a missing one means):
//
//	regions-availability.json         GET /regions/availability: every plan available everywhere
//	lke-types.json                    GET /lke/types: no control-plane types
//	lke-versions.json                 GET /lke/versions: the standard tier's versions
//	lke-tier-versions-standard.json   GET /lke/tiers/standard/versions: lke-versions.json's
//	lke-tier-versions-enterprise.json GET /lke/tiers/enterprise/versions: no enterprise versions
//	assumptions.json                  facts layered over the responses (see below)
//
// At least one of lke-versions.json and lke-tier-versions-standard.json is
// required. Each file is checked against the schema of its response,
// taken from Linode's OpenAPI description and embedded in the package (the
// OpenAPI file is not needed), with one tightening: every item needs its
// identifying fields (id; region, plan and available for availability).
// An error names the file and the field, as
// "regions.json: data[3].capabilities: value must be an array".
//
// assumptions.json, as the package's own catalogue/assumptions.json, is
// an object of three optional lists, applied in order:
//
//	{"versions":     [{"tier": "standard", "current": ["1.34", …], "reason": "…"}],
//	 "capabilities": [{"regions": ["us-east", …], "add": ["VPCs", …], "reason": "…"}],
//	 "lke_types":    [{"type": {…an item of GET /lke/types…}, "reason": "…"}]}
//
// A versions entry replaces the tier's current list (for the standard tier
// also GET /lke/versions); the versions it displaces stay known (see
// Catalogue). A capabilities entry appends capabilities a region lacks. An
// lke_types entry adds a type, or replaces the one with its id. Every entry
// needs a non-empty reason.
func CatalogueFromResponses(fsys fs.FS) (Catalogue, error) {
	schemas, err := catalogueSchemas()
	if err != nil {
		return Catalogue{}, err
	}
	l := &catLoader{fsys: fsys, schemas: schemas}
	c, err := l.load()
	if err != nil {
		return Catalogue{}, fmt.Errorf("load catalogue: %w", err)
	}
	return c, nil
}

// catLoader reads the files of one catalogue.
type catLoader struct {
	fsys    fs.FS
	schemas map[string]*catSchema
}

// envelope is a list response; Data keeps each item's bytes.
type envelope struct {
	Data []json.RawMessage `json:"data"`
}

// read returns the items of file, checked against its schema; ok is false
// for a missing optional file.
func (l *catLoader) read(file string, required bool) (items []json.RawMessage, ok bool, err error) {
	b, err := fs.ReadFile(l.fsys, file)
	if errors.Is(err, fs.ErrNotExist) && !required {
		return nil, false, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, fmt.Errorf("%s: required file is missing", file)
	}
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", file, err)
	}
	if err := l.schemas[file].check(file, b); err != nil {
		return nil, false, err
	}
	var env envelope
	if err := json.Unmarshal(b, &env); err != nil {
		return nil, false, fmt.Errorf("%s: %w", file, err)
	}
	return env.Data, true, nil
}

// ids decodes the id of each item and refuses duplicates.
func ids(file, what string, items []json.RawMessage) ([]catItem, error) {
	out := make([]catItem, len(items))
	seen := map[string]bool{}
	for i, raw := range items {
		var v struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("%s: data[%d]: %w", file, i, err)
		}
		if v.ID == "" {
			return nil, fmt.Errorf("%s: data[%d].id: must not be empty", file, i)
		}
		if seen[v.ID] {
			return nil, fmt.Errorf("%s: data[%d].id: duplicate %s %q", file, i, what, v.ID)
		}
		seen[v.ID] = true
		out[i] = catItem{id: v.ID, raw: compact(raw)}
	}
	return out, nil
}

func compact(raw json.RawMessage) json.RawMessage {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return raw // already checked as JSON; cannot happen
	}
	return b.Bytes()
}

func (l *catLoader) load() (Catalogue, error) {
	c := Catalogue{
		regionByID:  map[string]*catRegion{},
		typeByID:    map[string]*catItem{},
		unavailable: map[regionPlan]bool{},
		tierLists:   map[string][]string{},
		current:     map[string]map[string]bool{tierStandard: {}, tierEnterprise: {}},
		known:       map[string]map[string]bool{tierStandard: {}, tierEnterprise: {}},
	}
	if err := l.loadRegions(&c); err != nil {
		return Catalogue{}, err
	}
	items, _, err := l.read(fileLinodeTypes, true)
	if err != nil {
		return Catalogue{}, err
	}
	if c.types, err = ids(fileLinodeTypes, "Linode type", items); err != nil {
		return Catalogue{}, err
	}
	if items, ok, err := l.read(fileAvailability, false); err != nil {
		return Catalogue{}, err
	} else if ok {
		c.availability = make([]availabilityJSON, len(items))
		for i, raw := range items {
			if err := json.Unmarshal(raw, &c.availability[i]); err != nil {
				return Catalogue{}, fmt.Errorf("%s: data[%d]: %w", fileAvailability, i, err)
			}
			if !c.availability[i].Available {
				c.unavailable[regionPlan{c.availability[i].Region, c.availability[i].Plan}] = true
			}
		}
	}
	if items, ok, err := l.read(fileLKETypes, false); err != nil {
		return Catalogue{}, err
	} else if ok {
		if c.lkeTypes, err = ids(fileLKETypes, "LKE type", items); err != nil {
			return Catalogue{}, err
		}
	}
	if err := l.loadVersions(&c); err != nil {
		return Catalogue{}, err
	}
	if err := l.applyAssumptions(&c); err != nil {
		return Catalogue{}, err
	}
	c.index()
	return c, nil
}

func (l *catLoader) loadRegions(c *Catalogue) error {
	items, _, err := l.read(fileRegions, true)
	if err != nil {
		return err
	}
	regs, err := ids(fileRegions, "region", items)
	if err != nil {
		return err
	}
	c.regions = make([]catRegion, len(regs))
	for i, it := range regs {
		var v struct {
			Capabilities []string `json:"capabilities"`
		}
		if err := json.Unmarshal(it.raw, &v); err != nil {
			return fmt.Errorf("%s: data[%d]: %w", fileRegions, i, err)
		}
		c.regions[i] = catRegion{catItem: it, capabilities: v.Capabilities}
	}
	return nil
}

// versionIDs decodes a versions list; a tier list's items must name its tier.
func versionIDs(file, tier string, items []json.RawMessage) ([]string, error) {
	out := make([]string, 0, len(items))
	seen := map[string]bool{}
	for i, raw := range items {
		var v struct {
			ID   string `json:"id"`
			Tier string `json:"tier"`
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("%s: data[%d]: %w", file, i, err)
		}
		switch {
		case v.ID == "":
			return nil, fmt.Errorf("%s: data[%d].id: must not be empty", file, i)
		case seen[v.ID]:
			return nil, fmt.Errorf("%s: data[%d].id: duplicate version %q", file, i, v.ID)
		case tier != "" && v.Tier != tier:
			return nil, fmt.Errorf("%s: data[%d].tier: %q in the list of the %s tier", file, i, v.Tier, tier)
		}
		seen[v.ID] = true
		out = append(out, v.ID)
	}
	return out, nil
}

func (l *catLoader) loadVersions(c *Catalogue) error {
	lists := map[string][]string{}
	for _, f := range []struct{ file, tier string }{
		{fileLKEVersions, ""}, {fileTierStandard, tierStandard}, {fileTierEnterprise, tierEnterprise},
	} {
		items, ok, err := l.read(f.file, false)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		vs, err := versionIDs(f.file, f.tier, items)
		if err != nil {
			return err
		}
		lists[f.file] = vs
	}
	plain, hasPlain := lists[fileLKEVersions]
	std, hasStd := lists[fileTierStandard]
	switch {
	case !hasPlain && !hasStd:
		return fmt.Errorf("%s or %s: one is required (the standard tier's versions)", fileLKEVersions, fileTierStandard)
	case !hasPlain:
		plain = std
	case !hasStd:
		std = plain
	}
	c.versions = plain
	c.tierLists[tierStandard] = std
	c.tierLists[tierEnterprise] = lists[fileTierEnterprise]
	// Both standard lists are the API's word on what is current.
	for _, v := range slices.Concat(plain, std) {
		c.current[tierStandard][v], c.known[tierStandard][v] = true, true
	}
	for _, v := range c.tierLists[tierEnterprise] {
		c.current[tierEnterprise][v], c.known[tierEnterprise][v] = true, true
	}
	return nil
}

// index builds the lookups by id; the slices are final.
func (c *Catalogue) index() {
	for i := range c.regions {
		c.regionByID[c.regions[i].id] = &c.regions[i]
	}
	for i := range c.types {
		c.typeByID[c.types[i].id] = &c.types[i]
	}
}

// defaultCataloguePtr is DefaultCatalogue shared by every Server that has
// no WithCatalogue.
var defaultCataloguePtr = sync.OnceValue(func() *Catalogue {
	c := DefaultCatalogue()
	return &c
})

// catalogue is what the Server offers.
func (s *Server) catalogue() *Catalogue { return s.cfg.catalogue }
