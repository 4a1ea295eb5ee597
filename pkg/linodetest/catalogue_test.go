package linodetest

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/linode/linodego"
)

// recordedResponses returns the recorded response files, without the
// assumptions: the bare API answers.
func recordedResponses(t *testing.T) fstest.MapFS {
	t.Helper()
	out := fstest.MapFS{}
	for _, f := range catalogueFiles {
		b, err := catalogueDir.ReadFile("catalogue/" + f)
		if err != nil {
			t.Fatal(err)
		}
		out[f] = &fstest.MapFile{Data: b}
	}
	return out
}

// getAll GETs every page of a list through the linodego client and returns
// the items decoded generically.
func getAll(t *testing.T, client *linodego.Client, path string) []any {
	t.Helper()
	var all []any
	for page := 1; ; page++ {
		resp, err := client.R(t.Context()).Get(fmt.Sprintf("%s?page=%d&page_size=%d", path, page, MaxPageSize))
		if err != nil || resp.StatusCode() != http.StatusOK {
			t.Fatalf("GET %s page %d: %v %v", path, page, resp, err)
		}
		var env struct {
			Data  []any `json:"data"`
			Pages int   `json:"pages"`
		}
		if err := json.Unmarshal(resp.Body(), &env); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		all = append(all, env.Data...)
		if page >= env.Pages {
			return all
		}
	}
}

