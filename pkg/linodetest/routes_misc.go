package linodetest

func miscRoutes() []*route {
	return []*route{
		{method: "GET", pattern: "/regions", list: true, h: listRegions},
		// /regions/availability must come before /regions/{regionId}.
		{method: "GET", pattern: "/regions/availability", list: true, filterable: []string{"available", "plan", "region"}, h: listAvailability},
		{method: "GET", pattern: "/regions/{regionId}", h: getRegion},
		{method: "GET", pattern: "/regions/{regionId}/availability", h: getRegionAvailability},
		{method: "GET", pattern: "/linode/types", list: true, filterable: []string{"class", "disk", "gpus", "label", "memory", "network_out", "transfer", "vcpus"}, h: listTypes},
		{method: "GET", pattern: "/linode/types/{typeId}", h: getType},
		{method: "GET", pattern: "/account/events", list: true, descending: true, filterable: []string{"action", "created", "entity.id", "entity.type", "id", "read"}, h: listEvents},
		{method: "GET", pattern: "/account/events/{eventId}", h: getEvent},
		{method: "GET", pattern: "/profile", h: getProfile},
	}
}

func listRegions(s *Server, rc *reqCtx) response {
	items := make([]any, 0, len(regions))
	for _, r := range regions {
		items = append(items, r)
	}
	return listOf(items)
}

func getRegion(s *Server, rc *reqCtx) response {
	r := findRegion(rc.params["regionId"])
	if r == nil {
		return notFound()
	}
	return ok(r)
}

type availabilityJSON struct {
	Available bool   `json:"available"`
	Plan      string `json:"plan"`
	Region    string `json:"region"`
}

func regionAvailability(r *region) []availabilityJSON {
	out := make([]availabilityJSON, 0, len(linodeTypes))
	for _, t := range linodeTypes {
		out = append(out, availabilityJSON{Available: true, Plan: t.ID, Region: r.ID})
	}
	return out
}

func listAvailability(s *Server, rc *reqCtx) response {
	var items []any
	for i := range regions {
		for _, a := range regionAvailability(&regions[i]) {
			items = append(items, a)
		}
	}
	return listOf(items)
}

func getRegionAvailability(s *Server, rc *reqCtx) response {
	r := findRegion(rc.params["regionId"])
	if r == nil {
		return notFound()
	}
	return ok(regionAvailability(r))
}

func listTypes(s *Server, rc *reqCtx) response {
	items := make([]any, 0, len(linodeTypes))
	for _, t := range linodeTypes {
		items = append(items, t)
	}
	return listOf(items)
}

func getType(s *Server, rc *reqCtx) response {
	t := findType(rc.params["typeId"])
	if t == nil {
		return notFound()
	}
	return ok(t)
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
