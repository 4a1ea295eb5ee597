package access_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/org/platform/pkg/access"
)

var static = access.Static{
	{
		Name: "staging", Region: "us-ord", KubernetesVersion: "1.33",
		Cluster:     access.Cluster{Label: "platform-staging", ID: 7, Status: "ready", APIEndpoints: []string{"https://7-ab.us-ord.linodelke.net:443"}},
		Namespaces:  []access.Namespace{{Name: "apps", Team: "web", Ingress: true}},
		Ingress:     &access.Ingress{ClassName: "nginx", Namespace: "ingress-nginx", Host: "apps.staging.example.com"},
		Dashboards:  []access.Dashboard{{UID: "platform-overview", Title: "Platform overview (staging)", Path: "/d/platform-overview"}},
		AlertRoutes: []access.AlertRoute{{Name: "critical", Severity: "critical", Channel: "#alerts"}},
	},
	// Absent cluster, nil lists: served as [] (the document says arrays).
	{Name: "development", Region: "us-ord", KubernetesVersion: "1.33", Cluster: access.Cluster{Label: "platform-development", Status: access.StatusAbsent}},
}

// failing is a Source whose reads fail with an error naming internals.
type failing struct{}

const internals = "GET https://api.linode.com/v4/lke/clusters: dial tcp 10.0.0.7:443: connection refused"

func (failing) Environments(context.Context) ([]access.Environment, error) {
	return nil, errors.New(internals)
}

func (failing) Environment(context.Context, string) (access.Environment, error) {
	return access.Environment{}, errors.New(internals)
}