func fileData(t *testing.T, fsys fs.FS, file string) []any {
	t.Helper()
	b, err := fs.ReadFile(fsys, file)
	if err != nil {
		t.Fatal(err)
	}
	var env struct {
		Data []any `json:"data"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatal(err)
	}
	return env.Data
}

func TestCatalogueFromResponsesServesThemBack(t *testing.T) {
	t.Parallel()
	files := recordedResponses(t)
	cat, err := CatalogueFromResponses(files)
	if err != nil {
		t.Fatal(err)
	}
	_, client := New(t, WithCatalogue(cat))
	for _, tc := range []struct{ file, path string }{
		{fileRegions, "regions"},
		{fileAvailability, "regions/availability"},
		{fileLinodeTypes, "linode/types"},
		{fileLKETypes, "lke/types"},
		{fileLKEVersions, "lke/versions"},
		{fileTierStandard, "lke/tiers/standard/versions"},
		{fileTierEnterprise, "lke/tiers/enterprise/versions"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			want := fileData(t, files, tc.file)
			got := getAll(t, client, tc.path)
			if len(want) == 0 {
				t.Fatalf("%s holds no data: nothing to compare", tc.file)
			}
			if len(got) != len(want) {
				t.Fatalf("GET %s: %d items, %s has %d", tc.path, len(got), tc.file, len(want))
			}
			for i := range want {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Errorf("GET %s item %d:\n got %v\nwant %v", tc.path, i, got[i], want[i])
				}
			}
		})
	}
}

func TestDefaultCatalogueAnswersWithinTheContract(t *testing.T) {
	t.Parallel()
	srv, client := New(t)
	if !srv.Validating() {
		t.Log("no OpenAPI description: only the answers are checked, not their contract")
	}
	ctx := t.Context()
	regs, err := client.ListRegions(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range regs {
		ids = append(ids, r.ID)
		got, err := client.GetRegion(ctx, r.ID)
		if err != nil || got.ID != r.ID || !slices.Equal(got.Capabilities, r.Capabilities) {
			t.Errorf("GetRegion(%s) = %+v, %v; want the listed region", r.ID, got, err)
		}
		if _, err := client.GetRegionAvailability(ctx, r.ID); err != nil {
			t.Errorf("GetRegionAvailability(%s): %v", r.ID, err)
		}
		va, err := client.GetRegionVPCAvailability(ctx, r.ID)
		if err != nil || va.Region != r.ID || va.Available != slices.Contains(r.Capabilities, linodego.CapabilityVPCs) {
			t.Errorf("GetRegionVPCAvailability(%s) = %+v, %v; want available iff the region has VPCs", r.ID, va, err)
		}
	}
	if want := DefaultCatalogue().Regions(); !slices.Equal(ids, want) || len(want) != 27 {
		t.Errorf("ListRegions = %v, want the %d recorded regions %v", ids, len(want), want)
	}
	// Routed to /regions/{regionId}, the list would be a 404.
	vas, err := client.ListRegionsVPCAvailability(ctx, nil)
	if err != nil || len(vas) != len(regs) {
		t.Errorf("ListRegionsVPCAvailability = %d entries, %v; want one per region (%d)", len(vas), err, len(regs))
	}
	if _, err := client.ListRegionsAvailability(ctx, nil); err != nil {
		t.Error(err)
	}
	types, err := client.ListTypes(ctx, nil)
	if err != nil || len(types) != 37 {
		t.Fatalf("ListTypes = %d types, %v; want the 37 recorded", len(types), err)
	}
	for _, ty := range types {
		if got, err := client.GetType(ctx, ty.ID); err != nil || got.ID != ty.ID {
			t.Errorf("GetType(%s) = %+v, %v", ty.ID, got, err)
		}
	}
	lkeTypes, err := client.ListLKETypes(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var lkeIDs []string
	for _, lt := range lkeTypes {
		lkeIDs = append(lkeIDs, lt.ID)
	}
	if !slices.Equal(lkeIDs, []string{"lke-sa", "lke-ha", "lke-e"}) {
		t.Errorf("LKE types = %v, want the recorded lke-sa, lke-ha and the assumed lke-e", lkeIDs)
	}
	if n := srv.ValidationErrors(); n != 0 {
		t.Errorf("%d responses broke the contract", n)
	}
}

func TestRegionsComeInTheAPIsOrder(t *testing.T) {
	t.Parallel()
	_, client := New(t)
	regs, err := client.ListRegions(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	first := func(capability string) string {
		for _, r := range regs {
			if slices.Contains(r.Capabilities, capability) {
				return r.ID
			}
		}
		return ""
	}
	// regions.json lists us-iad first among the regions with VPCs and
	// Placement Groups; sorted by id, br-gru and us-central would come first.
	for _, tc := range []struct{ capability, want string }{
		{linodego.CapabilityVPCs, "us-iad"},
		{"Placement Group", "us-iad"},
		{linodego.CapabilityGPU, "ap-west"},
	} {
		if got := first(tc.capability); got != tc.want {
			t.Errorf("first region with %q = %q, want %q (the API's order)", tc.capability, got, tc.want)
		}
	}
	if slices.IsSortedFunc(regs, func(a, b linodego.Region) int { return strings.Compare(a.ID, b.ID) }) {
		t.Error("regions are sorted by id; the API lists them in its own order")
	}
}

func TestCatalogueVersionsAndRegions(t *testing.T) {
	t.Parallel()
	_, client := New(t)
	ctx := t.Context()
	pools := []linodego.LKENodePoolCreateOptions{{Count: 1, Type: "g6-standard-2"}}

	// ap-west (Mumbai) was missing from the hand-written catalogue.
	c, err := client.CreateLKECluster(ctx, linodego.LKEClusterCreateOptions{Label: "mumbai", Region: "ap-west", K8sVersion: "1.34", NodePools: pools})
	if err != nil || c.Region != "ap-west" {
		t.Fatalf("create in ap-west = %+v, %v", c, err)
	}

	vs, err := client.ListLKEVersions(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, v := range vs {
		listed = append(listed, v.ID)
	}
	if !slices.Equal(listed, []string{"1.34", "1.33", "1.32"}) {
		t.Errorf("ListLKEVersions = %v, want only the current 1.34, 1.33, 1.32", listed)
	}

	for _, tc := range []struct {
		name, tier, version string
		found               bool
	}{
		{"recorded, no longer current", "", "1.28", true},
		{"current", "", "1.33", true},
		{"never known", "", "1.27", false},
		{"standard tier, recorded", tierStandard, "1.31", true},
		{"enterprise tier, recorded", tierEnterprise, "v1.31.8+lke1", true},
		{"enterprise tier, current", tierEnterprise, "v1.33.4+lke1", true},
		{"enterprise version on the standard tier", tierStandard, "v1.31.8+lke1", false},
		{"no such tier", "premium", "1.33", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var err error
			var id string
			if tc.tier == "" {
				var v *linodego.LKEVersion
				if v, err = client.GetLKEVersion(ctx, tc.version); err == nil {
					id = v.ID
				}
			} else {
				var v *linodego.LKETierVersion
				if v, err = client.GetLKETierVersion(ctx, tc.tier, tc.version); err == nil {
					id = v.ID
				}
			}
			if !tc.found {
				wantAPIError(t, err, http.StatusNotFound)
				return
			}
			if err != nil || id != tc.version {
				t.Fatalf("get %s = %q, %v", tc.version, id, err)
			}
		})
	}

	for _, tc := range []struct {
		name, field string
		opts        linodego.LKEClusterCreateOptions
	}{
		{"known standard version", "k8s_version", linodego.LKEClusterCreateOptions{Label: "old", Region: "us-ord", K8sVersion: "1.28", NodePools: pools}},
		{"recorded standard tier version", "k8s_version", linodego.LKEClusterCreateOptions{Label: "old-tier", Region: "us-ord", K8sVersion: "1.31", NodePools: pools}},
		{"known enterprise version", "k8s_version", linodego.LKEClusterCreateOptions{Label: "old-ent", Region: "us-east", K8sVersion: "v1.31.8+lke1", Tier: tierEnterprise, NodePools: pools}},
		{"enterprise pool in a known version", "node_pools[0].k8s_version", linodego.LKEClusterCreateOptions{Label: "old-pool", Region: "us-east", K8sVersion: "v1.33.4+lke1", Tier: tierEnterprise,
			NodePools: []linodego.LKENodePoolCreateOptions{{Count: 1, Type: "g6-standard-2", K8sVersion: ptr("v1.31.8+lke1")}}}},
	} {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := client.CreateLKECluster(ctx, tc.opts)
			if lerr := wantAPIError(t, err, http.StatusBadRequest); !hasField(lerr, tc.field) {
				t.Errorf("error %q names no %s field", lerr.Message, tc.field)
			}
		})
	}
	if _, err := client.UpdateLKECluster(ctx, c.ID, linodego.LKEClusterUpdateOptions{K8sVersion: "1.35"}); err == nil {
		t.Error("upgrade to 1.35, a version the catalogue does not know, succeeded")
	} else if lerr := wantAPIError(t, err, http.StatusBadRequest); !hasField(lerr, "k8s_version") {
		t.Errorf("error %q names no k8s_version field", lerr.Message)
	}
}

func TestCatalogueFromResponsesRefusesBadFiles(t *testing.T) {
	t.Parallel()
	// edit returns the recorded files with file's data[i] changed by f.
	edit := func(t *testing.T, file string, i int, f func(item map[string]any)) fstest.MapFS {
		fsys := recordedResponses(t)
		var env map[string]any
		if err := json.Unmarshal(fsys[file].Data, &env); err != nil {
			t.Fatal(err)
		}
		f(env["data"].([]any)[i].(map[string]any))
		b, err := json.Marshal(env)
		if err != nil {
			t.Fatal(err)
		}
		fsys[file] = &fstest.MapFile{Data: b}
		return fsys
	}
	replace := func(file, body string) func(t *testing.T) fstest.MapFS {
		return func(t *testing.T) fstest.MapFS {
			fsys := recordedResponses(t)
			fsys[file] = &fstest.MapFile{Data: []byte(body)}
			return fsys
		}
	}
	for _, tc := range []struct {
		name  string
		files func(t *testing.T) fstest.MapFS
		want  string
	}{
		{"wrong type", func(t *testing.T) fstest.MapFS {
			return edit(t, fileRegions, 3, func(r map[string]any) { r["capabilities"] = "Linodes" })
		}, "regions.json: data[3].capabilities: "},
		{"wrong type, nested", func(t *testing.T) fstest.MapFS {
			return edit(t, fileLinodeTypes, 2, func(ty map[string]any) { ty["price"].(map[string]any)["monthly"] = "cheap" })
		}, "linode-types.json: data[2].price.monthly: "},
		{"missing required field", func(t *testing.T) fstest.MapFS {
			return edit(t, fileLinodeTypes, 0, func(ty map[string]any) { delete(ty, "id") })
		}, "linode-types.json: data[0].id: required field is missing"},
		{"unknown field", func(t *testing.T) fstest.MapFS {
			return edit(t, fileRegions, 1, func(r map[string]any) { r["colour"] = "blue" })
		}, "regions.json: data[1].colour: unknown field"},
		{"value out of the enum", func(t *testing.T) fstest.MapFS {
			return edit(t, fileRegions, 0, func(r map[string]any) { r["status"] = "sunny" })
		}, "regions.json: data[0].status: "},
		{"no data", replace(fileLKETypes, `{"page": 1, "pages": 1, "results": 0}`), "lke-types.json: data: required field is missing"},
		{"malformed JSON", replace(fileLKEVersions, `{"data": [{"id": "1.30"},`), "lke-versions.json: malformed JSON at line 1"},
		{"tier of another list", replace(fileTierEnterprise, `{"data": [{"id": "1.31", "tier": "standard"}]}`), `lke-tier-versions-enterprise.json: data[0].tier: "standard"`},
		{"duplicate region", func(t *testing.T) fstest.MapFS {
			return edit(t, fileRegions, 1, func(r map[string]any) { r["id"] = "ap-west" })
		}, `regions.json: data[1].id: duplicate region "ap-west"`},
		{"missing required file", func(t *testing.T) fstest.MapFS {
			fsys := recordedResponses(t)
			delete(fsys, fileRegions)
			return fsys
		}, "regions.json: "},
		{"no standard versions", func(t *testing.T) fstest.MapFS {
			fsys := recordedResponses(t)
			delete(fsys, fileLKEVersions)
			delete(fsys, fileTierStandard)
			return fsys
		}, "lke-versions.json or lke-tier-versions-standard.json: one is required"},
		{"assumption without reason", func(t *testing.T) fstest.MapFS {
			fsys := recordedResponses(t)
			fsys[fileAssumptions] = &fstest.MapFile{Data: []byte(`{"versions": [{"tier": "standard", "current": ["1.40"]}]}`)}
			return fsys
		}, "assumptions.json: versions[0].reason: "},
		{"assumption for an unknown region", func(t *testing.T) fstest.MapFS {
			fsys := recordedResponses(t)
			fsys[fileAssumptions] = &fstest.MapFile{Data: []byte(`{"capabilities": [{"regions": ["mars-1"], "add": ["VPCs"], "reason": "r"}]}`)}
			return fsys
		}, `assumptions.json: capabilities[0].regions[0]: no region "mars-1"`},
		{"assumption with an unknown member", func(t *testing.T) fstest.MapFS {
			fsys := recordedResponses(t)
			fsys[fileAssumptions] = &fstest.MapFile{Data: []byte(`{"regions": []}`)}
			return fsys
		}, `assumptions.json: json: unknown field "regions"`},
		{"assumed LKE type that breaks the schema", func(t *testing.T) fstest.MapFS {
			fsys := recordedResponses(t)
			fsys[fileAssumptions] = &fstest.MapFile{Data: []byte(`{"lke_types": [{"type": {"id": "lke-x", "price": {"hourly": "free"}}, "reason": "r"}]}`)}
			return fsys
		}, "assumptions.json: lke_types[0].type.price.hourly: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := CatalogueFromResponses(tc.files(t))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestWithCatalogueServesOnlyThatCatalogue(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		fileRegions: {Data: []byte(`{"data": [{"id": "xx-lab", "label": "Lab", "country": "xx", "capabilities": ["Linodes", "Kubernetes", "Object Storage"], "status": "ok", "site_type": "core",
			"resolvers": {"ipv4": "192.0.2.1", "ipv6": "2001:db8::1"}, "placement_group_limits": {"maximum_pgs_per_customer": null, "maximum_linodes_per_pg": 5}}]}`)},
		fileLinodeTypes: {Data: []byte(`{"data": [{"id": "g9-lab-1", "label": "Lab 1", "class": "standard", "disk": 1, "memory": 1, "vcpus": 1, "gpus": 0, "network_out": 1, "transfer": 1,
			"price": {"hourly": 0, "monthly": 0}, "region_prices": [], "addons": {"backups": {"price": {"hourly": 0, "monthly": 0}, "region_prices": []}}, "successor": null}]}`)},
		fileTierStandard: {Data: []byte(`{"data": [{"id": "1.40", "tier": "standard"}], "page": 1, "pages": 1, "results": 1}`)},
	}
	cat, err := CatalogueFromResponses(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if got := cat.Versions(tierStandard); !slices.Equal(got, []string{"1.40"}) {
		t.Errorf("Versions(standard) = %v, want [1.40] (from the tier file, lke-versions.json being absent)", got)
	}
	_, client := New(t, WithCatalogue(cat))
	ctx := t.Context()
	if _, err := client.CreateLKECluster(ctx, linodego.LKEClusterCreateOptions{Label: "lab", Region: "xx-lab", K8sVersion: "1.40",
		NodePools: []linodego.LKENodePoolCreateOptions{{Count: 1, Type: "g9-lab-1"}}}); err != nil {
		t.Fatalf("create in the catalogue's region, type and version: %v", err)
	}
	for _, tc := range []struct {
		name  string
		opts  linodego.LKEClusterCreateOptions
		field string
	}{
		{"region of the default catalogue", linodego.LKEClusterCreateOptions{Label: "a", Region: "us-ord", K8sVersion: "1.40",
			NodePools: []linodego.LKENodePoolCreateOptions{{Count: 1, Type: "g9-lab-1"}}}, "region"},
		{"version of the default catalogue", linodego.LKEClusterCreateOptions{Label: "b", Region: "xx-lab", K8sVersion: "1.33",
			NodePools: []linodego.LKENodePoolCreateOptions{{Count: 1, Type: "g9-lab-1"}}}, "k8s_version"},
		{"type of the default catalogue", linodego.LKEClusterCreateOptions{Label: "c", Region: "xx-lab", K8sVersion: "1.40",
			NodePools: []linodego.LKENodePoolCreateOptions{{Count: 1, Type: "g6-standard-2"}}}, "node_pools[0].type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := client.CreateLKECluster(ctx, tc.opts)
			if lerr := wantAPIError(t, err, http.StatusBadRequest); !hasField(lerr, tc.field) {
				t.Errorf("error %q, want one on %s", lerr.Message, tc.field)
			}
		})
	}
	eps, err := client.ListObjectStorageEndpoints(ctx, nil)
	if err != nil || len(eps) != 1 || eps[0].Region != "xx-lab" {
		t.Errorf("Object Storage endpoints = %+v, %v; want the catalogue's one region", eps, err)
	}
	if _, err := Start(ctx, WithCatalogue(Catalogue{})); err == nil {
		t.Error("Start with the zero Catalogue succeeded; want it refused")
	}
}
