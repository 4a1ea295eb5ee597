package linodetest

func miscRoutes() []*route {
	return []*route{
		{method: "GET", pattern: "/regions", list: true, h: listRegions},
		// The literal /regions/… routes must come before /regions/{regionId}.
		{method: "GET", pattern: "/regions/availability", list: true, filterable: []string{"available", "plan", "region"}, h: listAvailability},
		// VPC availability is newer than the OpenAPI description (4.189).
		{method: "GET", pattern: "/regions/vpc-availability", list: true, offSpec: true, h: listVPCAvailability},
		{method: "GET", pattern: "/regions/{regionId}", h: getRegion},
		{method: "GET", pattern: "/regions/{regionId}/availability", h: getRegionAvailability},
		{method: "GET", pattern: "/regions/{regionId}/vpc-availability", offSpec: true, h: getRegionVPCAvailability},
		{method: "GET", pattern: "/linode/types", list: true, filterable: []string{"class", "disk", "gpus", "label", "memory", "network_out", "transfer", "vcpus"}, h: listTypes},
		{method: "GET", pattern: "/linode/types/{typeId}", h: getType},
		{method: "GET", pattern: "/account/events", list: true, descending: true, filterable: []string{"action", "created", "entity.id", "entity.type", "id", "read"}, h: listEvents},
		{method: "GET", pattern: "/account/events/{eventId}", h: getEvent},
		{method: "GET", pattern: "/profile", h: getProfile},
	}
}

// Regions, their availability and Linode types are served from the
// Server's catalogue, items as the catalogue holds them, in its order.

func listRegions(s *Server, rc *reqCtx) response {
	c := s.catalogue()
	items := make([]any, len(c.regions))
	for i := range c.regions {
		items[i] = c.regions[i].raw
	}
	return listOf(items)
}

func getRegion(s *Server, rc *reqCtx) response {
	r := s.catalogue().region(rc.params["regionId"])
	if r == nil {
		return notFound()
	}
	return ok(r.raw)
}

// GET /regions/availability answers the catalogue's availability entries
// as recorded: the API reports only select plans (premium, GPU). A region
// or plan they do not cover is available.
func listAvailability(s *Server, rc *reqCtx) response {
	c := s.catalogue()
	items := make([]any, len(c.availability))
	for i, a := range c.availability {
		items[i] = a
	}
	return listOf(items)
}

func getRegionAvailability(s *Server, rc *reqCtx) response {
	c := s.catalogue()
	r := c.region(rc.params["regionId"])
	if r == nil {
		return notFound()
	}
	out := []availabilityJSON{}
	for _, a := range c.availability {
		if a.Region == r.id {
			out = append(out, a)
		}
	}
	return ok(out)
}

// vpcAvailabilityJSON is linodego's RegionVPCAvailability.
type vpcAvailabilityJSON struct {
	Region                     string `json:"region"`
	Available                  bool   `json:"available"`
	AvailableIPv6PrefixLengths []int  `json:"available_ipv6_prefix_lengths"`
}

// vpcAvailability derives a region's VPC availability from its "VPCs"
// capability; the catalogue holds no IPv6 prefix lengths, so none are
// offered.
func vpcAvailability(r *catRegion) vpcAvailabilityJSON {
	return vpcAvailabilityJSON{Region: r.id, Available: r.has(capVPC), AvailableIPv6PrefixLengths: []int{}}
}

func listVPCAvailability(s *Server, rc *reqCtx) response {
	c := s.catalogue()
	items := make([]any, len(c.regions))
	for i := range c.regions {
		items[i] = vpcAvailability(&c.regions[i])
	}
	return listOf(items)
}

func getRegionVPCAvailability(s *Server, rc *reqCtx) response {
	r := s.catalogue().region(rc.params["regionId"])
	if r == nil {
		return notFound()
	}
	return ok(vpcAvailability(r))
}

func listTypes(s *Server, rc *reqCtx) response {
	c := s.catalogue()
	items := make([]any, len(c.types))
	for i := range c.types {
		items[i] = c.types[i].raw
	}
	return listOf(items)
}

func getType(s *Server, rc *reqCtx) response {
	t := s.catalogue().linodeType(rc.params["typeId"])
	if t == nil {
		return notFound()
	}
	return ok(t.raw)
}

type eventEntityJSON struct {
	ID    int    `json:"id"`
	Label string `json:"label"`
	Type  string `json:"type"`
	URL   string `json:"url"`
}

type eventJSON struct {
	Action          string          `json:"action"`
	Created         apiTime         `json:"created"`
	Duration        float64         `json:"duration"`
	Entity          eventEntityJSON `json:"entity"`
	ID              int             `json:"id"`
	Message         *string         `json:"message"`
	PercentComplete int             `json:"percent_complete"`
	Read            bool            `json:"read"`
	Seen            bool            `json:"seen"`
	Status          string          `json:"status"`
	TimeRemaining   *string         `json:"time_remaining"`
	Username        string          `json:"username"`
}

// profileUsername is the user the simulator acts as.
const profileUsername = "linodetest"

func renderEvent(e *Event) eventJSON {
	var msg *string
	if e.Message != "" {
		m := e.Message
		msg = &m
	}
	return eventJSON{
		Action: e.Action, Created: apiTime(e.Created), Entity: eventEntityJSON{ID: e.EntityID, Label: e.EntityLabel, Type: e.EntityType, URL: e.EntityURL},
		ID: e.ID, Message: msg, PercentComplete: 100, Status: "finished", Username: profileUsername,
	}
}

func listEvents(s *Server, rc *reqCtx) response {
	items := make([]any, 0, len(s.state.Events))
	for _, e := range s.state.Events {
		items = append(items, renderEvent(e))
	}
	return listOf(items)
}

func getEvent(s *Server, rc *reqCtx) response {
	id, ok2 := rc.intParam("eventId")
	if !ok2 {
		return notFound()
	}
	for _, e := range s.state.Events {
		if e.ID == id {
			return ok(renderEvent(e))
		}
	}
	return notFound()
}

type referralsJSON struct {
	Code      string  `json:"code"`
	Completed int     `json:"completed"`
	Credit    float64 `json:"credit"`
	Pending   int     `json:"pending"`
	Total     int     `json:"total"`
	URL       string  `json:"url"`
}

type profileJSON struct {
	AuthenticationType  string        `json:"authentication_type"`
	AuthorizedKeys      []string      `json:"authorized_keys"` // null when unset
	Email               string        `json:"email"`
	EmailNotifications  bool          `json:"email_notifications"`
	IPWhitelistEnabled  bool          `json:"ip_whitelist_enabled"`
	LishAuthMethod      string        `json:"lish_auth_method"`
	Referrals           referralsJSON `json:"referrals"`
	Restricted          bool          `json:"restricted"`
	Timezone            string        `json:"timezone"`
	TwoFactorAuth       bool          `json:"two_factor_auth"`
	UID                 int           `json:"uid"`
	Username            string        `json:"username"`
	UserType            string        `json:"user_type"`
	VerifiedPhoneNumber *string       `json:"verified_phone_number"`
}

func getProfile(s *Server, rc *reqCtx) response {
	return ok(profileJSON{
		AuthenticationType: "password", Email: "linodetest@example.com",
		EmailNotifications: true, LishAuthMethod: "keys_only",
		Referrals: referralsJSON{Code: "linodetest", URL: "https://www.linode.com/?r=linodetest"},
		Timezone:  "UTC", UID: 1234, Username: profileUsername, UserType: "default",
	})
}
