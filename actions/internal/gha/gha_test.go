package gha

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/sethvargo/go-githubactions"

	"github.com/org/platform/pkg/rollout"
)

func TestEnvironments(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		list    string
		specDir bool
		want    string // joined names
		err     string
	}{
		{" development , production ", false, "development,production", ""},
		{AllEnvironments, false, AllEnvironments, ""},
		{"qa", false, "", `unknown environment "qa"`},
		{"qa", true, "qa", ""}, // checked against the spec files by LoadSpecs
		{"staging,staging", false, "staging", "given twice"},
		{" , ", false, "", "no environment named"},
	} {
		got, err := Environments(tc.list, tc.specDir)
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("Environments(%q): error %v; want %q", tc.list, err, tc.err)
		}
		if tc.err == "" && strings.Join(got, ",") != tc.want {
			t.Errorf("Environments(%q) = %v; want %s", tc.list, got, tc.want)
		}
	}
}

func TestDigest(t *testing.T) {
	t.Parallel()
	good := strings.Repeat("0123456789abcdef", 4)
	for s, ok := range map[string]bool{
		good: true, good[:63]: false, good + "0": false, strings.ToUpper(good): false,
		strings.Repeat("g", 64): false, "": false,
	} {
		if err := Digest("approved-digest", s); (err == nil) != ok {
			t.Errorf("Digest(%q) = %v; want ok %v", s, err, ok)
		}
	}
}

// TestAnnotateSplitsEnvironments: joined errors become one annotation
// each, and a stale plan's annotation names what moved.
func TestAnnotateSplitsEnvironments(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	a := githubactions.New(githubactions.WithWriter(&out), githubactions.WithGetenv(func(string) string { return "" }))
	err := errors.Join(&rollout.StaleError{Environment: "staging", Moved: []string{"firewall/platform-staging tags: a → a,b"}},
		errors.Join(errors.New("environment \"qa\": boom\nsecond line")))
	if got := Annotate(a, err); got != err {
		t.Errorf("Annotate returned %v; want its argument", got)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "::error::environment staging: the saved plan is stale") ||
		!strings.Contains(lines[0], "firewall/platform-staging tags") || lines[1] != `::error::environment "qa": boom%0Asecond line` {
		t.Errorf("annotations:\n%s", out.String())
	}
}

func TestFenceOutlastsBackticks(t *testing.T) {
	t.Parallel()
	if f := fenceFor("a ```` b"); f != "`````" {
		t.Errorf("fenceFor = %q", f)
	}
	if f := fenceFor("plain"); f != "```" {
		t.Errorf("fenceFor = %q", f)
	}
}
