package linodetest

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strings"
)

func vpcRoutes() []*route {
	return []*route{
		// /vpcs/ips must come before /vpcs/{vpcId}.
		{method: "GET", pattern: "/vpcs/ips", list: true, filterable: []string{"region", "vpc_id", "subnet_id", "linode_id"}, h: listVPCIPs},
		{method: "GET", pattern: "/vpcs", list: true, filterable: []string{"created", "id", "label", "region", "updated"}, h: listVPCs},
		{method: "POST", pattern: "/vpcs", h: createVPC},
		{method: "GET", pattern: "/vpcs/{vpcId}", h: withVPC(getVPC)},
		{method: "PUT", pattern: "/vpcs/{vpcId}", h: withVPC(updateVPC)},
		{method: "DELETE", pattern: "/vpcs/{vpcId}", h: withVPC(deleteVPC)},
		{method: "GET", pattern: "/vpcs/{vpcId}/ips", list: true, filterable: []string{"region", "subnet_id", "linode_id"}, h: withVPC(listOneVPCIPs)},
		{method: "GET", pattern: "/vpcs/{vpcId}/subnets", list: true, filterable: []string{"created", "id", "label", "updated"}, h: withVPC(listSubnets)},
		{method: "POST", pattern: "/vpcs/{vpcId}/subnets", h: withVPC(createSubnet)},
		{method: "GET", pattern: "/vpcs/{vpcId}/subnets/{vpcSubnetId}", h: withSubnet(getSubnet)},
		{method: "PUT", pattern: "/vpcs/{vpcId}/subnets/{vpcSubnetId}", h: withSubnet(updateSubnet)},
		{method: "DELETE", pattern: "/vpcs/{vpcId}/subnets/{vpcSubnetId}", h: withSubnet(deleteSubnet)},
	}
}

func (v *VPC) subnet(id int) *Subnet {
	for _, sn := range v.Subnets {
		if sn.ID == id {
			return sn
		}
	}
	return nil
}

// ---- rendering ----

type ipv6RangeJSON struct {
	Range string `json:"range"`
}

type subnetJSON struct {
	Created       apiTime         `json:"created"`
	Databases     []any           `json:"databases"`
	ID            int             `json:"id"`
	IPv4          string          `json:"ipv4"`
	IPv6          []ipv6RangeJSON `json:"ipv6"`
	Label         string          `json:"label"`
	Linodes       []subnetLinode  `json:"linodes"`
	NodeBalancers []any           `json:"nodebalancers"`
	Updated       apiTime         `json:"updated"`
}

type vpcJSON struct {
	Created     apiTime         `json:"created"`
	Description string          `json:"description"`
	ID          int             `json:"id"`
	IPv6        []ipv6RangeJSON `json:"ipv6"`
	Label       string          `json:"label"`
	Region      string          `json:"region"`
	Subnets     []subnetJSON    `json:"subnets"`
	Updated     apiTime         `json:"updated"`
}

// subnetLinode is a Linode attached to a subnet, with its VPC interfaces.
type subnetLinode struct {
	ID         int                     `json:"id"`
	Interfaces []subnetLinodeInterface `json:"interfaces"`
}

// subnetLinodeInterface carries id and active only: the OpenAPI description
// has no config_id here (linodego decodes one), and LKE nodes use the
// Linode's default configuration anyway.
type subnetLinodeInterface struct {
	ID     int  `json:"id"`
	Active bool `json:"active"`
}

// renderRanges shows IPv6 ranges; none asked for is null, as the API shows
// it.
func renderRanges(rs []string) []ipv6RangeJSON {
	if rs == nil {
		return nil
	}
	out := make([]ipv6RangeJSON, 0, len(rs))
	for _, r := range rs {
		out = append(out, ipv6RangeJSON{Range: r})
	}
	return out
}

func (s *Server) renderSubnet(sn *Subnet) subnetJSON {
	return subnetJSON{
		Created: apiTime(sn.Created), Databases: []any{}, ID: sn.ID, IPv4: sn.IPv4, IPv6: renderRanges(sn.IPv6),
		Label: sn.Label, Linodes: s.subnetLinodes(sn), NodeBalancers: []any{}, Updated: apiTime(sn.Updated),
	}
}

