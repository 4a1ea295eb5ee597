package linodetest

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// recordingTB records what the server reports to its test.
type recordingTB struct {
	testing.TB
	mu                 sync.Mutex
	errs, fatals, logs []string
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recordingTB) Fatalf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fatals = append(r.fatals, fmt.Sprintf(format, args...))
}

func (r *recordingTB) Logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.logs = append(r.logs, fmt.Sprintf(format, args...))
}

func (r *recordingTB) snapshot() (errs, fatals, logs []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.errs...), append([]string(nil), r.fatals...), append([]string(nil), r.logs...)
}

// failingValidator rejects responses to one path.
type failingValidator struct{ path string }

func (f failingValidator) ValidateResponse(method, path string, status int, header http.Header, body []byte) error {
	if path == f.path {
		return errors.New("boom: field missing")
	}
	return nil
}

func TestValidationIsOnInThisRepository(t *testing.T) {
	t.Parallel()
	if !specRequired() {
		t.Skipf("%s is not set: make test sets it to demand validation", EnvRequireContract)
	}
	srv, _ := New(t)
	if !srv.Validating() {
		t.Fatal("New did not load the contract; this repository's suite must validate")
	}
}

func TestValidationFailureFailsTheTest(t *testing.T) {
	t.Parallel()
	rec := &recordingTB{TB: t}
	srv, client := New(rec)
	srv.validator = failingValidator{path: "/v4beta/regions/us-ord"}
	if _, err := client.GetRegion(t.Context(), "us-ord"); err != nil {
		t.Fatal(err)
	}
	if _, err := client.GetRegion(t.Context(), "us-sea"); err != nil {
		t.Fatal(err)
	}
	errs, _, _ := rec.snapshot()
	if len(errs) != 1 || !strings.Contains(errs[0], "GET /v4beta/regions/us-ord") || !strings.Contains(errs[0], "boom: field missing") {
		t.Fatalf("reported = %q", errs)
	}
	if srv.ValidationErrors() != 1 {
		t.Errorf("ValidationErrors = %d", srv.ValidationErrors())
	}
}

func TestRealContractCatchesABadShape(t *testing.T) {
	t.Parallel()
	rec := &recordingTB{TB: t}
	srv, client := New(rec, WithClock(NewManualClock(t0)))
	c := mustCluster(t, client, "shape", 1)
	// A label longer than the contract's 32 characters, put in out of band.
	srv.Mutate(func(st *State) { st.Clusters[c.ID].Label = strings.Repeat("x", 40) })
	if _, err := client.GetLKECluster(t.Context(), c.ID); err != nil {
		t.Fatal(err)
	}
	errs, _, _ := rec.snapshot()
	if len(errs) != 1 || !strings.Contains(errs[0], "/lke/clusters/") {
		t.Fatalf("the contract did not catch the bad label: %q", errs)
	}
}

func TestStartValidationLogsAndCounts(t *testing.T) {
	t.Parallel()
	core, logs := observer.New(zap.ErrorLevel)
	srv, err := Start(t.Context(), WithValidation(true), WithLogger(zap.New(core)))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if !srv.Validating() {
		t.Fatal("Start(WithValidation(true)) is not validating")
	}
	srv.validator = failingValidator{path: "/v4beta/profile"}
	if _, err := srv.NewClient().GetProfile(t.Context()); err != nil {
		t.Fatal(err)
	}
	if srv.ValidationErrors() != 1 || logs.Len() != 1 {
		t.Fatalf("ValidationErrors %d, logged %d", srv.ValidationErrors(), logs.Len())
	}
	if e := logs.All()[0]; e.ContextMap()["path"] != "/v4beta/profile" {
		t.Errorf("log entry = %+v", e.ContextMap())
	}
}

func TestSpecPath(t *testing.T) {
	found, err := SpecPath()
	if err != nil {
		t.Fatalf("SpecPath in this repository: %v", err)
	}
	sharedDir := filepath.Dir(filepath.Dir(found))
	tmp := t.TempDir()
	for _, tc := range []struct {
		name, file, dir string
		want            string
		missing         bool
	}{
		{name: "walk up", want: found},
		{name: "file env", file: found, want: found},
		{name: "file env missing", file: filepath.Join(tmp, "nope.yaml"), missing: true},
		{name: "shared dir env", dir: sharedDir, want: filepath.Join(sharedDir, "linode-api", "openapi.yaml")},
		{name: "shared dir env missing", dir: tmp, missing: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("LINODETEST_OPENAPI", tc.file)
			t.Setenv("PLATFORM_SHARED_DIR", tc.dir)
			got, err := SpecPath()
			if tc.missing {
				if !errors.Is(err, ErrSpecNotFound) {
					t.Fatalf("err = %v, want ErrSpecNotFound", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("SpecPath = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// TestMissingSpec: whether a missing contract fails the test depends only
// on LINODETEST_REQUIRE_CONTRACT, never on the caller's module path or CI.
func TestMissingSpec(t *testing.T) {
	userRepo := t.TempDir()
	if err := os.WriteFile(filepath.Join(userRepo, "go.mod"), []byte("module example.com/user\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		chdir     string
		require   string
		ci        string
		wantFatal bool
	}{
		{name: "this repository, not required", wantFatal: false},
		{name: "this repository, required", require: "1", wantFatal: true},
		{name: "user repository", chdir: userRepo, wantFatal: false},
		{name: "user repository in CI", chdir: userRepo, ci: "true", wantFatal: false},
		{name: "user repository, required", chdir: userRepo, require: "1", wantFatal: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.chdir != "" {
				t.Chdir(tc.chdir)
			}
			t.Setenv("LINODETEST_OPENAPI", filepath.Join(userRepo, "missing.yaml"))
			t.Setenv(EnvRequireContract, tc.require)
			t.Setenv("CI", tc.ci)
			rec := &recordingTB{TB: t}
			srv, _ := New(rec)
			_, fatals, logs := rec.snapshot()
			if tc.wantFatal {
				if len(fatals) != 1 || !strings.Contains(fatals[0], "LINODETEST_OPENAPI") {
					t.Fatalf("fatals = %q, want one naming LINODETEST_OPENAPI", fatals)
				}
				return
			}
			if len(fatals) != 0 || srv.Validating() {
				t.Fatalf("fatals %q, validating %v", fatals, srv.Validating())
			}
			if len(logs) != 1 || !strings.Contains(logs[0], "validation skipped") || !strings.Contains(logs[0], "LINODETEST_OPENAPI") || strings.Contains(logs[0], "\n") {
				t.Errorf("logs = %q, want one line naming LINODETEST_OPENAPI", logs)
			}
		})
	}
}
