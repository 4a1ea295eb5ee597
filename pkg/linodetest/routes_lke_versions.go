package linodetest

// LKE versions, tier versions and control-plane types.

import (
	"slices"
)

// LKE versions, tier versions and control-plane types.

type versionJSON struct {
	ID string `json:"id"`
}

type tierVersionJSON struct {
	ID   string `json:"id"`
	Tier string `json:"tier"`
}

func listLKEVersions(s *Server, rc *reqCtx) response {
	items := make([]any, 0, len(lkeVersions))
	for _, v := range lkeVersions {
		items = append(items, versionJSON{ID: v})
	}
	return listOf(items)
}

func getLKEVersion(s *Server, rc *reqCtx) response {
	v := rc.params["version"]
	if !slices.Contains(lkeVersions, v) {
		return notFound()
	}
	return ok(versionJSON{ID: v})
}

func listTierVersions(s *Server, rc *reqCtx) response {
	tier := rc.params["tier"]
	if tier != "standard" && tier != "enterprise" {
		return notFound()
	}
	var items []any
	for _, v := range tierVersions(tier) {
		items = append(items, tierVersionJSON{ID: v, Tier: tier})
	}
	return listOf(items)
}

func getTierVersion(s *Server, rc *reqCtx) response {
	tier, v := rc.params["tier"], rc.params["version"]
	if (tier != "standard" && tier != "enterprise") || !slices.Contains(tierVersions(tier), v) {
		return notFound()
	}
	return ok(tierVersionJSON{ID: v, Tier: tier})
}

func listLKETypes(s *Server, rc *reqCtx) response {
	items := make([]any, 0, len(lkeTypes))
	for _, t := range lkeTypes {
		items = append(items, t)
	}
	return listOf(items)
}
