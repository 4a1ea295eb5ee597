package store

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// s3Key is an Object Storage key of the fake S3 server: its secret and the
// buckets it may use.
type s3Key struct {
	secret  string
	buckets []string
}

// newS3Server serves the S3 protocol from gofakes3 (in memory) behind a TLS
// httptest server whose middleware verifies each request's AWS Signature V4
// against the key's secret (gofakes3 verifies none) and that the key may use
// the bucket the request names. gofakes3 v1.2.0 honours If-None-Match: * on
// PUT itself (412 PreconditionFailed, checked under its backend's lock), so
// the middleware does not repeat that check.
//
// Limits: path-style requests only (minio-go uses them for an IP endpoint);
// header-signed requests only (no presigned URLs); for a streaming payload
// (STREAMING-AWS4-HMAC-SHA256-PAYLOAD, which minio-go sends only over plain
// HTTP) the seed signature is verified, the chunk signatures are not.
func newS3Server(t *testing.T, keys map[string]s3Key) *httptest.Server {
	t.Helper()
	fake := gofakes3.New(s3mem.New(), gofakes3.WithTimeSkewLimit(0))
	srv := httptest.NewUnstartedServer(verifySigV4(keys, fake.Server()))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // TLS handshakes cut short at Close
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func s3Error(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message></Error>`, code, msg)
}

// verifySigV4 is the middleware newS3Server puts before gofakes3. It
// computes the signature itself from the SignedHeaders the client declared:
// the AWS and MinIO signers in go.mod choose which headers to sign by their
// own rules, so they cannot re-check a signature made by another client.
func verifySigV4(keys map[string]s3Key, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ")
		if !ok {
			s3Error(w, http.StatusForbidden, "AccessDenied", "AWS Signature V4 required")
			return
		}
		fields := map[string]string{}
		for f := range strings.SplitSeq(auth, ",") {
			k, v, _ := strings.Cut(strings.TrimSpace(f), "=")
			fields[k] = v
		}
		cred := strings.Split(fields["Credential"], "/")
		if len(cred) != 5 || cred[4] != "aws4_request" {
			s3Error(w, http.StatusBadRequest, "AuthorizationHeaderMalformed", "bad credential scope")
			return
		}
		key, ok := keys[cred[0]]
		if !ok {
			s3Error(w, http.StatusForbidden, "InvalidAccessKeyId", "unknown access key")
			return
		}
		amzDate := r.Header.Get("X-Amz-Date")
		if t, err := time.Parse("20060102T150405Z", amzDate); err != nil || time.Since(t).Abs() > 15*time.Minute || !strings.HasPrefix(amzDate, cred[1]) {
			s3Error(w, http.StatusForbidden, "RequestTimeTooSkewed", "bad or skewed X-Amz-Date")
			return
		}
		payload := r.Header.Get("X-Amz-Content-Sha256")
		switch {
		case payload == "":
			s3Error(w, http.StatusBadRequest, "InvalidRequest", "missing x-amz-content-sha256")
			return
		case payload == "UNSIGNED-PAYLOAD" || strings.HasPrefix(payload, "STREAMING-"):
		default:
			body, err := io.ReadAll(r.Body)
			if err != nil {
				s3Error(w, http.StatusBadRequest, "IncompleteBody", err.Error())
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			if sum := sha256.Sum256(body); hex.EncodeToString(sum[:]) != payload {
				s3Error(w, http.StatusBadRequest, "XAmzContentSHA256Mismatch", "payload hash mismatch")
				return
			}
		}
		signed := strings.Split(fields["SignedHeaders"], ";")
		if !slices.Contains(signed, "host") {
			s3Error(w, http.StatusForbidden, "AccessDenied", "host must be signed")
			return
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
		canonical := strings.Join([]string{r.Method, path, canonicalQuery(r.URL.Query()), ch.String(), fields["SignedHeaders"], payload}, "\n")
		scope := strings.Join(cred[1:], "/")
		sum := sha256.Sum256([]byte(canonical))
		toSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
		k := hmacSHA256([]byte("AWS4"+key.secret), cred[1])
		for _, part := range cred[2:] {
			k = hmacSHA256(k, part)
		}
		want := hex.EncodeToString(hmacSHA256(k, toSign))
		if subtle.ConstantTimeCompare([]byte(want), []byte(fields["Signature"])) != 1 {
			s3Error(w, http.StatusForbidden, "SignatureDoesNotMatch", "the request signature does not match")
			return
		}
		if bucket, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/"); bucket != "" && !slices.Contains(key.buckets, bucket) {
			s3Error(w, http.StatusForbidden, "AccessDenied", "the key has no access to bucket "+bucket)
			return
		}
		next.ServeHTTP(w, r)
	})
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