// TestRoutes: every route and method answers as openapi.yaml says (each
// response validated against it by serve): the list sorted by name with
// arrays never null; one environment; 404 with the error envelope for an
// unknown environment or path; 405 with Allow for every other method on
// both routes; 304 for a matching If-None-Match.
func TestRoutes(t *testing.T) {
	t.Parallel()
	h := &access.Handler{Source: static}
	for _, tc := range []struct {
		method, target string
		status         int
		code           string // error code, for errors
	}{
		{http.MethodGet, "/environments", http.StatusOK, ""},
		{http.MethodHead, "/environments", http.StatusOK, ""},
		{http.MethodGet, "/environments/staging", http.StatusOK, ""},
		{http.MethodGet, "/environments/development", http.StatusOK, ""},
		{http.MethodHead, "/environments/staging", http.StatusOK, ""},
		{http.MethodGet, "/environments/qa", http.StatusNotFound, access.CodeNotFound},
		{http.MethodHead, "/environments/qa", http.StatusNotFound, access.CodeNotFound},
		{http.MethodGet, "/environments/", http.StatusNotFound, access.CodeNotFound},
		{http.MethodGet, "/environments/staging/extra", http.StatusNotFound, access.CodeNotFound},
		{http.MethodGet, "/", http.StatusNotFound, access.CodeNotFound},
		{http.MethodPost, "/nope", http.StatusNotFound, access.CodeNotFound},
		{http.MethodPost, "/environments", http.StatusMethodNotAllowed, access.CodeMethodNotAllowed},
		{http.MethodPut, "/environments/staging", http.StatusMethodNotAllowed, access.CodeMethodNotAllowed},
		{http.MethodPatch, "/environments/staging", http.StatusMethodNotAllowed, access.CodeMethodNotAllowed},
		{http.MethodDelete, "/environments/qa", http.StatusMethodNotAllowed, access.CodeMethodNotAllowed},
		{http.MethodOptions, "/environments", http.StatusMethodNotAllowed, access.CodeMethodNotAllowed},
	} {
		t.Run(tc.method+" "+tc.target, func(t *testing.T) {
			t.Parallel()
			rec := serve(t, h, tc.method, tc.target, nil)
			if rec.Code != tc.status {
				t.Fatalf("status %d; want %d\n%s", rec.Code, tc.status, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if tc.status == http.StatusMethodNotAllowed && rec.Header().Get("Allow") != "GET, HEAD" {
				t.Errorf("Allow %q", rec.Header().Get("Allow"))
			}
			if tc.code != "" && tc.method != http.MethodHead {
				var body access.ErrorBody
				if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error.Code != tc.code || body.Error.Message == "" {
					t.Errorf("error body %s (%v); want code %s and a message", rec.Body, err, tc.code)
				}
			}
		})
	}
}

func TestListAndOne(t *testing.T) {
	t.Parallel()
	h := &access.Handler{Source: static}
	var list access.List
	if err := json.Unmarshal(serve(t, h, http.MethodGet, "/environments", nil).Body.Bytes(), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Environments) != 2 || list.Environments[0].Name != "development" || list.Environments[1].Name != "staging" {
		t.Fatalf("list %+v; want development, staging in that order", list.Environments)
	}
	// The list and the single view agree.
	var one access.Environment
	if err := json.Unmarshal(serve(t, h, http.MethodGet, "/environments/staging", nil).Body.Bytes(), &one); err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(one)
	b, _ := json.Marshal(list.Environments[1])
	if string(a) != string(b) {
		t.Errorf("GET /environments/staging = %s; the list says %s", a, b)
	}
	dev := serve(t, h, http.MethodGet, "/environments/development", nil).Body.String()
	for _, empty := range []string{`"apiEndpoints":[]`, `"namespaces":[]`, `"dashboards":[]`, `"alertRoutes":[]`} {
		if !strings.Contains(dev, empty) {
			t.Errorf("development lacks %s: %s", empty, dev)
		}
	}
	if strings.Contains(dev, `"ingress":{`) || strings.Contains(dev, `"id"`) {
		t.Errorf("development serves an ingress or a cluster id it does not have: %s", dev)
	}
}

// TestETag: a 200 carries an ETag; sending it back gives 304 with no body,
// on both routes; another tag, or a changed body, gives 200.
func TestETag(t *testing.T) {
	t.Parallel()
	h := &access.Handler{Source: static}
	for _, target := range []string{"/environments", "/environments/staging"} {
		first := serve(t, h, http.MethodGet, target, nil)
		tag := first.Header().Get("ETag")
		if !etagRE.MatchString(tag) {
			t.Fatalf("%s: ETag %q", target, tag)
		}
		if again := serve(t, h, http.MethodGet, target, nil); again.Header().Get("ETag") != tag {
			t.Errorf("%s: ETag %q then %q for the same body", target, tag, again.Header().Get("ETag"))
		}
		if rec := serve(t, h, http.MethodGet, target, http.Header{"If-None-Match": {`"other", ` + tag}}); rec.Code != http.StatusNotModified {
			t.Errorf("%s with its ETag: %d; want 304", target, rec.Code)
		}
		if rec := serve(t, h, http.MethodGet, target, http.Header{"If-None-Match": {`"0123"`}}); rec.Code != http.StatusOK {
			t.Errorf("%s with another ETag: %d; want 200", target, rec.Code)
		}
	}
	changed := append(access.Static{}, static...)
	changed[0].Namespaces = append(changed[0].Namespaces, access.Namespace{Name: "jobs"})
	old := serve(t, h, http.MethodGet, "/environments/staging", nil).Header().Get("ETag")
	if rec := serve(t, &access.Handler{Source: changed}, http.MethodGet, "/environments/staging", http.Header{"If-None-Match": {old}}); rec.Code != http.StatusOK {
		t.Errorf("changed body with the old ETag: %d; want 200", rec.Code)
	}
}

// TestSourceFails: a failing Source gives 503 with the envelope; its error
// is logged, never sent.
func TestSourceFails(t *testing.T) {
	t.Parallel()
	core, logs := observer.New(zapcore.InfoLevel)
	h := &access.Handler{Source: failing{}, Logger: zap.New(core)}
	for _, target := range []string{"/environments", "/environments/staging"} {
		rec := serve(t, h, http.MethodGet, target, nil)
		if rec.Code != http.StatusServiceUnavailable {
			t.Errorf("%s: %d; want 503", target, rec.Code)
		}
		if strings.Contains(rec.Body.String(), "10.0.0.7") || strings.Contains(rec.Body.String(), "linode.com") {
			t.Errorf("%s: the body names the source's internals: %s", target, rec.Body)
		}
	}
	if n := logs.FilterMessage("read the environments").Len(); n != 2 {
		t.Errorf("%d failures logged; want 2", n)
	}
}
