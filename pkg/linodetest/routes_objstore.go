package linodetest

import (
	"fmt"

	"github.com/johannesboyne/gofakes3"
	"slices"
	"sort"
	"strings"
)

func objectStorageRoutes() []*route {
	return []*route{
		{method: "GET", pattern: "/object-storage/buckets", list: true, h: listBuckets},
		{method: "POST", pattern: "/object-storage/buckets", h: createBucket},
		{method: "GET", pattern: "/object-storage/buckets/{regionId}", list: true, h: listRegionBuckets},
		{method: "GET", pattern: "/object-storage/buckets/{regionId}/{bucket}", h: withBucket(getBucket)},
		{method: "DELETE", pattern: "/object-storage/buckets/{regionId}/{bucket}", h: withBucket(deleteBucket)},
		// GET …/access is newer than the OpenAPI description (4.189).
		{method: "GET", pattern: "/object-storage/buckets/{regionId}/{bucket}/access", offSpec: true, h: withBucket(getBucketAccess)},
		{method: "POST", pattern: "/object-storage/buckets/{regionId}/{bucket}/access", h: withBucket(updateBucketAccess)},
		{method: "PUT", pattern: "/object-storage/buckets/{regionId}/{bucket}/access", h: withBucket(updateBucketAccess)},
		{method: "GET", pattern: "/object-storage/keys", list: true, h: listKeys},
		{method: "POST", pattern: "/object-storage/keys", h: createKey},
		{method: "GET", pattern: "/object-storage/keys/{keyId}", h: withKey(getKey)},
		{method: "PUT", pattern: "/object-storage/keys/{keyId}", h: withKey(updateKey)},
		{method: "DELETE", pattern: "/object-storage/keys/{keyId}", h: withKey(deleteKey)},
		// /object-storage/endpoints is newer than the OpenAPI description.
		{method: "GET", pattern: "/object-storage/endpoints", list: true, offSpec: true, h: listEndpoints},
		// Quotas are newer than the OpenAPI description too.
		{method: "GET", pattern: "/object-storage/quotas", list: true, offSpec: true, filterable: []string{"endpoint_type", "quota_type", "s3_endpoint"}, h: listQuotas},
		{method: "GET", pattern: "/object-storage/quotas/{quotaId}", offSpec: true, h: getQuota},
		{method: "GET", pattern: "/object-storage/quotas/{quotaId}/usage", offSpec: true, h: getQuotaUsage},
	}
}

// objCluster is the Object Storage cluster of a region ("us-east-1").
func objCluster(region string) string { return region + "-1" }

// realS3Endpoint is the name the real API gives region's endpoint; a
// request naming it is read as naming the simulated one (see s3.go).
func realS3Endpoint(region string) string { return objCluster(region) + ".linodeobjects.com" }

// objRegion resolves a region or cluster ID ("us-east" or "us-east-1") to
// an Object Storage region.
func objRegion(cat *Catalogue, id string) (string, bool) {
	id = strings.TrimSuffix(id, "-1")
	r := cat.region(id)
	if r == nil || !r.has(capObjectStorage) {
		return "", false
	}
	return r.id, true
}

func bucketKey(region, label string) string { return region + "/" + label }

// ---- rendering ----

type bucketJSON struct {
	Cluster      string  `json:"cluster"`
	Created      apiTime `json:"created"`
	EndpointType string  `json:"endpoint_type"`
	Hostname     string  `json:"hostname"`
	Label        string  `json:"label"`
	Objects      int     `json:"objects"`
	Region       string  `json:"region"`
	S3Endpoint   string  `json:"s3_endpoint"`
	Size         int     `json:"size"`
}

// renderBucket shows a bucket; its objects and size are what S3 holds
// plus what Mutate set. The hostname is the S3 endpoint itself (a client
// addresses the bucket path-style): see s3.go.
func (s *Server) renderBucket(b *Bucket) bucketJSON {
	objects, size := s.bucketContents(b)
	ep := s.s3Endpoint(b.Region)
	return bucketJSON{
		Cluster: objCluster(b.Region), Created: apiTime(b.Created), EndpointType: b.EndpointType,
		Hostname: ep, Label: b.Label, Objects: b.Objects + objects,
		Region: b.Region, S3Endpoint: ep, Size: b.Size + size,
	}
}

type keyRegionJSON struct {
	ID           string `json:"id"`
	S3Endpoint   string `json:"s3_endpoint"`
	EndpointType string `json:"endpoint_type"`
}

