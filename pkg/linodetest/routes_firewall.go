package linodetest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Firewall limits enforced by the simulator.
const (
	// MaxFirewallRules is the most rules (inbound and outbound together) a
	// firewall accepts.
	MaxFirewallRules = 25
	// MaxRuleAddresses is the most addresses (IPv4 and IPv6 together) one
	// rule accepts.
	MaxRuleAddresses = 255
)

func firewallRoutes() []*route {
	fwFilter := []string{"created", "id", "label", "tags", "updated"}
	return []*route{
		// The literal segments settings and templates must come before
		// {firewallId}. Both are newer than the OpenAPI description (4.189).
		{method: "GET", pattern: "/networking/firewalls/settings", offSpec: true, h: getFirewallSettings},
		{method: "GET", pattern: "/networking/firewalls/templates", list: true, offSpec: true, filterable: []string{"slug"}, h: listFirewallTemplates},
		{method: "GET", pattern: "/networking/firewalls/templates/{slug}", offSpec: true, h: getFirewallTemplate},
		{method: "GET", pattern: "/networking/firewalls", list: true, filterable: fwFilter, h: listFirewalls},
		{method: "POST", pattern: "/networking/firewalls", h: createFirewall},
		{method: "GET", pattern: "/networking/firewalls/{firewallId}", h: withFirewall(getFirewall)},
		{method: "PUT", pattern: "/networking/firewalls/{firewallId}", h: withFirewall(updateFirewall)},
		{method: "DELETE", pattern: "/networking/firewalls/{firewallId}", h: withFirewall(deleteFirewall)},
		{method: "GET", pattern: "/networking/firewalls/{firewallId}/rules", h: withFirewall(getFirewallRules)},
		{method: "PUT", pattern: "/networking/firewalls/{firewallId}/rules", h: withFirewall(updateFirewallRules)},
		{method: "GET", pattern: "/networking/firewalls/{firewallId}/devices", list: true, filterable: []string{"created", "id", "updated"}, h: withFirewall(listFirewallDevices)},
		{method: "POST", pattern: "/networking/firewalls/{firewallId}/devices", h: withFirewall(createFirewallDevice)},
		{method: "GET", pattern: "/networking/firewalls/{firewallId}/devices/{deviceId}", h: withDevice(getFirewallDevice)},
		{method: "DELETE", pattern: "/networking/firewalls/{firewallId}/devices/{deviceId}", h: withDevice(deleteFirewallDevice)},
	}
}

// ---- rendering ----

type entityJSON struct {
	ID    int    `json:"id"`
	Label string `json:"label"`
	Type  string `json:"type"`
	URL   string `json:"url"`
}

type firewallJSON struct {
	Created  apiTime       `json:"created"`
	Entities []entityJSON  `json:"entities"`
	ID       int           `json:"id"`
	Label    string        `json:"label"`
	Rules    FirewallRules `json:"rules"`
	Status   string        `json:"status"`
	Tags     []string      `json:"tags"`
	Updated  apiTime       `json:"updated"`
}

type deviceJSON struct {
	Created apiTime    `json:"created"`
	Entity  entityJSON `json:"entity"`
	ID      int        `json:"id"`
	Updated apiTime    `json:"updated"`
}

func deviceEntity(d *FirewallDevice) entityJSON {
	url := fmt.Sprintf("/v4/linode/instances/%d", d.EntityID)
	if d.EntityType == "nodebalancer" {
		url = fmt.Sprintf("/v4/nodebalancers/%d", d.EntityID)
	}
	return entityJSON{ID: d.EntityID, Label: d.EntityLabel, Type: d.EntityType, URL: url}
}

// renderRules shows a rule set as stored: an inbound or outbound list sent
// as null stays null, as the API keeps it (see the catalogue's README).
func renderRules(r FirewallRules) FirewallRules { return r }

func renderFirewall(f *Firewall) firewallJSON {
	ents := make([]entityJSON, 0, len(f.Devices))
	for _, d := range f.Devices {
		ents = append(ents, deviceEntity(d))
	}
	return firewallJSON{
		Created: apiTime(f.Created), Entities: ents, ID: f.ID, Label: f.Label, Rules: renderRules(f.Rules),
		Status: f.Status, Tags: nonNil(f.Tags), Updated: apiTime(f.Updated),
	}
}

