package cluster

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/linode/linodego"

	"github.com/org/platform/pkg/spec"
)

// desiredCluster is the spec's cluster in the API's terms, with our
// ownership tags added and every list in a canonical order.
type desiredCluster struct {
	env     string
	label   string
	region  string
	version string
	tier    string
	ha      bool
	acl     desiredACL
	tags    []string // sorted, with the cluster ownership tag
	pools   []desiredPool
}

type desiredACL struct {
	enabled bool
	ipv4    []string // canonical CIDRs, sorted
	ipv6    []string
}

type desiredPool struct {
	name       string
	typ        string
	count      int
	autoscaler *spec.Autoscaler
	labels     map[string]string
	taints     []linodego.LKENodePoolTaint // sorted
	tags       []string                    // sorted, with the pool ownership tag
}

// object names the cluster in changes: "lke/<label>".
func (d *desiredCluster) object() string { return "lke/" + d.label }

// poolObject names a pool in changes: "lke/<label>/pool/<name>".
func (d *desiredCluster) poolObject(name string) string { return d.object() + "/pool/" + name }

func (d *desiredCluster) pool(name string) (desiredPool, bool) {
	for _, p := range d.pools {
		if p.name == name {
			return p, true
		}
	}
	return desiredPool{}, false
}

// desiredFrom applies env's defaults (on a copy: env is not changed),
// validates it, and returns its cluster part. A spec that does not validate
// returns spec.FieldErrors listing every problem (errors.Is(err,
// spec.ErrInvalid)) before anything else happens.
func desiredFrom(env spec.Environment) (*desiredCluster, error) {
	env = withDefaults(env)
	var fes spec.FieldErrors
	if err := env.Validate(); err != nil {
		if !errors.As(err, &fes) {
			return nil, err
		}
		fes = slices.Clone(fes)
	}
	// What this package adds to the spec's rules: the names it carries in
	// ownership tags must fit Linode's 50-character tag limit.
	if n := len(ClusterTagPrefix) + len(env.Name); env.Name != "" && n > maxTagLen {
		fes = append(fes, &spec.FieldError{
			Path:    "name",
			Message: fmt.Sprintf("must be at most %d characters to fit the cluster's ownership tag (got %d)", maxTagLen-len(ClusterTagPrefix), len(env.Name)),
		})
	}
	for _, p := range env.Cluster.NodePools {
		if len(p.Name) > maxPoolNameLen {
			fes = append(fes, &spec.FieldError{
				Path:    "cluster.nodePools[" + p.Name + "].name",
				Message: fmt.Sprintf("must be at most %d characters to fit the pool's ownership tag (got %d)", maxPoolNameLen, len(p.Name)),
			})
		}
	}
	if len(fes) > 0 {
		return nil, fes
	}
	// Validate has checked the addresses; this only puts them in canonical
	// form.
	v4, err := canonicalCIDRs(env.Cluster.ControlPlaneACL.IPv4)
	if err != nil {
		fes = append(fes, &spec.FieldError{Path: "cluster.controlPlaneACL.ipv4", Message: err.Error()})
	}
	v6, err := canonicalCIDRs(env.Cluster.ControlPlaneACL.IPv6)
	if err != nil {
		fes = append(fes, &spec.FieldError{Path: "cluster.controlPlaneACL.ipv6", Message: err.Error()})
	}
	if len(fes) > 0 {
		return nil, fes
	}

	c := env.Cluster
	d := &desiredCluster{
		env:     env.Name,
		label:   c.Label,
		region:  c.Region,
		version: c.KubernetesVersion,
		tier:    tierOrDefault(c.Tier),
		ha:      c.HighAvailability,
		tags:    tagSet(append(slices.Clone(c.Tags), ClusterTagPrefix+env.Name), UpgradeTag),
	}
	d.acl = desiredACL{enabled: c.ControlPlaneACL.Enabled, ipv4: v4, ipv6: v6}
	for _, p := range c.NodePools {
		dp := desiredPool{
			name:   p.Name,
			typ:    p.Type,
			count:  p.Count,
			labels: maps.Clone(p.Labels),
			tags:   tagSet(append(slices.Clone(p.Tags), PoolTagPrefix+p.Name)),
		}
		if p.Autoscaler != nil {
			a := *p.Autoscaler
			dp.autoscaler = &a
		}
		if dp.labels == nil {
			dp.labels = map[string]string{}
		}
		for _, t := range p.Taints {
			dp.taints = append(dp.taints, linodego.LKENodePoolTaint{Key: t.Key, Value: t.Value, Effect: linodego.LKENodePoolTaintEffect(t.Effect)})
		}
		sortTaints(dp.taints)
		d.pools = append(d.pools, dp)
	}
	slices.SortFunc(d.pools, func(a, b desiredPool) int { return strings.Compare(a.name, b.name) })
	return d, nil
}

// withDefaults returns a copy of env with spec defaults applied; env is
// never written.
func withDefaults(env spec.Environment) spec.Environment { return env.WithDefaults() }

func tierOrDefault(t string) string {
	if t == "" {
		return string(linodego.LKEVersionStandard)
	}
	return t
}

// canonicalCIDRs parses addresses and CIDRs and returns them as masked
// CIDRs, sorted and without duplicates.
func canonicalCIDRs(in []string) ([]string, error) {
	out := make([]string, 0, len(in))
	for _, s := range in {
		p, err := parsePrefix(s)
		if err != nil {
			return nil, err
		}
		out = append(out, p.String())
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// canonicalOrRaw is canonicalCIDRs for what the API returns: an entry that
// does not parse is kept as it is (so it shows as drift rather than failing).
func canonicalOrRaw(in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		if p, err := parsePrefix(s); err == nil {
			out = append(out, p.String())
		} else {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func sortTaints(ts []linodego.LKENodePoolTaint) {
	slices.SortFunc(ts, func(a, b linodego.LKENodePoolTaint) int {
		if c := strings.Compare(a.Key, b.Key); c != 0 {
			return c
		}
		if c := strings.Compare(string(a.Effect), string(b.Effect)); c != 0 {
			return c
		}
		return strings.Compare(a.Value, b.Value)
	})
}

// withAddress returns the sorted set cidrs plus p.
func withAddress(cidrs []string, p netip.Prefix) []string {
	out := append(slices.Clone(cidrs), p.String())
	slices.Sort(out)
	return slices.Compact(out)
}

// compareVersions orders LKE versions (see versionParts).
func compareVersions(a, b string) int {
	return slices.Compare(versionParts(a), versionParts(b))
}

// versionParts splits an LKE version into numbers: "1.33" → [1 33] on the
// standard tier, "v1.33.4+lke1" → [1 33 4 1] on the enterprise tier, so
// that a newer LKE build of the same Kubernetes patch release orders after
// the older one. A part that is not a number counts as 0.
func versionParts(v string) []int {
	base, build, hasBuild := strings.Cut(strings.TrimPrefix(v, "v"), "+lke")
	var out []int
	for _, f := range strings.Split(base, ".") {
		n, _ := strconv.Atoi(f)
		out = append(out, n)
	}
	if hasBuild {
		n, _ := strconv.Atoi(build)
		out = append(out, n)
	}
	return out
}