type keyAccessJSON struct {
	BucketName  string `json:"bucket_name"`
	Cluster     string `json:"cluster"`
	Permissions string `json:"permissions"`
	Region      string `json:"region"`
}

type keyJSON struct {
	AccessKey string `json:"access_key"`
	// BucketAccess is null for an unlimited key, as the API shows it.
	BucketAccess *[]keyAccessJSON `json:"bucket_access"`
	ID           int              `json:"id"`
	Label        string           `json:"label"`
	Limited      bool             `json:"limited"`
	Regions      []keyRegionJSON  `json:"regions"`
	SecretKey    string           `json:"secret_key"`
}

// redacted is what the API shows instead of a key's secret after creation.
const redacted = "[REDACTED]"

func (s *Server) renderKey(k *ObjectStorageKey, secret string) keyJSON {
	regs := make([]keyRegionJSON, 0, len(k.Regions))
	for _, r := range k.Regions {
		regs = append(regs, keyRegionJSON{ID: r, S3Endpoint: s.s3Endpoint(r), EndpointType: "E1"})
	}
	var acc *[]keyAccessJSON
	if k.Limited {
		list := make([]keyAccessJSON, 0, len(k.BucketAccess))
		for _, a := range k.BucketAccess {
			list = append(list, keyAccessJSON{BucketName: a.BucketName, Cluster: objCluster(a.Region), Permissions: a.Permissions, Region: a.Region})
		}
		acc = &list
	}
	return keyJSON{AccessKey: k.AccessKey, BucketAccess: acc, ID: k.ID, Label: k.Label, Limited: k.Limited, Regions: regs, SecretKey: secret}
}

// ---- lookups ----

func withBucket(h func(s *Server, rc *reqCtx, b *Bucket) response) handlerFunc {
	return func(s *Server, rc *reqCtx) response {
		region, ok := objRegion(s.catalogue(), rc.params["regionId"])
		if !ok {
			return notFound()
		}
		b := s.state.Buckets[bucketKey(region, rc.params["bucket"])]
		if b == nil {
			return notFound()
		}
		return h(s, rc, b)
	}
}

func withKey(h func(s *Server, rc *reqCtx, k *ObjectStorageKey) response) handlerFunc {
	return withID("keyId", func(st *State) map[int]*ObjectStorageKey { return st.ObjectStorageKeys }, h)
}

func sortedBuckets(st *State, region string) []*Bucket {
	var out []*Bucket
	for _, b := range st.Buckets {
		if region == "" || b.Region == region {
			out = append(out, b)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Region != out[j].Region {
			return out[i].Region < out[j].Region
		}
		return out[i].Label < out[j].Label
	})
	return out
}

// ---- handlers: buckets ----

func listBuckets(s *Server, rc *reqCtx) response {
	items := []any{}
	for _, b := range sortedBuckets(s.state, "") {
		items = append(items, s.renderBucket(b))
	}
	return listOf(items)
}

func listRegionBuckets(s *Server, rc *reqCtx) response {
	region, ok := objRegion(s.catalogue(), rc.params["regionId"])
	if !ok {
		return notFound()
	}
	items := []any{}
	for _, b := range sortedBuckets(s.state, region) {
		items = append(items, s.renderBucket(b))
	}
	return listOf(items)
}

// endpointTypes are the Object Storage endpoint types (linodego
// ObjectStorageEndpointType).
var endpointTypes = []string{"E0", "E1", "E2", "E3"}

var validACLs = []string{"private", "public-read", "authenticated-read", "public-read-write"}