func renderDevice(d *FirewallDevice) deviceJSON {
	return deviceJSON{Created: apiTime(d.Created), Entity: deviceEntity(d), ID: d.ID, Updated: apiTime(d.Updated)}
}

func firewallURL(id int) string { return fmt.Sprintf("/v4/networking/firewalls/%d", id) }

// ---- lookups ----

func withFirewall(h func(s *Server, rc *reqCtx, f *Firewall) response) handlerFunc {
	return withID("firewallId", func(st *State) map[int]*Firewall { return st.Firewalls }, h)
}

func withDevice(h func(s *Server, rc *reqCtx, f *Firewall, i int) response) handlerFunc {
	return withFirewall(func(s *Server, rc *reqCtx, f *Firewall) response {
		id, ok := rc.intParam("deviceId")
		if !ok {
			return notFound()
		}
		for i, d := range f.Devices {
			if d.ID == id {
				return h(s, rc, f, i)
			}
		}
		return notFound()
	})
}

// ---- validation ----

type rulesReq struct {
	Inbound        []ruleReq `json:"inbound"`
	InboundPolicy  string    `json:"inbound_policy"`
	Outbound       []ruleReq `json:"outbound"`
	OutboundPolicy string    `json:"outbound_policy"`
}

// ruleReq is a rule as sent. A reference to a Rule Set ({"ruleset": id},
// linodego's FirewallRule.RuleSet) is not modelled and is refused.
type ruleReq struct {
	FirewallRule
	RuleSet json.RawMessage `json:"ruleset"`
}

// rules converts sent rules to stored ones, keeping null (nil) apart from
// an empty list.
func rules(in []ruleReq) []FirewallRule {
	if in == nil {
		return nil
	}
	out := make([]FirewallRule, 0, len(in))
	for _, r := range in {
		out = append(out, r.FirewallRule)
	}
	return out
}

func validatePolicy(field, p string) []apiError {
	switch p {
	case "ACCEPT", "DROP":
		return nil
	case "":
		return []apiError{fieldErr(field, field+" is required")}
	}
	return []apiError{fieldErr(field, "Must be ACCEPT or DROP")}
}

// validPorts checks "22", "80-90" and comma-separated lists of them.
func validPorts(ports string) bool {
	pieces := strings.Split(ports, ",")
	if len(pieces) > 15 {
		return false
	}
	num := func(s string) (int, bool) {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		return n, err == nil && n >= 1 && n <= 65535
	}
	for _, p := range pieces {
		lo, hi, isRange := strings.Cut(p, "-")
		a, ok := num(lo)
		if !ok {
			return false
		}
		if isRange {
			b, ok := num(hi)
			if !ok || b <= a {
				return false
			}
		}
	}
	return true
}

func validateRule(field string, rr ruleReq) []apiError {
	if len(rr.RuleSet) > 0 && string(rr.RuleSet) != "null" {
		return []apiError{fieldErr(field+".ruleset", "Rule Sets are not modelled by linodetest")}
	}
	r := rr.FirewallRule
	var errs []apiError
	if r.Action != "ACCEPT" && r.Action != "DROP" {
		errs = append(errs, fieldErr(field+".action", "Must be ACCEPT or DROP"))
	}
	switch r.Protocol {
	case "TCP", "UDP":
		if r.Ports != "" && !validPorts(r.Ports) {
			errs = append(errs, fieldErr(field+".ports", fmt.Sprintf("%q is not a valid port list", r.Ports)))
		}
	case "ICMP", "IPENCAP":
		if r.Ports != "" {
			errs = append(errs, fieldErr(field+".ports", fmt.Sprintf("Ports are not allowed for %s rules", r.Protocol)))
		}
	default:
		errs = append(errs, fieldErr(field+".protocol", "Must be one of TCP, UDP, ICMP, IPENCAP"))
	}
	if r.Label != "" && (len(r.Label) < 3 || len(r.Label) > 32) {
		errs = append(errs, fieldErr(field+".label", "Length must be 3-32 characters"))
	}
	if len(r.Description) > 100 {
		errs = append(errs, fieldErr(field+".description", "Length must be 100 characters or fewer"))
	}
	n := 0
	check := func(fam string, list *[]string, v6 bool) {
		if list == nil {
			return
		}
		n += len(*list)
		for i, a := range *list {
			if !validIPOrCIDR(a, v6) {
				errs = append(errs, fieldErr(fmt.Sprintf("%s.addresses.%s[%d]", field, fam, i), fmt.Sprintf("%q is not a valid %s address or range", a, fam)))
			}
		}
	}
	check("ipv4", r.Addresses.IPv4, false)
	check("ipv6", r.Addresses.IPv6, true)
	if n == 0 {
		errs = append(errs, fieldErr(field+".addresses", "At least one address is required"))
	}
	if n > MaxRuleAddresses {
		errs = append(errs, fieldErr(field+".addresses", fmt.Sprintf("A rule may have at most %d addresses", MaxRuleAddresses)))
	}
	return errs
}

