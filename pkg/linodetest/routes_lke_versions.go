package linodetest

// LKE versions, tier versions and control-plane types, served from the
// Server's catalogue: lists show the current versions, GETs by id answer
// for every known one (see Catalogue).

type versionJSON struct {
	ID string `json:"id"`
}

type tierVersionJSON struct {
	ID   string `json:"id"`
	Tier string `json:"tier"`
}

func listLKEVersions(s *Server, rc *reqCtx) response {
	vs := s.catalogue().versions
	items := make([]any, len(vs))
	for i, v := range vs {
		items[i] = versionJSON{ID: v}
	}
	return listOf(items)
}

// getLKEVersion answers for a known standard-tier version, current or not.
func getLKEVersion(s *Server, rc *reqCtx) response {
	v := rc.params["version"]
	if !s.catalogue().known[tierStandard][v] {
		return notFound()
	}
	return ok(versionJSON{ID: v})
}

func listTierVersions(s *Server, rc *reqCtx) response {
	tier := rc.params["tier"]
	if !isTier(tier) {
		return notFound()
	}
	vs := s.catalogue().tierLists[tier]
	items := make([]any, len(vs))
	for i, v := range vs {
		items[i] = tierVersionJSON{ID: v, Tier: tier}
	}
	return listOf(items)
}

// getTierVersion answers for a known version of the tier, current or not.
func getTierVersion(s *Server, rc *reqCtx) response {
	tier, v := rc.params["tier"], rc.params["version"]
	if !isTier(tier) || !s.catalogue().known[tier][v] {
		return notFound()
	}
	return ok(tierVersionJSON{ID: v, Tier: tier})
}

func listLKETypes(s *Server, rc *reqCtx) response {
	ts := s.catalogue().lkeTypes
	items := make([]any, len(ts))
	for i := range ts {
		items[i] = ts[i].raw
	}
	return listOf(items)
}
