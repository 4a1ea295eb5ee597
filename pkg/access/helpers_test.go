package access_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/org/platform/pkg/access"
)

// contract is the OpenAPI document of pkg/access, loaded once.
var contract = sync.OnceValues(func() (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromData(access.OpenAPI())
	if err != nil {
		return nil, err
	}
	return doc, doc.Validate(context.Background())
})

var etagRE = regexp.MustCompile(`^"[0-9a-f]{32}"$`)

// serve sends one request to h and checks the response against the
// OpenAPI document: a routed request by openapi3filter.ValidateResponse
// with undocumented statuses refused; a 304 by its documented status, its
// ETag and its empty body (openapi3filter skips 304s); a path the document
// does not have must be a 404 whose body is the Error schema. HEAD is
// checked as the GET it mirrors: same status and headers.
func serve(t *testing.T, h http.Handler, method, target string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	rec := do(h, method, target, header)
	doc, err := contract()
	if err != nil {
		t.Fatalf("load openapi.yaml: %v", err)
	}
	if method == http.MethodHead {
		get := do(h, http.MethodGet, target, header)
		// (net/http drops a HEAD response's body itself.)
		if rec.Code != get.Code || rec.Header().Get("Content-Type") != get.Header().Get("Content-Type") ||
			rec.Header().Get("ETag") != get.Header().Get("ETag") {
			t.Errorf("HEAD %s = %d %v; want GET's %d %v", target, rec.Code, rec.Header(), get.Code, get.Header())
		}
		method, rec = http.MethodGet, get
	}
	req := httptest.NewRequest(method, target, nil)
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatalf("route openapi.yaml: %v", err)
	}
	route, params, err := router.FindRoute(req)
	if err != nil {
		// Not a route of the document, for any method: the handler's
		// catch-all 404, with the Error schema.
		if rec.Code != http.StatusNotFound {
			t.Errorf("%s %s: no route in openapi.yaml (%v), and the handler answered %d, not 404", method, target, err, rec.Code)
		}
		if verr := doc.Components.Schemas["Error"].Value.VisitJSON(decode(t, rec.Body.Bytes())); verr != nil {
			t.Errorf("%s %s: body is not an Error: %v\n%s", method, target, verr, rec.Body)
		}
		return rec
	}
	if rec.Code == http.StatusNotModified {
		checkNotModified(t, route, rec)
		return rec
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 rec.Code,
		Header:                 rec.Header(),
		Body:                   io.NopCloser(bytes.NewReader(rec.Body.Bytes())),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(t.Context(), in); err != nil {
		t.Errorf("%s %s answered %d against openapi.yaml: %v\n%s", method, target, rec.Code, err, rec.Body)
	}
	return rec
}

func checkNotModified(t *testing.T, route *routers.Route, rec *httptest.ResponseRecorder) {
	t.Helper()
	if route.Operation.Responses.Status(http.StatusNotModified) == nil {
		t.Errorf("%s %s: 304 is not documented", route.Method, route.Path)
	}
	if !etagRE.MatchString(rec.Header().Get("ETag")) || rec.Body.Len() != 0 {
		t.Errorf("304: ETag %q, body %q; want an ETag and no body", rec.Header().Get("ETag"), rec.Body)
	}
}

func do(h http.Handler, method, target string, header http.Header) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	for k, vs := range header {
		req.Header[k] = vs
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func decode(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %q: %v", b, err)
	}
	return v
}