func validateRules(prefix string, rr *rulesReq) []apiError {
	var errs []apiError
	errs = append(errs, validatePolicy(prefix+"inbound_policy", rr.InboundPolicy)...)
	errs = append(errs, validatePolicy(prefix+"outbound_policy", rr.OutboundPolicy)...)
	for i, r := range rr.Inbound {
		errs = append(errs, validateRule(fmt.Sprintf("%sinbound[%d]", prefix, i), r)...)
	}
	for i, r := range rr.Outbound {
		errs = append(errs, validateRule(fmt.Sprintf("%soutbound[%d]", prefix, i), r)...)
	}
	if n := len(rr.Inbound) + len(rr.Outbound); n > MaxFirewallRules {
		errs = append(errs, fieldErr(strings.TrimSuffix(prefix, "."), fmt.Sprintf("A firewall may have at most %d rules (got %d)", MaxFirewallRules, n)))
	}
	return errs
}

func (s *Server) setRules(f *Firewall, rr *rulesReq) {
	version := f.Rules.Version
	f.Rules = FirewallRules{
		Inbound: rules(rr.Inbound), InboundPolicy: rr.InboundPolicy,
		Outbound: rules(rr.Outbound), OutboundPolicy: rr.OutboundPolicy,
	}
	b, _ := json.Marshal(f.Rules)
	sum := sha256.Sum256(b)
	f.Rules.Version = version + 1
	f.Rules.Fingerprint = hex.EncodeToString(sum[:4])
}

func (s *Server) firewallLabelTaken(label string, except int) bool {
	for _, f := range s.state.Firewalls {
		if f.ID != except && f.Label == label {
			return true
		}
	}
	return false
}

func checkFirewallLabel(label string) []apiError {
	if !validFirewallLabel(label) {
		return []apiError{fieldErr("label", "Label must be 3-32 characters, start with a letter, and contain only letters, digits, '-', '_' and '.', without '--', '__' or '..'")}
	}
	return nil
}

// linodeEntity finds an LKE node by instance ID and names it.
func (s *Server) linodeEntity(id int) (string, bool) {
	for _, c := range s.state.Clusters {
		for _, p := range c.Pools {
			for _, n := range p.Nodes {
				if n.InstanceID == id {
					suffix := n.ID[strings.IndexByte(n.ID, '-')+1:]
					return fmt.Sprintf("lke%d-%d-%s", c.ID, p.ID, suffix), true
				}
			}
		}
	}
	return "", false
}

// addDevice validates and attaches an entity to f.
func (s *Server) addDevice(f *Firewall, field string, id int, typ string, now time.Time) (*FirewallDevice, []apiError) {
	var label string
	switch typ {
	case "linode":
		l, ok := s.linodeEntity(id)
		if !ok {
			return nil, []apiError{fieldErr(field, fmt.Sprintf("Linode %d not found", id))}
		}
		label = l
	case "nodebalancer":
		if id <= 0 {
			return nil, []apiError{fieldErr(field, fmt.Sprintf("NodeBalancer %d not found", id))}
		}
		label = fmt.Sprintf("nodebalancer%d", id)
	default:
		return nil, []apiError{fieldErr("type", "Must be linode or nodebalancer")}
	}
	for _, d := range f.Devices {
		if d.EntityID == id && d.EntityType == typ {
			return nil, []apiError{fieldErr(field, fmt.Sprintf("This %s is already assigned to this firewall", typ))}
		}
	}
	d := &FirewallDevice{ID: s.state.nextID(&s.state.ids.device), EntityID: id, EntityType: typ, EntityLabel: label, Created: now, Updated: now}
	f.Devices = append(f.Devices, d)
	return d, nil
}

