package contract

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// apiVersions are the values of the spec's {apiVersion} path parameter
// (components.parameters.api-version-path: enum v4, v4beta).
var apiVersions = map[string]bool{"v4": true, "v4beta": true}

// router matches request paths to the spec's path templates by path alone:
// any host, any scheme. The spec's servers (https://api.linode.com, and
// per-operation https://api.linode.com/v4 that would double the version
// segment) play no part.
type router struct {
	// bySegments holds the templates with n segments at index n, most
	// specific first: at the first segment where two templates differ, the
	// literal one wins over the parameter ("/regions/availability" before
	// "/regions/{regionId}").
	bySegments [][]*template
}

type template struct {
	path     string   // as written in the spec, e.g. /{apiVersion}/lke/clusters/{clusterId}
	segments []string // "" for a parameter segment, the literal otherwise
	item     *openapi3.PathItem
}

func newRouter(paths *openapi3.Paths) (*router, error) {
	r := &router{}
	for path, item := range paths.Map() {
		segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
		if len(segs) == 0 || segs[0] != "{apiVersion}" {
			return nil, fmt.Errorf("path %q does not start with /{apiVersion}", path)
		}
		t := &template{path: path, item: item, segments: make([]string, len(segs))}
		for i, s := range segs {
			if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
				continue
			}
			if strings.ContainsAny(s, "{}") {
				return nil, fmt.Errorf("path %q: partial parameter segment %q is not supported", path, s)
			}
			t.segments[i] = s
		}
		for len(r.bySegments) <= len(segs) {
			r.bySegments = append(r.bySegments, nil)
		}
		r.bySegments[len(segs)] = append(r.bySegments[len(segs)], t)
	}
	for _, bucket := range r.bySegments {
		slices.SortFunc(bucket, func(a, b *template) int {
			for i := range a.segments {
				al, bl := a.segments[i] != "", b.segments[i] != ""
				if al != bl {
					if al {
						return -1
					}
					return 1
				}
			}
			return cmp.Compare(a.path, b.path)
		})
	}
	return r, nil
}

// match returns the template for a request path such as
// "/v4/lke/clusters/12?page=2", or nil.
func (r *router) match(path string) *template {
	path, _, _ = strings.Cut(path, "?")
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if !strings.HasPrefix(path, "/") || len(segs) >= len(r.bySegments) || !apiVersions[segs[0]] {
		return nil
	}
next:
	for _, t := range r.bySegments[len(segs)] {
		for i, lit := range t.segments {
			if lit == "" {
				if segs[i] == "" {
					continue next
				}
				continue
			}
			if segs[i] != lit {
				continue next
			}
		}
		return t
	}
	return nil
}
