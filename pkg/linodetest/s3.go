package linodetest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// S3 serving. Each Object Storage endpoint (one per region with Object
// Storage: the simulator models one endpoint per region) is an in-process
// S3 server: gofakes3 with an in-memory backend, behind a middleware that
// verifies every request's AWS Signature V4 against the secret of a key
// this simulator issued, and the access the key's bucket_access grants.
// gofakes3 verifies no signature by itself.
//
// Deviation from the real API, on purpose: the endpoint is the address the
// server listens on, "127.0.0.1:<port>", and the API reports it as the
// s3_endpoint of buckets, keys, endpoints and quotas and as a bucket's
// hostname (the real ones read "us-east-1.linodeobjects.com" and
// "<bucket>.us-east-1.linodeobjects.com"). A client such as minio-go uses
// path-style requests for an IP endpoint. The servers speak HTTPS with
// httptest's certificate for 127.0.0.1: clients trust it through
// Server.S3Transport. A server starts the first time its endpoint is
// reported, and stops with the Server.

// s3Site is the S3 server of one Object Storage endpoint.
type s3Site struct {
	region  string
	hs      *httptest.Server
	backend *s3mem.Backend
}

// s3Site returns the S3 server of region, starting it on first use. The
// caller holds s.mu.
func (s *Server) s3Site(region string) *s3Site {
	if site := s.s3[region]; site != nil {
		return site
	}
	backend := s3mem.New()
	site := &s3Site{region: region, backend: backend}
	// A time-skew limit of 0 turns gofakes3's own check off: the
	// middleware checks X-Amz-Date against the wall clock (clients sign
	// with theirs, not with the simulator's model time).
	fake := gofakes3.New(backend, gofakes3.WithTimeSkewLimit(0))
	site.hs = httptest.NewUnstartedServer(s.s3Verify(region, fake.Server()))
	site.hs.Config.ErrorLog = log.New(io.Discard, "", 0) // TLS handshakes cut short at Close
	site.hs.StartTLS()
	if s.s3 == nil {
		s.s3 = map[string]*s3Site{}
	}
	s.s3[region] = site
	return site
}

// s3Endpoint is the S3 endpoint of region as the API reports it:
// "127.0.0.1:<port>". The caller holds s.mu.
func (s *Server) s3Endpoint(region string) string {
	return s.s3Site(region).hs.Listener.Addr().String()
}

// S3Endpoint returns the S3 endpoint ("127.0.0.1:<port>") of an Object
// Storage region or cluster ("us-east" or "us-east-1"), starting its
// server if it is not running yet. It is the s3_endpoint the API reports.
// It is not an API request.
func (s *Server) S3Endpoint(region string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := objRegion(s.catalogue(), region)
	if !ok {
		return "", fmt.Errorf("S3 endpoint of %q: no Object Storage in that region", region)
	}
	return s.s3Endpoint(r), nil
}

// S3Transport returns an HTTP transport that trusts the certificate of the
// simulator's S3 servers (every one uses httptest's certificate for
// 127.0.0.1). Give it to the S3 client (minio.Options.Transport,
// store.S3Config.Transport).
func (s *Server) S3Transport() http.RoundTripper {
	s.mu.Lock()
	site := s.s3Site(objRegions(s.catalogue())[0])
	s.mu.Unlock()
	return site.hs.Client().Transport
}

// closeS3 stops every S3 server.
func (s *Server) closeS3() {
	s.mu.Lock()
	sites := make([]*s3Site, 0, len(s.s3))
	for _, site := range s.s3 {
		sites = append(sites, site)
	}
	s.mu.Unlock()
	for _, site := range sites {
		site.hs.Close()
	}
}

// bucketContents counts the objects and bytes S3 holds in a bucket. The
// caller holds s.mu.
func (s *Server) bucketContents(b *Bucket) (objects, size int) {
	list, err := s.s3Site(b.Region).backend.ListBucket(b.Label, nil, gofakes3.ListBucketPage{})
	if err != nil {
		return 0, 0
	}
	for _, c := range list.Contents {
		objects++
		size += int(c.Size)
	}
	return objects, size
}