// syncPoolFirewalls attaches every node of a pool that names a firewall to
// that firewall, and detaches it from any other, as LKE does for a pool's
// firewall_id (a Linode belongs to one firewall at a time). New devices are
// made in instance order, so their ids are deterministic.
func (s *Server) syncPoolFirewalls(now time.Time) {
	want := map[int]int{} // instance id → firewall id
	for _, c := range s.state.Clusters {
		for _, p := range c.Pools {
			if p.FirewallID == 0 || s.state.Firewalls[p.FirewallID] == nil {
				continue
			}
			for _, n := range p.Nodes {
				if now.Before(n.InstanceAt) {
					continue // its Linode does not exist yet
				}
				want[n.InstanceID] = p.FirewallID
			}
		}
	}
	if len(want) == 0 {
		return
	}
	for fid, f := range s.state.Firewalls {
		f.Devices = slices.DeleteFunc(f.Devices, func(d *FirewallDevice) bool {
			w, ok := want[d.EntityID]
			return d.EntityType == "linode" && ok && w != fid
		})
	}
	for _, id := range slices.Sorted(maps.Keys(want)) {
		f := s.state.Firewalls[want[id]]
		if slices.ContainsFunc(f.Devices, func(d *FirewallDevice) bool { return d.EntityType == "linode" && d.EntityID == id }) {
			continue
		}
		if _, errs := s.addDevice(f, "linode_id", id, "linode", now); len(errs) > 0 {
			continue // cannot happen: the node exists
		}
	}
}

// pruneDevices detaches Linodes that no longer exist (deleted or replaced
// LKE nodes), as the API does when a Linode is deleted.
func (s *Server) pruneDevices() {
	live := map[int]bool{}
	for _, c := range s.state.Clusters {
		for _, p := range c.Pools {
			for _, n := range p.Nodes {
				live[n.InstanceID] = true
			}
		}
	}
	for _, f := range s.state.Firewalls {
		f.Devices = slices.DeleteFunc(f.Devices, func(d *FirewallDevice) bool {
			return d.EntityType == "linode" && !live[d.EntityID]
		})
	}
}

// ---- handlers ----

