package httpcount

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestTransport(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer srv.Close()
	var cnt Counter
	c := &http.Client{Transport: cnt.Wrap(nil)}
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodHead, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodGet} {
		req, err := http.NewRequestWithContext(t.Context(), m, srv.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if cnt.Requests() != 7 || cnt.Writes() != 4 {
		t.Errorf("counted %d requests, %d writes; want 7, 4", cnt.Requests(), cnt.Writes())
	}

	// A Kubernetes server-side dry-run, as a plan sends, changes nothing.
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPatch, srv.URL+"/api/v1/namespaces/apps?dryRun=All&fieldManager=platform", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if cnt.Requests() != 8 || cnt.Writes() != 4 {
		t.Errorf("after a dry-run PATCH: counted %d requests, %d writes; want 8, 4", cnt.Requests(), cnt.Writes())
	}
}