// subnetLinodes lists the nodes of the LKE clusters placed in sn, as the
// API lists the Linodes behind them, in cluster, pool and node order.
func (s *Server) subnetLinodes(sn *Subnet) []subnetLinode {
	ids := make([]int, 0, len(s.state.Clusters))
	for id, c := range s.state.Clusters {
		if c.SubnetID == sn.ID {
			ids = append(ids, id)
		}
	}
	sort.Ints(ids)
	out := []subnetLinode{}
	for _, id := range ids {
		for _, p := range s.state.Clusters[id].Pools {
			for _, n := range p.Nodes {
				out = append(out, subnetLinode{ID: n.InstanceID, Interfaces: []subnetLinodeInterface{{ID: n.InstanceID, Active: true}}})
			}
		}
	}
	return out
}

func (s *Server) renderVPC(v *VPC) vpcJSON {
	subs := make([]subnetJSON, 0, len(v.Subnets))
	for _, sn := range v.Subnets {
		subs = append(subs, s.renderSubnet(sn))
	}
	return vpcJSON{
		Created: apiTime(v.Created), Description: v.Description, ID: v.ID, IPv6: renderRanges(v.IPv6),
		Label: v.Label, Region: v.Region, Subnets: subs, Updated: apiTime(v.Updated),
	}
}

func vpcURL(id int) string { return fmt.Sprintf("/v4/vpcs/%d", id) }

// ---- lookups ----

func withVPC(h func(s *Server, rc *reqCtx, v *VPC) response) handlerFunc {
	return withID("vpcId", func(st *State) map[int]*VPC { return st.VPCs }, h)
}

func withSubnet(h func(s *Server, rc *reqCtx, v *VPC, sn *Subnet) response) handlerFunc {
	return withVPC(func(s *Server, rc *reqCtx, v *VPC) response {
		id, ok := rc.intParam("vpcSubnetId")
		if !ok {
			return notFound()
		}
		sn := v.subnet(id)
		if sn == nil {
			return notFound()
		}
		return h(s, rc, v, sn)
	})
}

// ---- validation ----

// vpcLabelRe: VPC and subnet labels are ASCII letters, digits and hyphens.
var vpcLabelRe = regexp.MustCompile(`^[a-zA-Z0-9-]+$`)

func checkVPCLabel(field, label string) []apiError {
	switch {
	case label == "":
		return []apiError{fieldErr(field, "label is required")}
	case len(label) > 64:
		return []apiError{fieldErr(field, "Length must be 1-64 characters")}
	case !vpcLabelRe.MatchString(label):
		return []apiError{fieldErr(field, "Label must include only ASCII letters, numbers, and dashes")}
	}
	return nil
}

var privateRanges = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
}

// checkSubnetRange validates a subnet's IPv4 range and that it overlaps
// none of others.
func checkSubnetRange(field, cidr string, others []netip.Prefix) (netip.Prefix, []apiError) {
	if cidr == "" {
		return netip.Prefix{}, []apiError{fieldErr(field, "ipv4 is required")}
	}
	p, err := netip.ParsePrefix(cidr)
	if err != nil || !p.Addr().Is4() {
		return p, []apiError{fieldErr(field, fmt.Sprintf("%q is not a valid IPv4 range", cidr))}
	}
	if p.Masked() != p {
		return p, []apiError{fieldErr(field, fmt.Sprintf("%q is not a network address; use %s", cidr, p.Masked()))}
	}
	if p.Bits() > 29 {
		return p, []apiError{fieldErr(field, "Prefix length must be /29 or shorter")}
	}
	private := false
	for _, r := range privateRanges {
		if r.Bits() <= p.Bits() && r.Contains(p.Addr()) {
			private = true
		}
	}
	if !private {
		return p, []apiError{fieldErr(field, "Range must be within 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16")}
	}
	for _, o := range others {
		if o.Overlaps(p) {
			return p, []apiError{fieldErr(field, fmt.Sprintf("%s overlaps with existing subnet %s", p, o))}
		}
	}
	return p, nil
}