func listFirewalls(s *Server, rc *reqCtx) response {
	ids := make([]int, 0, len(s.state.Firewalls))
	for id := range s.state.Firewalls {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	items := make([]any, 0, len(ids))
	for _, id := range ids {
		items = append(items, renderFirewall(s.state.Firewalls[id]))
	}
	return listOf(items)
}

type firewallCreateReq struct {
	Label   string    `json:"label"`
	Rules   *rulesReq `json:"rules"`
	Tags    []string  `json:"tags"`
	Devices struct {
		Linodes       []int `json:"linodes"`
		NodeBalancers []int `json:"nodebalancers"`
		// LinodeInterfaces (linodego DevicesCreationOptions) name Linode
		// interfaces, which are not modelled: refused when not empty.
		LinodeInterfaces []int `json:"linode_interfaces"`
	} `json:"devices"`
}

func createFirewall(s *Server, rc *reqCtx) response {
	var req firewallCreateReq
	if bad, ok := rc.decode(&req); !ok {
		return bad
	}
	errs := checkFirewallLabel(req.Label)
	if len(errs) == 0 && s.firewallLabelTaken(req.Label, 0) {
		errs = append(errs, fieldErr("label", "Label must be unique among your Cloud Firewalls"))
	}
	if len(req.Devices.LinodeInterfaces) > 0 {
		errs = append(errs, fieldErr("devices.linode_interfaces", "Linode interfaces are not modelled by linodetest"))
	}
	if req.Rules == nil {
		errs = append(errs, fieldErr("rules", "rules is required"))
	} else {
		errs = append(errs, validateRules("rules.", req.Rules)...)
	}
	if len(errs) > 0 {
		return badRequest(errs...)
	}
	f := &Firewall{ID: s.state.nextID(&s.state.ids.firewall), Label: req.Label, Status: "enabled", Tags: req.Tags, Created: rc.now, Updated: rc.now}
	s.setRules(f, req.Rules)
	for i, id := range req.Devices.Linodes {
		if _, es := s.addDevice(f, fmt.Sprintf("devices.linodes[%d]", i), id, "linode", rc.now); len(es) > 0 {
			errs = append(errs, es...)
		}
	}
	for i, id := range req.Devices.NodeBalancers {
		if _, es := s.addDevice(f, fmt.Sprintf("devices.nodebalancers[%d]", i), id, "nodebalancer", rc.now); len(es) > 0 {
			errs = append(errs, es...)
		}
	}
	if len(errs) > 0 {
		s.state.ids.device -= len(f.Devices) // nothing was created
		return badRequest(errs...)
	}
	s.state.Firewalls[f.ID] = f
	s.state.addEvent(rc.now, "firewall_create", "firewall", f.ID, f.Label, firewallURL(f.ID), "")
	return okMutated(renderFirewall(f))
}

func getFirewall(s *Server, rc *reqCtx, f *Firewall) response { return ok(renderFirewall(f)) }

func updateFirewall(s *Server, rc *reqCtx, f *Firewall) response {
	var req struct {
		Label  *string   `json:"label"`
		Status *string   `json:"status"`
		Tags   *[]string `json:"tags"`
	}
	if bad, ok := rc.decode(&req); !ok {
		return bad
	}
	var errs []apiError
	if req.Label != nil {
		if es := checkFirewallLabel(*req.Label); len(es) > 0 {
			errs = append(errs, es...)
		} else if s.firewallLabelTaken(*req.Label, f.ID) {
			errs = append(errs, fieldErr("label", "Label must be unique among your Cloud Firewalls"))
		}
	}
	if req.Status != nil && *req.Status != "enabled" && *req.Status != "disabled" {
		errs = append(errs, fieldErr("status", "Must be enabled or disabled"))
	}
	if len(errs) > 0 {
		return badRequest(errs...)
	}
	action := "firewall_update"
	if req.Label != nil {
		f.Label = *req.Label
	}
	if req.Tags != nil {
		f.Tags = slices.Clone(*req.Tags)
	}
	if req.Status != nil && *req.Status != f.Status {
		f.Status = *req.Status
		action = "firewall_" + strings.TrimSuffix(*req.Status, "d")
	}
	f.Updated = rc.now
	s.state.addEvent(rc.now, action, "firewall", f.ID, f.Label, firewallURL(f.ID), "")
	return okMutated(renderFirewall(f))
}

func deleteFirewall(s *Server, rc *reqCtx, f *Firewall) response {
	delete(s.state.Firewalls, f.ID)
	for _, c := range s.state.Clusters {
		for _, p := range c.Pools {
			if p.FirewallID == f.ID {
				p.FirewallID = 0
			}
		}
	}
	s.state.addEvent(rc.now, "firewall_delete", "firewall", f.ID, f.Label, firewallURL(f.ID), "")
	return deleted()
}

func getFirewallRules(s *Server, rc *reqCtx, f *Firewall) response { return ok(renderRules(f.Rules)) }

func updateFirewallRules(s *Server, rc *reqCtx, f *Firewall) response {
	var req rulesReq
	if bad, ok := rc.decode(&req); !ok {
		return bad
	}
	if errs := validateRules("", &req); len(errs) > 0 {
		return badRequest(errs...)
	}
	s.setRules(f, &req)
	f.Updated = rc.now
	s.state.addEvent(rc.now, "firewall_update", "firewall", f.ID, f.Label, firewallURL(f.ID), "rules updated")
	return okMutated(renderRules(f.Rules))
}

func listFirewallDevices(s *Server, rc *reqCtx, f *Firewall) response {
	items := make([]any, 0, len(f.Devices))
	for _, d := range f.Devices {
		items = append(items, renderDevice(d))
	}
	return listOf(items)
}

func createFirewallDevice(s *Server, rc *reqCtx, f *Firewall) response {
	var req struct {
		ID   int    `json:"id"`
		Type string `json:"type"`
	}
	if bad, ok := rc.decode(&req); !ok {
		return bad
	}
	d, errs := s.addDevice(f, "id", req.ID, req.Type, rc.now)
	if len(errs) > 0 {
		return badRequest(errs...)
	}
	f.Updated = rc.now
	s.state.addEvent(rc.now, "firewall_device_add", "firewall", f.ID, f.Label, firewallURL(f.ID), fmt.Sprintf("%s %d added", d.EntityType, d.EntityID))
	return okMutated(renderDevice(d))
}

func getFirewallDevice(s *Server, rc *reqCtx, f *Firewall, i int) response {
	return ok(renderDevice(f.Devices[i]))
}

func deleteFirewallDevice(s *Server, rc *reqCtx, f *Firewall, i int) response {
	d := f.Devices[i]
	f.Devices = slices.Delete(f.Devices, i, i+1)
	f.Updated = rc.now
	s.state.addEvent(rc.now, "firewall_device_remove", "firewall", f.ID, f.Label, firewallURL(f.ID), fmt.Sprintf("%s %d removed", d.EntityType, d.EntityID))
	return deleted()
}

// ---- settings and templates ----

// defaultFirewallIDsJSON is linodego's DefaultFirewallIDs: each member is a
// firewall ID, or null when no default is set.
type defaultFirewallIDsJSON struct {
	Linode          *int `json:"linode"`
	NodeBalancer    *int `json:"nodebalancer"`
	PublicInterface *int `json:"public_interface"`
	VPCInterface    *int `json:"vpc_interface"`
}

type firewallSettingsJSON struct {
	DefaultFirewallIDs defaultFirewallIDsJSON `json:"default_firewall_ids"`
}

// idOrNull is the ID of a firewall that still exists, else null.
func (s *Server) idOrNull(id int) *int {
	if id == 0 || s.state.Firewalls[id] == nil {
		return nil
	}
	return &id
}

func getFirewallSettings(s *Server, rc *reqCtx) response {
	d := s.state.DefaultFirewalls
	return ok(firewallSettingsJSON{DefaultFirewallIDs: defaultFirewallIDsJSON{
		Linode: s.idOrNull(d.Linode), NodeBalancer: s.idOrNull(d.NodeBalancer),
		PublicInterface: s.idOrNull(d.PublicInterface), VPCInterface: s.idOrNull(d.VPCInterface),
	}})
}

// templateRulesJSON is a template's rule set: it has no version or
// fingerprint.
type templateRulesJSON struct {
	Inbound        []FirewallRule `json:"inbound"`
	InboundPolicy  string         `json:"inbound_policy"`
	Outbound       []FirewallRule `json:"outbound"`
	OutboundPolicy string         `json:"outbound_policy"`
}

type firewallTemplateJSON struct {
	Rules templateRulesJSON `json:"rules"`
	Slug  string            `json:"slug"`
}

// firewallTemplates are the API's two templates, with the rules Linode's
// Ansible collection documents for them (ansible_linode,
// firewall_template_list docs).
func firewallTemplates() []firewallTemplateJSON {
	anywhere := RuleAddresses{IPv4: &[]string{"0.0.0.0/0"}, IPv6: &[]string{"::/0"}}
	base := []FirewallRule{
		{Action: "ACCEPT", Addresses: anywhere, Description: "Accept inbound SSH", Label: "accept-inbound-ssh", Ports: "22", Protocol: "TCP"},
		{Action: "ACCEPT", Addresses: anywhere, Description: "Accept inbound ICMP", Label: "accept-inbound-icmp", Protocol: "ICMP"},
	}
	private := RuleAddresses{IPv4: &[]string{"10.0.0.0/8", "192.168.0.0/17", "172.16.0.0/12"}}
	vpc := append(slices.Clone(base),
		FirewallRule{Action: "ACCEPT", Addresses: private, Description: "Accept inbound RFC-1918", Label: "accept-inbound-rfc1918", Ports: "1-65535", Protocol: "TCP"},
		FirewallRule{Action: "ACCEPT", Addresses: private, Description: "Accept inbound RFC-1918", Label: "accept-inbound-rfc1918", Ports: "1-65535", Protocol: "UDP"},
	)
	set := func(in []FirewallRule) templateRulesJSON {
		return templateRulesJSON{Inbound: in, InboundPolicy: "DROP", Outbound: []FirewallRule{}, OutboundPolicy: "ACCEPT"}
	}
	return []firewallTemplateJSON{{Rules: set(vpc), Slug: "vpc"}, {Rules: set(base), Slug: "public"}}
}

func listFirewallTemplates(s *Server, rc *reqCtx) response {
	var items []any
	for _, t := range firewallTemplates() {
		items = append(items, t)
	}
	return listOf(items)
}

func getFirewallTemplate(s *Server, rc *reqCtx) response {
	for _, t := range firewallTemplates() {
		if t.Slug == rc.params["slug"] {
			return ok(t)
		}
	}
	return notFound()
}
