package records

import (
	"fmt"
	"strings"
	"testing"

	"github.com/org/platform/actions/internal/gha"
	"github.com/org/platform/actions/internal/ghatest"
)

var table = []gha.Input{{Name: InStore}, {Name: InAccessKey, Secret: true}, {Name: InSecretKey, Secret: true}}

// TestParse: each form of the store input, and that a location prints
// without its keys.
func TestParse(t *testing.T) {
	t.Parallel()
	const secret = "records-test-secret-0123"
	for _, tc := range []struct {
		store, access, secret string
		want                  string // String(), or the error's text
		wantErr               bool
	}{
		{store: "", want: ""},
		{store: "records", want: "<ws>/records"},
		{store: "/abs/records", want: "/abs/records"},
		{store: "s3://us-east-1.linodeobjects.com/b", access: "AK", secret: secret, want: "s3://us-east-1.linodeobjects.com/b/"},
		{store: "s3://us-east-1.linodeobjects.com/b/p", access: "AK", secret: secret, want: "s3://us-east-1.linodeobjects.com/b/p/"},
		{store: "s3://us-east-1.linodeobjects.com/b", want: "s3://us-east-1.linodeobjects.com/b/"}, // keys: see Keys
		{store: "s3://us-east-1.linodeobjects.com", access: "AK", secret: secret, want: "names no bucket", wantErr: true},
		{store: "s3://AK:" + secret + "@h/b", want: "credentials removed", wantErr: true},
		{store: "records", access: "AK", secret: secret, want: "they are for an s3:// store", wantErr: true},
	} {
		t.Run(fmt.Sprintf("%s+%v", tc.store, tc.access != ""), func(t *testing.T) {
			t.Parallel()
			env := ghatest.NewEnv(t, ghatest.InputVars(map[string]string{InStore: tc.store, InAccessKey: tc.access, InSecretKey: tc.secret}))
			a := env.Action()
			in, err := gha.Read(a, table)
			if err != nil {
				t.Fatal(err)
			}
			loc, err := Parse(a, in)
			if tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), secret) {
					t.Errorf("error %v; want one containing %q, without the secret", err, tc.want)
				}
				return
			}
			want := strings.Replace(tc.want, "<ws>", env.Workspace(), 1)
			if err != nil || loc.String() != want {
				t.Errorf("Parse: %q (%v); want %q", loc.String(), err, want)
			}
			if s := fmt.Sprintf("%v %+v %#v", loc, loc, loc); strings.Contains(s, secret) {
				t.Errorf("a Location prints its secret: %s", s)
			}
			if (loc.Keys() != nil) != (loc.IsS3() && tc.access == "") {
				t.Errorf("Keys: %v for an s3 store %v with keys %v", loc.Keys(), loc.IsS3(), tc.access != "")
			}
		})
	}
}

// TestOwner: the actor input, else GITHUB_ACTOR, with the run id; the
// action alone when nobody is named.
func TestOwner(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ input, actor, run, want string }{
		{"alice", "octocat", "7", "github:alice via x run 7"},
		{"", "octocat", "7", "github:octocat via x run 7"},
		{"", "octocat", "", "github:octocat via x"},
		{"", "", "", "github-actions: x"},
	} {
		env := ghatest.NewEnv(t, map[string]string{"GITHUB_ACTOR": tc.actor, "GITHUB_RUN_ID": tc.run})
		if got := Owner(env.Action(), tc.input, "x"); got != tc.want {
			t.Errorf("Owner(%q) with GITHUB_ACTOR %q, GITHUB_RUN_ID %q: %q; want %q", tc.input, tc.actor, tc.run, got, tc.want)
		}
	}
}