// s3Grant is what the middleware needs of a key: a copy taken under the
// state lock.
type s3Grant struct {
	secret  string
	limited bool
	access  map[string]string // bucket → read_only | read_write (this region)
	regions []string
}

// s3Grant looks up the key with access key ak; ok is false when the
// simulator issued none (or it was deleted).
func (s *Server) s3Grant(ak, region string) (s3Grant, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range s.state.ObjectStorageKeys {
		if k.AccessKey != ak {
			continue
		}
		g := s3Grant{secret: k.secretKey, limited: k.Limited, regions: slices.Clone(k.Regions), access: map[string]string{}}
		for _, a := range k.BucketAccess {
			if a.Region == region {
				g.access[a.BucketName] = a.Permissions
			}
		}
		return g, true
	}
	return s3Grant{}, false
}

func (s *Server) bucketExists(region, label string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state.Buckets[bucketKey(region, label)] != nil
}

func s3Error(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message></Error>`, code, msg)
}

// errSigV4 is a request the signature check refuses: status, S3 code and
// message.
type errSigV4 struct {
	status    int
	code, msg string
}

func (e *errSigV4) Error() string { return e.code + ": " + e.msg }

// s3Verify is the middleware before gofakes3: it authenticates the
// request (AWS Signature V4, by a key the simulator issued), then
// authorizes it (the key's regions and bucket_access), then lets gofakes3
// serve it. Buckets are created and deleted through the Linode API only:
// S3 requests that would create or delete one are refused (501).
//
// Limits: path-style requests only; header-signed requests only (no
// presigned URLs); for a streaming payload (STREAMING-AWS4-HMAC-SHA256-
// PAYLOAD, which minio-go sends only over plain HTTP) the seed signature
// is verified, the chunk signatures are not.
func (s *Server) s3Verify(region string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ak, err := accessKeyOf(r)
		if err != nil {
			writeSigErr(w, err)
			return
		}
		g, ok := s.s3Grant(ak, region)
		if !ok {
			s3Error(w, http.StatusForbidden, "InvalidAccessKeyId", "The access key ID you provided does not exist in our records.")
			return
		}
		if err := verifySigV4(r, g.secret); err != nil {
			writeSigErr(w, err)
			return
		}
		if !slices.Contains(g.regions, region) {
			s3Error(w, http.StatusForbidden, "AccessDenied", "the key is not enabled in "+region)
			return
		}
		bucket, object, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		if bucket == "" {
			next.ServeHTTP(w, r) // ListBuckets
			return
		}
		if object == "" && (r.Method == http.MethodPut && len(r.URL.Query()) == 0 || r.Method == http.MethodDelete && len(r.URL.Query()) == 0) {
			s3Error(w, http.StatusNotImplemented, "NotImplemented", "linodetest: create and delete buckets through the Linode API")
			return
		}
		if g.limited {
			perm, ok := g.access[bucket]
			switch {
			case !ok:
				s3Error(w, http.StatusForbidden, "AccessDenied", "the key has no access to bucket "+bucket)
				return
			case perm == "read_only" && r.Method != http.MethodGet && r.Method != http.MethodHead:
				s3Error(w, http.StatusForbidden, "AccessDenied", "the key may only read bucket "+bucket)
				return
			}
		}
		if !s.bucketExists(region, bucket) {
			s3Error(w, http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func writeSigErr(w http.ResponseWriter, err error) {
	var se *errSigV4
	if errors.As(err, &se) {
		s3Error(w, se.status, se.code, se.msg)
		return
	}
	s3Error(w, http.StatusForbidden, "AccessDenied", err.Error())
}

// sigV4Auth is the parsed Authorization header.
type sigV4Auth struct {
	cred          []string // access key, date, region, service, aws4_request
	signedHeaders string
	signature     string
}

func parseSigV4(r *http.Request) (sigV4Auth, error) {
	auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ")
	if !ok {
		return sigV4Auth{}, &errSigV4{http.StatusForbidden, "AccessDenied", "AWS Signature V4 required"}
	}
	fields := map[string]string{}
	for f := range strings.SplitSeq(auth, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(f), "=")
		fields[k] = v
	}
	cred := strings.Split(fields["Credential"], "/")
	if len(cred) != 5 || cred[4] != "aws4_request" {
		return sigV4Auth{}, &errSigV4{http.StatusBadRequest, "AuthorizationHeaderMalformed", "bad credential scope"}
	}
	return sigV4Auth{cred: cred, signedHeaders: fields["SignedHeaders"], signature: fields["Signature"]}, nil
}

func accessKeyOf(r *http.Request) (string, error) {
	a, err := parseSigV4(r)
	if err != nil {
		return "", err
	}
	return a.cred[0], nil
}

// verifySigV4 checks r's AWS Signature V4 against secret. It computes the
// signature itself from the SignedHeaders the client declared: the AWS and
// MinIO signers choose which headers to sign by their own rules, so they
// cannot re-check a signature made by another client.
func verifySigV4(r *http.Request, secret string) error {
	a, err := parseSigV4(r)
	if err != nil {
		return err
	}
	cred := a.cred
	amzDate := r.Header.Get("X-Amz-Date")
	if t, err := time.Parse("20060102T150405Z", amzDate); err != nil || time.Since(t).Abs() > 15*time.Minute || !strings.HasPrefix(amzDate, cred[1]) {
		return &errSigV4{http.StatusForbidden, "RequestTimeTooSkewed", "bad or skewed X-Amz-Date"}
	}
	payload := r.Header.Get("X-Amz-Content-Sha256")
	switch {
	case payload == "":
		return &errSigV4{http.StatusBadRequest, "InvalidRequest", "missing x-amz-content-sha256"}
	case payload == "UNSIGNED-PAYLOAD" || strings.HasPrefix(payload, "STREAMING-"):
	default:
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return &errSigV4{http.StatusBadRequest, "IncompleteBody", err.Error()}
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if sum := sha256.Sum256(body); hex.EncodeToString(sum[:]) != payload {
			return &errSigV4{http.StatusBadRequest, "XAmzContentSHA256Mismatch", "payload hash mismatch"}
		}
	}
	signed := strings.Split(a.signedHeaders, ";")
	if !slices.Contains(signed, "host") {
		return &errSigV4{http.StatusForbidden, "AccessDenied", "host must be signed"}
	}
	var ch strings.Builder
	for _, h := range signed {
		var v string
		switch h {
		case "host":
			v = r.Host
		case "content-length":
			v = strconv.FormatInt(r.ContentLength, 10)
		default:
			vs := r.Header.Values(h)
			for i := range vs {
				vs[i] = strings.Join(strings.Fields(vs[i]), " ")
			}
			v = strings.Join(vs, ",")
		}
		ch.WriteString(h + ":" + v + "\n")
	}
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	canonical := strings.Join([]string{r.Method, path, canonicalQuery(r.URL.Query()), ch.String(), a.signedHeaders, payload}, "\n")
	scope := strings.Join(cred[1:], "/")
	sum := sha256.Sum256([]byte(canonical))
	toSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
	k := hmacSHA256([]byte("AWS4"+secret), cred[1])
	for _, part := range cred[2:] {
		k = hmacSHA256(k, part)
	}
	want := hex.EncodeToString(hmacSHA256(k, toSign))
	if subtle.ConstantTimeCompare([]byte(want), []byte(a.signature)) != 1 {
		return &errSigV4{http.StatusForbidden, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided."}
	}
	return nil
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// canonicalQuery encodes q as SigV4 wants: keys and values URI-encoded
// (RFC 3986 unreserved characters kept), sorted by key then value.
func canonicalQuery(q url.Values) string {
	var parts []string
	for k, vs := range q {
		for _, v := range vs {
			parts = append(parts, awsEscape(k)+"="+awsEscape(v))
		}
	}
	slices.Sort(parts)
	return strings.Join(parts, "&")
}

func awsEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}