func subnetPrefixes(v *VPC, except int) []netip.Prefix {
	var out []netip.Prefix
	for _, sn := range v.Subnets {
		if sn.ID == except {
			continue
		}
		if p, err := netip.ParsePrefix(sn.IPv4); err == nil {
			out = append(out, p)
		}
	}
	return out
}

func (s *Server) vpcLabelTaken(label string, except int) bool {
	for _, v := range s.state.VPCs {
		if v.ID != except && v.Label == label {
			return true
		}
	}
	return false
}

func subnetLabelTaken(v *VPC, label string, except int) bool {
	for _, sn := range v.Subnets {
		if sn.ID != except && sn.Label == label {
			return true
		}
	}
	return false
}

// ---- IPv6 ranges ----

// vpcIPv6Pool is where VPC IPv6 ranges come from: the documentation prefix
// (RFC 3849), so that no simulated range is a routable one.
var vpcIPv6Pool = netip.MustParsePrefix("2001:db8::/32")

// VPC and subnet IPv6 prefix lengths, as the API allocates them.
const (
	vpcIPv6Bits    = 52
	subnetIPv6Bits = 64
)

// vpcIPv6Req is a VPC's IPv6 request (linodego VPCCreateOptionsIPv6).
type vpcIPv6Req struct {
	Range           *string `json:"range"`
	AllocationClass *string `json:"allocation_class"`
}

// subnetIPv6Req is a subnet's IPv6 request (linodego
// VPCSubnetCreateOptionsIPv6).
type subnetIPv6Req struct {
	Range *string `json:"range"`
}

// nthPrefix is the i-th prefix of length bits (≤ 64) inside parent.
func nthPrefix(parent netip.Prefix, bits, i int) netip.Prefix {
	a := parent.Masked().Addr().As16()
	hi := binary.BigEndian.Uint64(a[:8]) + uint64(i)<<(64-bits)
	binary.BigEndian.PutUint64(a[:8], hi)
	return netip.PrefixFrom(netip.AddrFrom16(a), bits)
}

// freePrefix is the lowest prefix of length bits inside parent that
// overlaps none of taken.
func freePrefix(parent netip.Prefix, bits int, taken []netip.Prefix) (netip.Prefix, bool) {
	for i := range 1 << (bits - parent.Bits()) {
		p := nthPrefix(parent, bits, i)
		if !overlapsAny(p, taken) {
			return p, true
		}
	}
	return netip.Prefix{}, false
}

func overlapsAny(p netip.Prefix, taken []netip.Prefix) bool {
	for _, t := range taken {
		if t.Overlaps(p) {
			return true
		}
	}
	return false
}