func createBucket(s *Server, rc *reqCtx) response {
	var req struct {
		Label        string `json:"label"`
		Region       string `json:"region"`
		Cluster      string `json:"cluster"`
		ACL          string `json:"acl"`
		CORSEnabled  *bool  `json:"cors_enabled"`
		EndpointType string `json:"endpoint_type"`
		S3Endpoint   string `json:"s3_endpoint"`
	}
	if bad, ok := rc.decode(&req); !ok {
		return bad
	}
	var errs []apiError
	if !validBucketLabel(req.Label) {
		errs = append(errs, fieldErr("label", "Label must be 3-63 characters of lowercase letters, digits, '-' and '.', in DNS style"))
	}
	where := req.Region
	field := "region"
	if where == "" {
		where, field = req.Cluster, "cluster"
	}
	region, ok := objRegion(s.catalogue(), where)
	switch {
	case where == "":
		errs = append(errs, fieldErr("region", "region is required"))
	case !ok:
		errs = append(errs, fieldErr(field, fmt.Sprintf("Object Storage is not available in %s", where)))
	}
	if req.ACL != "" && !slices.Contains(validACLs, req.ACL) {
		errs = append(errs, fieldErr("acl", "acl must be one of private, public-read, authenticated-read, public-read-write"))
	}
	if req.EndpointType != "" && !slices.Contains(endpointTypes, req.EndpointType) {
		errs = append(errs, fieldErr("endpoint_type", "endpoint_type must be one of E0, E1, E2, E3"))
	}
	// Every simulated region has one endpoint: another one is refused
	// rather than ignored.
	if req.S3Endpoint != "" && ok && req.S3Endpoint != s.s3Endpoint(region) && req.S3Endpoint != realS3Endpoint(region) {
		errs = append(errs, fieldErr("s3_endpoint", fmt.Sprintf("linodetest models only %s (%s) in %s", s.s3Endpoint(region), realS3Endpoint(region), region)))
	}
	if len(errs) == 0 && s.state.Buckets[bucketKey(region, req.Label)] != nil {
		errs = append(errs, fieldErr("label", "A bucket with that label already exists in this region"))
	}
	if len(errs) > 0 {
		return badRequest(errs...)
	}
	b := &Bucket{Label: req.Label, Region: region, ACL: "private", CORSEnabled: true, EndpointType: "E1", Created: rc.now}
	if req.ACL != "" {
		b.ACL = req.ACL
	}
	if req.CORSEnabled != nil {
		b.CORSEnabled = *req.CORSEnabled
	}
	if req.EndpointType != "" {
		b.EndpointType = req.EndpointType
	}
	s.state.Buckets[bucketKey(region, b.Label)] = b
	// The S3 server holds no bucket of that name: buckets reach it only
	// from here, and deleteBucket removes them.
	_ = s.s3Site(region).backend.CreateBucket(b.Label)
	return okMutated(s.renderBucket(b))
}

func getBucket(s *Server, rc *reqCtx, b *Bucket) response { return ok(s.renderBucket(b)) }

func deleteBucket(s *Server, rc *reqCtx, b *Bucket) response {
	notEmpty := badRequest(apiError{Reason: "Bucket is not empty; delete its objects first"})
	if objects, _ := s.bucketContents(b); b.Objects > 0 || objects > 0 {
		return notEmpty
	}
	// An object put since the count makes the backend refuse.
	if err := s.s3Site(b.Region).backend.DeleteBucket(b.Label); err != nil && !gofakes3.HasErrorCode(err, gofakes3.ErrNoSuchBucket) {
		return notEmpty
	}
	delete(s.state.Buckets, bucketKey(b.Region, b.Label))
	return deleted()
}

type bucketAccessJSON struct {
	ACL         string `json:"acl"`
	ACLXML      string `json:"acl_xml"`
	CORSEnabled bool   `json:"cors_enabled"`
	// CORSXML is null when the bucket has no CORS configuration.
	CORSXML *string `json:"cors_xml"`
}

func getBucketAccess(s *Server, rc *reqCtx, b *Bucket) response {
	var cors *string
	if b.CORSEnabled {
		x := `<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>`
		cors = &x
	}
	return ok(bucketAccessJSON{
		ACL:         b.ACL,
		ACLXML:      fmt.Sprintf(`<AccessControlPolicy><Owner><ID>linodetest</ID></Owner><AccessControlList><Grant><Permission>%s</Permission></Grant></AccessControlList></AccessControlPolicy>`, b.ACL),
		CORSEnabled: b.CORSEnabled,
		CORSXML:     cors,
	})
}

func updateBucketAccess(s *Server, rc *reqCtx, b *Bucket) response {
	var req struct {
		ACL         string `json:"acl"`
		CORSEnabled *bool  `json:"cors_enabled"`
	}
	if bad, ok := rc.decode(&req); !ok {
		return bad
	}
	if req.ACL != "" && !slices.Contains(validACLs, req.ACL) {
		return badRequest(fieldErr("acl", "acl must be one of private, public-read, authenticated-read, public-read-write"))
	}
	if req.ACL != "" {
		b.ACL = req.ACL
	}
	if req.CORSEnabled != nil {
		b.CORSEnabled = *req.CORSEnabled
	}
	return okMutated(emptyObject())
}

// ---- handlers: keys ----

