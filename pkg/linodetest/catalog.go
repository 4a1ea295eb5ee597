package linodetest

import (
	"slices"
	"time"
)

// timeFormat is how the API writes timestamps: UTC, without a zone.
const timeFormat = "2006-01-02T15:04:05"

// apiTime marshals as the API's zone-less UTC timestamp.
type apiTime time.Time

// MarshalJSON writes the zone-less UTC form.
func (t apiTime) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Time(t).UTC().Format(timeFormat) + `"`), nil
}

// region is a static catalog entry of /regions.
type region struct {
	ID                   string          `json:"id"`
	Label                string          `json:"label"`
	Country              string          `json:"country"`
	Capabilities         []string        `json:"capabilities"`
	Status               string          `json:"status"`
	SiteType             string          `json:"site_type"`
	Resolvers            regionResolvers `json:"resolvers"`
	Monitors             regionMonitors  `json:"monitors"`
	PlacementGroupLimits pgLimits        `json:"placement_group_limits"`
}

type regionResolvers struct {
	IPv4 string `json:"ipv4"`
	IPv6 string `json:"ipv6"`
}

type regionMonitors struct {
	Alerts  []string `json:"alerts"`
	Metrics []string `json:"metrics"`
}

type pgLimits struct {
	MaximumPGsPerCustomer *int `json:"maximum_pgs_per_customer"`
	MaximumLinodesPerPG   int  `json:"maximum_linodes_per_pg"`
}

// Region capabilities the simulator's services check.
const (
	capLKE           = "Kubernetes"
	capLKEEnterprise = "Kubernetes Enterprise"
	capFirewall      = "Cloud Firewall"
	capVPC           = "VPCs"
	capObjectStorage = "Object Storage"
)

var baseCaps = []string{
	"Linodes", "Backups", "NodeBalancers", "Block Storage", capLKE, capFirewall, capVPC,
	"Vlans", "Metadata", "Placement Group", "Disk Encryption", "LKE HA Control Planes",
	"LKE Network Access Control List (IP ACL)",
}

func caps(extra ...string) []string {
	return append(slices.Clone(baseCaps), extra...)
}

func pgMax(n int) *int { return &n }

// regions is the simulated /regions catalog.
var regions = []region{
	{ID: "ap-south", Label: "Singapore, SG", Country: "sg", Capabilities: caps(capObjectStorage),
		Resolvers: regionResolvers{IPv4: "139.162.11.5,139.162.13.5", IPv6: "2400:8901::5,2400:8901::3"}},
	{ID: "eu-west", Label: "London, UK", Country: "gb", Capabilities: caps(),
		Resolvers: regionResolvers{IPv4: "178.79.182.5,176.58.107.5", IPv6: "2a01:7e00::9,2a01:7e00::3"}},
	{ID: "us-east", Label: "Newark, NJ", Country: "us", Capabilities: caps(capObjectStorage, capLKEEnterprise),
		Resolvers: regionResolvers{IPv4: "66.228.42.5,96.126.106.5", IPv6: "2600:3c03::7,2600:3c03::5"}},
	{ID: "us-ord", Label: "Chicago, IL", Country: "us", Capabilities: caps(capObjectStorage, capLKEEnterprise),
		Resolvers: regionResolvers{IPv4: "172.232.0.17,172.232.0.16", IPv6: "2600:3c06::f03c:93ff:fed0:e5fc,2600:3c06::f03c:93ff:fed0:e54b"}},
	{ID: "us-sea", Label: "Seattle, WA", Country: "us", Capabilities: caps(capObjectStorage),
		Resolvers: regionResolvers{IPv4: "172.232.160.19,172.232.160.21", IPv6: "2600:3c0a::f03c:93ff:fe54:c6da,2600:3c0a::f03c:93ff:fe54:c691"}},
}

func init() {
	for i := range regions {
		r := &regions[i]
		r.Status, r.SiteType = "ok", "core"
		r.Monitors = regionMonitors{Alerts: []string{}, Metrics: []string{}}
		r.PlacementGroupLimits = pgLimits{MaximumPGsPerCustomer: pgMax(100), MaximumLinodesPerPG: 5}
	}
}

func findRegion(id string) *region {
	for i := range regions {
		if regions[i].ID == id {
			return &regions[i]
		}
	}
	return nil
}

func (r *region) has(capability string) bool { return slices.Contains(r.Capabilities, capability) }