func parsePrefixes(rs []string) []netip.Prefix {
	var out []netip.Prefix
	for _, r := range rs {
		if p, err := netip.ParsePrefix(r); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// pickRange resolves one requested range: empty, auto or "/<bits>" takes
// the lowest free prefix of that length in parent; an explicit prefix must
// be of that length, inside parent and free.
func pickRange(field, what string, req string, parent netip.Prefix, bits int, taken []netip.Prefix) (netip.Prefix, []apiError) {
	switch req {
	case "", "auto", fmt.Sprintf("/%d", bits):
		p, ok := freePrefix(parent, bits, taken)
		if !ok {
			return p, []apiError{fieldErr(field, fmt.Sprintf("No free /%d IPv6 range is left in %s", bits, parent))}
		}
		return p, nil
	}
	if strings.HasPrefix(req, "/") {
		return netip.Prefix{}, []apiError{fieldErr(field, fmt.Sprintf("linodetest allocates only /%d IPv6 ranges for a %s", bits, what))}
	}
	p, err := netip.ParsePrefix(req)
	switch {
	case err != nil || !p.Addr().Is6() || p.Addr().Is4In6():
		return p, []apiError{fieldErr(field, fmt.Sprintf("%q is not a valid IPv6 range", req))}
	case p.Bits() != bits:
		return p, []apiError{fieldErr(field, fmt.Sprintf("linodetest allocates only /%d IPv6 ranges for a %s", bits, what))}
	case p.Masked() != p:
		return p, []apiError{fieldErr(field, fmt.Sprintf("%q is not a network address; use %s", req, p.Masked()))}
	case !parent.Contains(p.Addr()):
		return p, []apiError{fieldErr(field, fmt.Sprintf("%s is not within %s", p, parent))}
	case overlapsAny(p, taken):
		return p, []apiError{fieldErr(field, fmt.Sprintf("%s is already in use", p))}
	}
	return p, nil
}

// vpcRange resolves a VPC's IPv6 request (nil: none asked for).
func (s *Server) vpcRange(reqs []vpcIPv6Req) ([]string, []apiError) {
	if reqs == nil {
		return nil, nil
	}
	if len(reqs) != 1 {
		return nil, []apiError{fieldErr("ipv6", "A VPC takes exactly one IPv6 range")}
	}
	if reqs[0].AllocationClass != nil {
		return nil, []apiError{fieldErr("ipv6[0].allocation_class", "IPv6 allocation classes are not modelled by linodetest")}
	}
	var taken []netip.Prefix
	for _, v := range s.state.VPCs {
		taken = append(taken, parsePrefixes(v.IPv6)...)
	}
	p, errs := pickRange("ipv6[0].range", "VPC", deref(reqs[0].Range), vpcIPv6Pool, vpcIPv6Bits, taken)
	if len(errs) > 0 {
		return nil, errs
	}
	return []string{p.String()}, nil
}

// subnetRange resolves a subnet's IPv6 request within the VPC's range
// vpc6 (nil: the VPC has none), given the subnet ranges already taken.
func subnetRange(field string, reqs []subnetIPv6Req, vpc6 []string, taken []netip.Prefix) ([]string, []apiError) {
	if reqs == nil {
		return nil, nil
	}
	parents := parsePrefixes(vpc6)
	switch {
	case len(parents) == 0:
		return nil, []apiError{fieldErr(field, "The VPC has no IPv6 range to take a subnet range from")}
	case len(reqs) != 1:
		return nil, []apiError{fieldErr(field, "A subnet takes exactly one IPv6 range")}
	}
	p, errs := pickRange(field+"[0].range", "subnet", deref(reqs[0].Range), parents[0], subnetIPv6Bits, taken)
	if len(errs) > 0 {
		return nil, errs
	}
	return []string{p.String()}, nil
}

func subnetRanges(v *VPC) []netip.Prefix {
	var out []netip.Prefix
	for _, sn := range v.Subnets {
		out = append(out, parsePrefixes(sn.IPv6)...)
	}
	return out
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// notChangeable refuses a member that an update request may not carry: the
// API sets IPv6 ranges at creation only.
func notChangeable(field string, raw json.RawMessage) []apiError {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	return []apiError{fieldErr(field, "IPv6 ranges are set at creation; linodetest does not model changing them")}
}

// ---- handlers ----

func listVPCs(s *Server, rc *reqCtx) response {
	ids := make([]int, 0, len(s.state.VPCs))
	for id := range s.state.VPCs {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	items := make([]any, 0, len(ids))
	for _, id := range ids {
		items = append(items, s.renderVPC(s.state.VPCs[id]))
	}
	return listOf(items)
}

type subnetReq struct {
	Label string          `json:"label"`
	IPv4  string          `json:"ipv4"`
	IPv6  []subnetIPv6Req `json:"ipv6"`
}

func createVPC(s *Server, rc *reqCtx) response {
	var req struct {
		Label       string       `json:"label"`
		Description string       `json:"description"`
		Region      string       `json:"region"`
		IPv6        []vpcIPv6Req `json:"ipv6"`
		Subnets     []subnetReq  `json:"subnets"`
	}
	if bad, ok := rc.decode(&req); !ok {
		return bad
	}
	errs := checkVPCLabel("label", req.Label)
	if len(errs) == 0 && s.vpcLabelTaken(req.Label, 0) {
		errs = append(errs, fieldErr("label", "Label must be unique among your VPCs"))
	}
	if len(req.Description) > 255 {
		errs = append(errs, fieldErr("description", "Length must be 255 characters or fewer"))
	}
	reg := s.catalogue().region(req.Region)
	switch {
	case req.Region == "":
		errs = append(errs, fieldErr("region", "region is required"))
	case reg == nil:
		errs = append(errs, fieldErr("region", fmt.Sprintf("Region %s is not valid", req.Region)))
	case !reg.has(capVPC):
		errs = append(errs, fieldErr("region", fmt.Sprintf("VPCs are not available in %s", req.Region)))
	}
	vpc6, es := s.vpcRange(req.IPv6)
	errs = append(errs, es...)
	var prefixes, ranges6 []netip.Prefix
	subnet6 := make([][]string, len(req.Subnets))
	labels := map[string]bool{}
	for i, sr := range req.Subnets {
		f := fmt.Sprintf("subnets[%d]", i)
		errs = append(errs, checkVPCLabel(f+".label", sr.Label)...)
		if labels[sr.Label] {
			errs = append(errs, fieldErr(f+".label", "Subnet labels must be unique within the VPC"))
		}
		labels[sr.Label] = true
		p, es := checkSubnetRange(f+".ipv4", sr.IPv4, prefixes)
		errs = append(errs, es...)
		if len(es) == 0 {
			prefixes = append(prefixes, p)
		}
		if sr.IPv6 != nil && len(req.IPv6) > 0 && vpc6 == nil {
			continue // the VPC's own range was refused
		}
		r6, es := subnetRange(f+".ipv6", sr.IPv6, vpc6, ranges6)
		errs = append(errs, es...)
		subnet6[i] = r6
		ranges6 = append(ranges6, parsePrefixes(r6)...)
	}
	if len(errs) > 0 {
		return badRequest(errs...)
	}
	v := &VPC{ID: s.state.nextID(&s.state.ids.vpc), Label: req.Label, Description: req.Description, Region: req.Region, IPv6: vpc6, Created: rc.now, Updated: rc.now}
	s.state.VPCs[v.ID] = v
	s.state.addEvent(rc.now, "vpc_create", "vpc", v.ID, v.Label, vpcURL(v.ID), "")
	for i, sr := range req.Subnets {
		sn := &Subnet{ID: s.state.nextID(&s.state.ids.subnet), Label: sr.Label, IPv4: sr.IPv4, IPv6: subnet6[i], Created: rc.now, Updated: rc.now}
		v.Subnets = append(v.Subnets, sn)
		s.state.addEvent(rc.now, "subnet_create", "subnet", sn.ID, sn.Label, fmt.Sprintf("%s/subnets/%d", vpcURL(v.ID), sn.ID), "")
	}
	return okMutated(s.renderVPC(v))
}

func getVPC(s *Server, rc *reqCtx, v *VPC) response { return ok(s.renderVPC(v)) }

func updateVPC(s *Server, rc *reqCtx, v *VPC) response {
	var req struct {
		Label       *string         `json:"label"`
		Description *string         `json:"description"`
		IPv6        json.RawMessage `json:"ipv6"`
	}
	if bad, ok := rc.decode(&req); !ok {
		return bad
	}
	errs := notChangeable("ipv6", req.IPv6)
	if req.Label != nil {
		errs = append(errs, checkVPCLabel("label", *req.Label)...)
		if len(errs) == 0 && s.vpcLabelTaken(*req.Label, v.ID) {
			errs = append(errs, fieldErr("label", "Label must be unique among your VPCs"))
		}
	}
	if req.Description != nil && len(*req.Description) > 255 {
		errs = append(errs, fieldErr("description", "Length must be 255 characters or fewer"))
	}
	if len(errs) > 0 {
		return badRequest(errs...)
	}
	if req.Label != nil {
		v.Label = *req.Label
	}
	if req.Description != nil {
		v.Description = *req.Description
	}
	v.Updated = rc.now
	s.state.addEvent(rc.now, "vpc_update", "vpc", v.ID, v.Label, vpcURL(v.ID), "")
	return okMutated(s.renderVPC(v))
}

func deleteVPC(s *Server, rc *reqCtx, v *VPC) response {
	for _, c := range s.state.Clusters {
		if c.VPCID == v.ID {
			return badRequest(apiError{Reason: fmt.Sprintf("VPC %d is in use by LKE cluster %d", v.ID, c.ID)})
		}
	}
	delete(s.state.VPCs, v.ID)
	s.state.addEvent(rc.now, "vpc_delete", "vpc", v.ID, v.Label, vpcURL(v.ID), "")
	return deleted()
}

func listVPCIPs(s *Server, rc *reqCtx) response { return listOf([]any{}) }

func listOneVPCIPs(s *Server, rc *reqCtx, v *VPC) response { return listOf([]any{}) }

func listSubnets(s *Server, rc *reqCtx, v *VPC) response {
	items := make([]any, 0, len(v.Subnets))
	for _, sn := range v.Subnets {
		items = append(items, s.renderSubnet(sn))
	}
	return listOf(items)
}

func createSubnet(s *Server, rc *reqCtx, v *VPC) response {
	var req subnetReq
	if bad, ok := rc.decode(&req); !ok {
		return bad
	}
	errs := checkVPCLabel("label", req.Label)
	if len(errs) == 0 && subnetLabelTaken(v, req.Label, 0) {
		errs = append(errs, fieldErr("label", "Subnet labels must be unique within the VPC"))
	}
	_, es := checkSubnetRange("ipv4", req.IPv4, subnetPrefixes(v, 0))
	errs = append(errs, es...)
	r6, es := subnetRange("ipv6", req.IPv6, v.IPv6, subnetRanges(v))
	errs = append(errs, es...)
	if len(errs) > 0 {
		return badRequest(errs...)
	}
	sn := &Subnet{ID: s.state.nextID(&s.state.ids.subnet), Label: req.Label, IPv4: req.IPv4, IPv6: r6, Created: rc.now, Updated: rc.now}
	v.Subnets = append(v.Subnets, sn)
	v.Updated = rc.now
	s.state.addEvent(rc.now, "subnet_create", "subnet", sn.ID, sn.Label, fmt.Sprintf("%s/subnets/%d", vpcURL(v.ID), sn.ID), "")
	return okMutated(s.renderSubnet(sn))
}

func getSubnet(s *Server, rc *reqCtx, v *VPC, sn *Subnet) response { return ok(s.renderSubnet(sn)) }

func updateSubnet(s *Server, rc *reqCtx, v *VPC, sn *Subnet) response {
	var req struct {
		Label *string         `json:"label"`
		IPv6  json.RawMessage `json:"ipv6"`
	}
	if bad, ok := rc.decode(&req); !ok {
		return bad
	}
	errs := notChangeable("ipv6", req.IPv6)
	if req.Label != nil {
		es := checkVPCLabel("label", *req.Label)
		if len(es) == 0 && subnetLabelTaken(v, *req.Label, sn.ID) {
			es = append(es, fieldErr("label", "Subnet labels must be unique within the VPC"))
		}
		errs = append(errs, es...)
	}
	if len(errs) > 0 {
		return badRequest(errs...)
	}
	if req.Label != nil {
		sn.Label = *req.Label
	}
	sn.Updated = rc.now
	s.state.addEvent(rc.now, "subnet_update", "subnet", sn.ID, sn.Label, fmt.Sprintf("%s/subnets/%d", vpcURL(v.ID), sn.ID), "")
	return okMutated(s.renderSubnet(sn))
}

func deleteSubnet(s *Server, rc *reqCtx, v *VPC, sn *Subnet) response {
	for _, c := range s.state.Clusters {
		if c.SubnetID == sn.ID {
			return badRequest(apiError{Reason: fmt.Sprintf("Subnet %d is in use by LKE cluster %d", sn.ID, c.ID)})
		}
	}
	v.Subnets = deleteByID(v.Subnets, sn.ID)
	v.Updated = rc.now
	s.state.addEvent(rc.now, "subnet_delete", "subnet", sn.ID, sn.Label, fmt.Sprintf("%s/subnets/%d", vpcURL(v.ID), sn.ID), "")
	return deleted()
}

func deleteByID(subs []*Subnet, id int) []*Subnet {
	out := subs[:0]
	for _, sn := range subs {
		if sn.ID != id {
			out = append(out, sn)
		}
	}
	return out
}