func listKeys(s *Server, rc *reqCtx) response {
	ids := make([]int, 0, len(s.state.ObjectStorageKeys))
	for id := range s.state.ObjectStorageKeys {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	items := make([]any, 0, len(ids))
	for _, id := range ids {
		items = append(items, s.renderKey(s.state.ObjectStorageKeys[id], redacted))
	}
	return listOf(items)
}

type keyAccessReq struct {
	Region      string `json:"region"`
	Cluster     string `json:"cluster"`
	BucketName  string `json:"bucket_name"`
	Permissions string `json:"permissions"`
}

func objRegions(cat *Catalogue) []string {
	var out []string
	for i := range cat.regions {
		if r := &cat.regions[i]; r.has(capObjectStorage) {
			out = append(out, r.id)
		}
	}
	return out
}

func validateKeyRegions(cat *Catalogue, field string, in []string) ([]string, []apiError) {
	var out []string
	var errs []apiError
	for i, r := range in {
		reg, ok := objRegion(cat, r)
		if !ok {
			errs = append(errs, fieldErr(fmt.Sprintf("%s[%d]", field, i), fmt.Sprintf("Object Storage is not available in %s", r)))
			continue
		}
		if !slices.Contains(out, reg) {
			out = append(out, reg)
		}
	}
	return out, errs
}

func createKey(s *Server, rc *reqCtx) response {
	var req struct {
		Label        string          `json:"label"`
		BucketAccess *[]keyAccessReq `json:"bucket_access"`
		Regions      []string        `json:"regions"`
	}
	if bad, ok := rc.decode(&req); !ok {
		return bad
	}
	var errs []apiError
	if len(req.Label) > 50 {
		errs = append(errs, fieldErr("label", "Length must be 50 characters or fewer"))
	}
	regs, es := validateKeyRegions(s.catalogue(), "regions", req.Regions)
	errs = append(errs, es...)
	k := &ObjectStorageKey{Label: req.Label}
	if req.BucketAccess != nil {
		k.Limited = true
		for i, a := range *req.BucketAccess {
			f := fmt.Sprintf("bucket_access[%d]", i)
			where := a.Region
			if where == "" {
				where = a.Cluster
			}
			reg, ok := objRegion(s.catalogue(), where)
			if !ok {
				errs = append(errs, fieldErr(f+".region", fmt.Sprintf("Object Storage is not available in %q", where)))
				continue
			}
			if s.state.Buckets[bucketKey(reg, a.BucketName)] == nil {
				errs = append(errs, fieldErr(f+".bucket_name", fmt.Sprintf("Bucket %s not found in %s", a.BucketName, reg)))
			}
			if a.Permissions != "read_write" && a.Permissions != "read_only" {
				errs = append(errs, fieldErr(f+".permissions", "permissions must be read_write or read_only"))
			}
			k.BucketAccess = append(k.BucketAccess, KeyBucketAccess{Region: reg, BucketName: a.BucketName, Permissions: a.Permissions})
			if !slices.Contains(regs, reg) {
				regs = append(regs, reg)
			}
		}
	}
	if len(errs) > 0 {
		return badRequest(errs...)
	}
	if len(regs) == 0 {
		regs = objRegions(s.catalogue())
	}
	k.Regions = regs
	k.ID = s.state.nextID(&s.state.ids.key)
	k.AccessKey = strings.ToUpper(s.hex(20))
	k.secretKey = s.hex(40)
	s.state.ObjectStorageKeys[k.ID] = k
	return okMutated(s.renderKey(k, k.secretKey))
}

func getKey(s *Server, rc *reqCtx, k *ObjectStorageKey) response { return ok(s.renderKey(k, redacted)) }

func updateKey(s *Server, rc *reqCtx, k *ObjectStorageKey) response {
	var req struct {
		Label   *string  `json:"label"`
		Regions []string `json:"regions"`
	}
	if bad, ok := rc.decode(&req); !ok {
		return bad
	}
	var errs []apiError
	if req.Label != nil && len(*req.Label) > 50 {
		errs = append(errs, fieldErr("label", "Length must be 50 characters or fewer"))
	}
	regs, es := validateKeyRegions(s.catalogue(), "regions", req.Regions)
	errs = append(errs, es...)
	if len(errs) > 0 {
		return badRequest(errs...)
	}
	if req.Label != nil {
		k.Label = *req.Label
	}
	if len(regs) > 0 {
		k.Regions = regs
	}
	return okMutated(s.renderKey(k, redacted))
}

func deleteKey(s *Server, rc *reqCtx, k *ObjectStorageKey) response {
	delete(s.state.ObjectStorageKeys, k.ID)
	return deleted()
}

type objEndpointJSON struct {
	EndpointType string `json:"endpoint_type"`
	Region       string `json:"region"`
	S3Endpoint   string `json:"s3_endpoint"`
}

func listEndpoints(s *Server, rc *reqCtx) response {
	var items []any
	for _, r := range objRegions(s.catalogue()) {
		items = append(items, objEndpointJSON{EndpointType: "E1", Region: r, S3Endpoint: s.s3Endpoint(r)})
	}
	return listOf(items)
}

// ---- quotas ----

// quotaKind is one per-endpoint Object Storage quota, as the API lists
// them (Linode's Ansible collection documents obj-buckets and obj-bytes with
// these limits; obj-objects follows the same pattern).
type quotaKind struct {
	kind, name, description, metric string
	limit                           int
	usage                           func(s *Server, bs []*Bucket) int
}

var quotaKinds = []quotaKind{
	{"obj-buckets", "Number of Buckets", "Maximum number of buckets this customer is allowed to have on this endpoint", "bucket", 1000,
		func(_ *Server, bs []*Bucket) int { return len(bs) }},
	{"obj-bytes", "Total Capacity", "Maximum number of bytes this customer is allowed to have on this endpoint", "byte", 109951162777600,
		func(s *Server, bs []*Bucket) int {
			n := 0
			for _, b := range bs {
				_, size := s.bucketContents(b)
				n += b.Size + size
			}
			return n
		}},
	{"obj-objects", "Number of Objects", "Maximum number of objects this customer is allowed to have on this endpoint", "object", 100000000,
		func(s *Server, bs []*Bucket) int {
			n := 0
			for _, b := range bs {
				objects, _ := s.bucketContents(b)
				n += b.Objects + objects
			}
			return n
		}},
}

// quotaJSON is linodego's ObjectStorageQuota.
type quotaJSON struct {
	Description    string `json:"description"`
	EndpointType   string `json:"endpoint_type"`
	HasUsage       bool   `json:"has_usage"`
	QuotaID        string `json:"quota_id"`
	QuotaLimit     int    `json:"quota_limit"`
	QuotaName      string `json:"quota_name"`
	QuotaType      string `json:"quota_type"`
	ResourceMetric string `json:"resource_metric"`
	S3Endpoint     string `json:"s3_endpoint"`
}

type quotaUsageJSON struct {
	QuotaLimit int  `json:"quota_limit"`
	Usage      *int `json:"usage"`
}

type quota struct {
	json   quotaJSON
	kind   quotaKind
	region string
}

// quotas lists every quota: each kind for each Object Storage endpoint, in
// endpoint order.
func (s *Server) quotas() []quota {
	var out []quota
	for _, r := range objRegions(s.catalogue()) {
		for _, k := range quotaKinds {
			out = append(out, quota{region: r, kind: k, json: quotaJSON{
				Description: k.description, EndpointType: "E1", HasUsage: true,
				QuotaID: k.kind + "-" + s.s3Endpoint(r), QuotaLimit: k.limit, QuotaName: k.name,
				QuotaType: k.kind, ResourceMetric: k.metric, S3Endpoint: s.s3Endpoint(r),
			}})
		}
	}
	return out
}

// findQuota finds a quota by its id, "<type>-<s3 endpoint>", the endpoint
// named as the simulator reports it or as the real API does.
func (s *Server) findQuota(id string) (quota, bool) {
	for _, q := range s.quotas() {
		if q.json.QuotaID == id || q.kind.kind+"-"+realS3Endpoint(q.region) == id {
			return q, true
		}
	}
	return quota{}, false
}

func listQuotas(s *Server, rc *reqCtx) response {
	var items []any
	for _, q := range s.quotas() {
		items = append(items, q.json)
	}
	return listOf(items)
}

func getQuota(s *Server, rc *reqCtx) response {
	q, found := s.findQuota(rc.params["quotaId"])
	if !found {
		return notFound()
	}
	return ok(q.json)
}

func getQuotaUsage(s *Server, rc *reqCtx) response {
	q, found := s.findQuota(rc.params["quotaId"])
	if !found {
		return notFound()
	}
	n := q.kind.usage(s, sortedBuckets(s.state, q.region))
	return ok(quotaUsageJSON{QuotaLimit: q.json.QuotaLimit, Usage: &n})
}
