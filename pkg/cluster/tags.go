package cluster

import (
	"slices"
	"strings"
)

// Ownership tags. Linode tags are at most 50 characters.
//
// A node pool made by this package carries PoolTagPrefix+<pool name>
// ("platform.org/pool=general"): pools are matched to the spec by this tag,
// never by their position in a list, so reordering the spec's pools changes
// nothing, and a pool created by a request whose response was lost is found
// by it on the next step. A pool without such a tag is not ours: it is never
// updated or deleted. Pool names are DNS labels of at most 32 characters,
// so the tag fits.
//
// The cluster carries ClusterTagPrefix+<environment name>
// ("platform.org/env=production"; environment names longer than 33
// characters are refused); EnsureCluster adds it to a cluster it
// adopts by label, and DeleteCluster refuses to delete a cluster without it.
//
// While an upgrade is in progress the cluster also carries UpgradeTag: it is
// set in the same request that raises k8s_version and removed once every
// node has been replaced, so an upgrade interrupted after the version change
// (crash, timeout) is completed by the next EnsureCluster instead of leaving
// nodes on the old version.
const (
	PoolTagPrefix    = "platform.org/pool="
	ClusterTagPrefix = "platform.org/env="
	UpgradeTag       = "platform.org/upgrading"
)

// maxTagLen is Linode's limit on a tag's length.
const maxTagLen = 50

// maxPoolNameLen keeps PoolTagPrefix+name within maxTagLen.
const maxPoolNameLen = maxTagLen - len(PoolTagPrefix)

// poolName returns the pool name carried in tags, if the pool is ours.
func poolName(tags []string) (string, bool) {
	for _, t := range tags {
		if name, ok := strings.CutPrefix(t, PoolTagPrefix); ok && name != "" {
			return name, true
		}
	}
	return "", false
}

// hasTag reports whether tags holds t.
func hasTag(tags []string, t string) bool { return slices.Contains(tags, t) }

// tagSet returns tags sorted and without duplicates, leaving out drop.
func tagSet(tags []string, drop ...string) []string {
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		if !slices.Contains(drop, t) {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
