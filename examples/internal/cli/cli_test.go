package cli

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/org/platform/internal/local"
	"github.com/org/platform/pkg/linodetest"
	"github.com/org/platform/pkg/spec"
	"github.com/org/platform/pkg/store"
)

// These tests set LINODE_TOKEN, LINODE_URL and PLATFORM_CACHE_DIR with
// t.Setenv, which Go refuses in parallel tests: local.Connect and linodego
// read them from the process.

// TestRealAPI runs the production program with LINODE_TOKEN set, against a
// simulator standing in for the real API through LINODE_URL: the program
// refuses to approve its own plan there, before any request, and without
// the flag prints the plan and applies nothing.
func TestRealAPI(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		wantCode  int
		wantOut   []string // regular expressions on stdout
		wantErr   []string // regular expressions on stderr
		wantReads bool     // whether the program may read
	}{
		{
			name:     "self-approval refused",
			args:     []string{"-approve-simulation"},
			wantCode: 1,
			wantErr:  []string{`(?m)^production: -approve-simulation is refused on the Linode API at http://127\.0\.0\.1:\d+: `},
		},
		{
			name:     "plan printed, not applied",
			wantCode: 0,
			wantOut: []string{
				`(?m)^Rolling out production on the Linode API at http://127\.0\.0\.1:\d+\.$`,
				`(?m)^environment production \(GitOps-only`,
				`(?m)^Plan: [1-9]\d* to add, 0 to change, 0 to replace, 0 to destroy\.$`,
				`(?m)^Not applied: production is GitOps-only; its changes go through a saved plan whose digest [0-9a-f]{64} is approved in the workflow\.$`,
			},
			wantReads: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := linodetest.New(t)
			t.Setenv(local.TokenEnv, "a-test-token")
			t.Setenv("LINODE_URL", srv.URL())
			var stdout, stderr bytes.Buffer
			code := Program{Environments: []string{spec.Production}}.Run(t.Context(), tt.args, &stdout, &stderr)
			if code != tt.wantCode {
				t.Errorf("exit code %d; want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, stdout.String(), stderr.String())
			}
			match(t, "stdout", stdout.String(), tt.wantOut)
			match(t, "stderr", stderr.String(), tt.wantErr)
			c := srv.Counts()
			if c.Mutating != 0 || (!tt.wantReads && c.Reading != 0) || (tt.wantReads && c.Reading == 0) {
				t.Errorf("the API got %d writes and %d reads; want 0 writes and reads %v", c.Mutating, c.Reading, tt.wantReads)
			}
		})
	}
}

// TestSimulationWithoutApproval runs production on the simulator with
// -approve-simulation=false: the plan is printed and nothing is written.
func TestSimulationWithoutApproval(t *testing.T) {
	t.Setenv(local.TokenEnv, "")
	t.Setenv("PLATFORM_CACHE_DIR", t.TempDir())
	var writes, reads int64 = -1, -1
	p := Program{Environments: []string{spec.Production}, AfterRun: func(_ context.Context, e *local.Env) {
		writes, reads = e.Linode.Writes(), e.Linode.Requests()
	}}
	var stdout, stderr bytes.Buffer
	if code := p.Run(t.Context(), []string{"-approve-simulation=false"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit code %d; want 0\nstderr:\n%s", code, stderr.String())
	}
	match(t, "stdout", stdout.String(), []string{
		`(?m)^Not applied: production is GitOps-only`,
		`(?m)^On the simulator, -approve-simulation \(the default there\) lets this program approve its own plan\.$`,
	})
	if strings.Contains(stdout.String(), "applied in") || writes != 0 || reads <= 0 {
		t.Errorf("the run wrote %d times in %d requests and printed:\n%s\nwant a plan only", writes, reads, stdout.String())
	}
}

// TestErrorsNameTheEnvironment checks that failures exit 1 with a message
// that starts with the program's environments.
func TestErrorsNameTheEnvironment(t *testing.T) {
	t.Setenv(local.TokenEnv, "")
	t.Setenv("PLATFORM_CACHE_DIR", t.TempDir())
	tests := []struct {
		name    string
		envs    []string
		args    []string
		wantErr string
	}{
		{"unknown environment", []string{"qa"}, nil, `(?m)^qa: load the standard spec: .*qa`},
		{"unknown flag", []string{spec.Staging}, []string{"-approve"}, `(?s)flag provided but not defined: -approve\n.*Usage of staging:`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := (Program{Environments: tt.envs}).Run(t.Context(), tt.args, &stdout, &stderr); code != 1 {
				t.Errorf("exit code %d; want 1", code)
			}
			match(t, "stderr", stderr.String(), []string{tt.wantErr})
		})
	}
}

func match(t *testing.T, what, got string, want []string) {
	t.Helper()
	for _, w := range want {
		if !regexp.MustCompile(w).MatchString(got) {
			t.Errorf("%s lacks %s:\n%s", what, w, got)
		}
	}
}

// TestRecordsAndRollback: with -records the run keeps a snapshot and an
// audit record and lists the audit log; -rollback to the snapshot taken
// before the environment's first apply is refused, saying why.
func TestRecordsAndRollback(t *testing.T) {
	t.Setenv(local.TokenEnv, "")
	t.Setenv("PLATFORM_CACHE_DIR", t.TempDir())
	dir := t.TempDir()
	p := Program{Environments: []string{spec.Staging}}
	var stdout, stderr bytes.Buffer
	if code := p.Run(t.Context(), []string{"-records", dir}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit code %d; want 0\nstderr:\n%s", code, stderr.String())
	}
	match(t, "stdout", stdout.String(), []string{
		`(?m)^Audit log \(last 1 of 1\):$`,
		`(?m)^  \S+  examples/staging  staging  applied  plan [0-9a-f]{12}, \d+ changes$`,
	})
	st, err := store.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	refs, err := store.ListSnapshots(t.Context(), st, spec.Staging)
	if err != nil || len(refs) != 1 {
		t.Fatalf("snapshots %v, %v; want one", refs, err)
	}
	stdout.Reset()
	stderr.Reset()
	if code := p.Run(t.Context(), []string{"-records", dir, "-rollback", refs[0].Key}, &stdout, &stderr); code != 1 ||
		!strings.Contains(stderr.String(), "no applied spec") {
		t.Errorf("rollback to the snapshot before the first apply: exit %d, stderr:\n%s\nwant 1 and why", code, stderr.String())
	}
}
