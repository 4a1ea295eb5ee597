package linodetest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// route is one endpoint of the simulated API.
type route struct {
	method  string
	pattern string // as in the OpenAPI paths, without the /{apiVersion} prefix
	segs    []string
	// list marks a GET of a paginated collection: it draws on the
	// collection rate-limit bucket and is paged and filtered.
	list bool
	// filterable are the fields X-Filter may name (x-linode-filterable).
	filterable []string
	// order is the default order of a list: "id" ascending unless set.
	descending bool
	// offSpec marks endpoints the OpenAPI description (4.189) lacks: they
	// are validated only once the contract's overlay describes them.
	offSpec bool
	h       handlerFunc
}

type handlerFunc func(s *Server, rc *reqCtx) response

// reqCtx is what a handler sees. Handlers run with the state lock held.
type reqCtx struct {
	r      *http.Request
	now    time.Time
	params map[string]string
	body   []byte
}

// response is what a handler returns. Exactly one of body and list is used.
type response struct {
	status int
	body   any
	list   []any
	header map[string]string
	// mutated says whether the request changed state (for after-commit
	// faults it is reported in the request log).
	mutated bool
}

func ok(body any) response               { return response{status: http.StatusOK, body: body} }
func okMutated(body any) response        { return response{status: http.StatusOK, body: body, mutated: true} }
func listOf(items []any) response        { return response{status: http.StatusOK, list: items} }
func emptyObject() map[string]any        { return map[string]any{} }
func deleted() response                  { return okMutated(emptyObject()) }
func notFound() response                 { return errResponse(http.StatusNotFound, apiError{Reason: "Not found"}) }
func badRequest(es ...apiError) response { return errResponse(http.StatusBadRequest, es...) }

// apiError is one entry of the API's error envelope.
type apiError struct {
	Reason string `json:"reason"`
	Field  string `json:"field,omitempty"`
}

type errorEnvelope struct {
	Errors []apiError `json:"errors"`
}

func errResponse(status int, es ...apiError) response {
	return response{status: status, body: errorEnvelope{Errors: es}}
}

func fieldErr(field, reason string) apiError { return apiError{Field: field, Reason: reason} }

func (rc *reqCtx) intParam(name string) (int, bool) {
	v, err := strconv.Atoi(rc.params[name])
	if err != nil || v <= 0 {
		return 0, false
	}
	return v, true
}

// decode unmarshals the request body into v; an empty body is an empty
// object. A malformed body answers 400 as the API does.
func (rc *reqCtx) decode(v any) (response, bool) {
	b := rc.body
	if len(strings.TrimSpace(string(b))) == 0 {
		b = []byte("{}")
	}
	if err := json.Unmarshal(b, v); err != nil {
		return badRequest(apiError{Reason: "Malformed JSON"}), false
	}
	return response{}, true
}

// router matches request paths to routes.
type router struct {
	routes []*route
}

func newRouter(groups ...[]*route) *router {
	rt := &router{}
	for _, g := range groups {
		for _, r := range g {
			r.segs = strings.Split(strings.Trim(r.pattern, "/"), "/")
			rt.routes = append(rt.routes, r)
		}
	}
	return rt
}

// match finds the route for method and path (path without the version
// prefix). It reports whether some route has the path with another method.
func (rt *router) match(method, path string) (*route, map[string]string, bool) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	pathKnown := false
	for _, r := range rt.routes {
		params, ok := matchSegs(r.segs, segs)
		if !ok {
			continue
		}
		if r.method == method {
			return r, params, true
		}
		pathKnown = true
	}
	return nil, nil, pathKnown
}

func matchSegs(pat, segs []string) (map[string]string, bool) {
	if len(pat) != len(segs) {
		return nil, false
	}
	var params map[string]string
	for i, p := range pat {
		if strings.HasPrefix(p, "{") {
			if segs[i] == "" {
				return nil, false
			}
			v, err := url.PathUnescape(segs[i])
			if err != nil {
				return nil, false
			}
			if params == nil {
				params = map[string]string{}
			}
			params[p[1:len(p)-1]] = v
			continue
		}
		if p != segs[i] {
			return nil, false
		}
	}
	return params, true
}

// Routes lists the endpoints the simulator serves as "METHOD /pattern"
// (patterns as in the OpenAPI description, without /{apiVersion}), in the
// order they are matched. Counts.ByEndpoint uses the same keys.
func (s *Server) Routes() []string {
	out := make([]string, 0, len(s.router.routes))
	for _, r := range s.router.routes {
		out = append(out, r.method+" "+r.pattern)
	}
	return out
}

func allRoutes() *router {
	return newRouter(lkeRoutes(), firewallRoutes(), vpcRoutes(), objectStorageRoutes(), nodeBalancerRoutes(), volumeRoutes(), miscRoutes())
}

// withID runs h on the object whose id is the path parameter param, looked
// up in the map of the state that byID returns; a malformed id or one that
// names nothing answers 404, as the API does.
func withID[T any](param string, byID func(*State) map[int]*T, h func(*Server, *reqCtx, *T) response) handlerFunc {
	return func(s *Server, rc *reqCtx) response {
		id, ok := rc.intParam(param)
		if !ok {
			return notFound()
		}
		obj := byID(s.state)[id]
		if obj == nil {
			return notFound()
		}
		return h(s, rc, obj)
	}
}