// linodeType is a static catalog entry of /linode/types.
type linodeType struct {
	ID           string        `json:"id"`
	Label        string        `json:"label"`
	Class        string        `json:"class"`
	Disk         int           `json:"disk"`
	Memory       int           `json:"memory"`
	VCPUs        int           `json:"vcpus"`
	GPUs         int           `json:"gpus"`
	NetworkOut   int           `json:"network_out"`
	Transfer     int           `json:"transfer"`
	Price        price         `json:"price"`
	RegionPrices []regionPrice `json:"region_prices"`
	Addons       typeAddons    `json:"addons"`
	Successor    *string       `json:"successor"`
}

type price struct {
	Hourly  float64 `json:"hourly"`
	Monthly float64 `json:"monthly"`
}

type regionPrice struct {
	ID      string  `json:"id"`
	Hourly  float64 `json:"hourly"`
	Monthly float64 `json:"monthly"`
}

type typeAddons struct {
	Backups backupsAddon `json:"backups"`
}

type backupsAddon struct {
	Price        price         `json:"price"`
	RegionPrices []regionPrice `json:"region_prices"`
}

func lt(id, label, class string, vcpus, memGB, diskGB, transferTB, netOut int, monthly float64) linodeType {
	hourly := float64(int(monthly/730*1000+0.5)) / 1000
	return linodeType{
		ID: id, Label: label, Class: class, VCPUs: vcpus, Memory: memGB * 1024, Disk: diskGB * 1024,
		Transfer: transferTB * 1000, NetworkOut: netOut, Price: price{Hourly: hourly, Monthly: monthly},
		RegionPrices: []regionPrice{},
		Addons:       typeAddons{Backups: backupsAddon{Price: price{Hourly: hourly / 4, Monthly: monthly / 4}, RegionPrices: []regionPrice{}}},
	}
}

// linodeTypes is the simulated /linode/types catalog.
var linodeTypes = []linodeType{
	lt("g6-nanode-1", "Nanode 1GB", "nanode", 1, 1, 25, 1, 1000, 5),
	lt("g6-standard-1", "Linode 2GB", "standard", 1, 2, 50, 2, 2000, 12),
	lt("g6-standard-2", "Linode 4GB", "standard", 2, 4, 80, 4, 4000, 24),
	lt("g6-standard-4", "Linode 8GB", "standard", 4, 8, 160, 5, 5000, 48),
	lt("g6-standard-6", "Linode 16GB", "standard", 6, 16, 320, 8, 6000, 96),
	lt("g6-standard-8", "Linode 32GB", "standard", 8, 32, 640, 16, 7000, 192),
	lt("g6-dedicated-2", "Dedicated 4GB", "dedicated", 2, 4, 80, 4, 4000, 36),
	lt("g6-dedicated-4", "Dedicated 8GB", "dedicated", 4, 8, 160, 5, 5000, 72),
	lt("g6-dedicated-8", "Dedicated 16GB", "dedicated", 8, 16, 320, 6, 6000, 144),
	lt("g6-dedicated-16", "Dedicated 32GB", "dedicated", 16, 32, 640, 7, 7000, 288),
	lt("g7-highmem-1", "Linode 24GB", "highmem", 2, 24, 20, 5, 5000, 60),
}

func findType(id string) *linodeType {
	for i := range linodeTypes {
		if linodeTypes[i].ID == id {
			return &linodeTypes[i]
		}
	}
	return nil
}

// LKE versions offered, newest first. The standard tier uses minor
// versions; the enterprise tier full versions.
var (
	lkeVersions           = []string{"1.34", "1.33", "1.32"}
	lkeEnterpriseVersions = []string{"v1.33.4+lke1", "v1.32.8+lke2"}
)

func tierVersions(tier string) []string {
	if tier == "enterprise" {
		return lkeEnterpriseVersions
	}
	return lkeVersions
}

// lkeType is a static catalog entry of /lke/types (control-plane prices).
type lkeType struct {
	ID           string        `json:"id"`
	Label        string        `json:"label"`
	Price        price         `json:"price"`
	RegionPrices []regionPrice `json:"region_prices"`
	Transfer     int           `json:"transfer"`
}

var lkeTypes = []lkeType{
	{ID: "lke-sa", Label: "LKE Standard Availability", Price: price{}, RegionPrices: []regionPrice{}},
	{ID: "lke-ha", Label: "LKE High Availability", Price: price{Hourly: 0.09, Monthly: 60}, RegionPrices: []regionPrice{}},
	{ID: "lke-e", Label: "LKE Enterprise", Price: price{Hourly: 0.41, Monthly: 300}, RegionPrices: []regionPrice{}},
}
