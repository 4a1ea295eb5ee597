package controlplane

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
)

func TestOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opts    []Option
		wantErr string
		check   func(t *testing.T, o options)
	}{
		{name: "defaults", check: func(t *testing.T, o options) {
			if o.workloads || o.nodes != 0 || o.startTimeout != 2*time.Minute || o.stopGrace != 5*time.Second || o.log == nil {
				t.Errorf("defaults = %+v", o)
			}
			if o.cacheDir != DefaultCacheDir() {
				t.Errorf("cacheDir = %q, want %q", o.cacheDir, DefaultCacheDir())
			}
		}},
		{name: "nodes imply workloads", opts: []Option{WithNodes(2)}, check: func(t *testing.T, o options) {
			if !o.workloads || o.nodes != 2 {
				t.Errorf("workloads=%v nodes=%d, want true 2", o.workloads, o.nodes)
			}
		}},
		{name: "zero nodes keep workloads", opts: []Option{WithWorkloads(), WithNodes(0)}, check: func(t *testing.T, o options) {
			if !o.workloads {
				t.Error("WithNodes(0) turned workloads off")
			}
		}},
		{name: "api flags accumulate", opts: []Option{WithAPIServerFlags("--a=1"), WithAPIServerFlags("--b=2")}, check: func(t *testing.T, o options) {
			if strings.Join(o.apiFlags, " ") != "--a=1 --b=2" {
				t.Errorf("apiFlags = %q", o.apiFlags)
			}
		}},
		{name: "negative nodes", opts: []Option{WithNodes(-1)}, wantErr: "WithNodes: must be ≥ 0 (got -1)"},
		{name: "zero timeout", opts: []Option{WithStartTimeout(0)}, wantErr: "WithStartTimeout: must be > 0"},
		{name: "negative grace", opts: []Option{WithStopGrace(-time.Second)}, wantErr: "WithStopGrace: must be ≥ 0"},
		{name: "nil logger", opts: []Option{WithLogger(nil)}, wantErr: "nil logger"},
		{name: "empty cache dir", opts: []Option{WithCacheDir("")}, wantErr: "empty directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o, err := newOptions(tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, o)
		})
	}
}

func TestDefaultCacheDir(t *testing.T) {
	// Not parallel: sets environment variables.
	tests := []struct {
		name, platform, xdg, home, want string
	}{
		{"platform wins", "/p", "/x", "/h", "/p/controlplane"},
		{"xdg", "", "/x", "/h", "/x/platform/controlplane"},
		{"home", "", "", "/h", "/h/.cache/platform/controlplane"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("PLATFORM_CACHE_DIR", tt.platform)
			t.Setenv("XDG_CACHE_HOME", tt.xdg)
			t.Setenv("HOME", tt.home)
			if got := DefaultCacheDir(); got != tt.want {
				t.Errorf("DefaultCacheDir() = %q, want %q", got, tt.want)
			}
		})
	}
}

// writeExe creates an executable file (or a plain one) at path.
func writeExe(t *testing.T, path string, exec bool) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	mode := os.FileMode(0o644)
	if exec {
		mode = 0o755
	}
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"), mode); err != nil {
		t.Fatal(err)
	}
}

func TestFindBinary(t *testing.T) {
	t.Parallel()
	c := component{"etcd", "v9.9.9"}
	tests := []struct {
		name  string
		files map[string]bool // path under cache → executable
		want  string          // path under cache; "" means missing
	}{
		{"missing", nil, ""},
		{"exact go version", map[string]bool{
			"etcd-v9.9.9-" + runtime.Version() + "/etcd": true,
			"etcd-v9.9.9-go1.0.0/etcd":                   true,
		}, "etcd-v9.9.9-" + runtime.Version() + "/etcd"},
		{"other go version", map[string]bool{"etcd-v9.9.9-go1.0.0/etcd": true}, "etcd-v9.9.9-go1.0.0/etcd"},
		{"other component version is not used", map[string]bool{"etcd-v9.9.8-" + runtime.Version() + "/etcd": true}, ""},
		{"not executable", map[string]bool{"etcd-v9.9.9-" + runtime.Version() + "/etcd": false}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cache := t.TempDir()
			for p, x := range tt.files {
				writeExe(t, filepath.Join(cache, p), x)
			}
			got, err := c.find(cache)
			if tt.want == "" {
				var mb *MissingBinaryError
				if !errors.Is(err, ErrBinaryMissing) || !errors.As(err, &mb) {
					t.Fatalf("err = %v, want a MissingBinaryError", err)
				}
				wantPath := filepath.Join(cache, "etcd-v9.9.9-"+runtime.Version(), "etcd")
				if mb.Component != "etcd" || mb.Path != wantPath {
					t.Errorf("MissingBinaryError = %+v, want etcd at %s", mb, wantPath)
				}
				if !strings.Contains(err.Error(), "run make controlplane (or make test)") {
					t.Errorf("error %q does not say how to build", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := filepath.Join(cache, tt.want); got != want {
				t.Errorf("find = %q, want %q", got, want)
			}
		})
	}
}

func TestStartMissingBinaries(t *testing.T) {
	t.Parallel()
	cache := t.TempDir()
	// etcd and kube-apiserver present (never run: the workloads binaries
	// are looked up first, before anything starts).
	writeExe(t, filepath.Join(cache, "etcd-"+etcdVersion+"-"+runtime.Version(), "etcd"), true)
	writeExe(t, filepath.Join(cache, "kube-apiserver-"+kubernetesVersion+"-"+runtime.Version(), "kube-apiserver"), true)
	tests := []struct {
		name, cache, want string
		opts              []Option
	}{
		{"empty cache", t.TempDir(), "etcd", nil},
		{"workloads need the controller-manager", cache, "kube-controller-manager", []Option{WithWorkloads()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cp, err := Start(t.Context(), append(tt.opts, WithCacheDir(tt.cache))...)
			var mb *MissingBinaryError
			if cp != nil || !errors.As(err, &mb) || mb.Component != tt.want {
				t.Fatalf("Start = %v, %v; want a MissingBinaryError for %s", cp, err, tt.want)
			}
		})
	}
}

// fakeTB records what admit does to a test. Skipf and Fatalf stop the
// caller, as the real ones do, by panicking with stopTest.
type fakeTB struct {
	testing.TB
	skipped, failed string
}

type stopTest struct{}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Skipf(format string, args ...any) {
	f.skipped = format
	panic(stopTest{})
}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed = format
	panic(stopTest{})
}

func TestAdmit(t *testing.T) {
	// Not parallel: sets an environment variable and reads the run count.
	missing := &MissingBinaryError{Component: "kube-apiserver", Path: "/nowhere"}
	tests := []struct {
		name, require     string
		err               error
		wantSkip, wantRun bool
	}{
		{"missing binary skips", "", missing, true, false},
		{"missing binary fails when required", "1", missing, false, false},
		{"other errors fail", "", errors.New("boom"), false, false},
		{"started counts", "1", nil, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(RequireEnv, tt.require)
			before := IntegrationTestsRun()
			// The fake runs are no integration tests: keep them out of Main's count.
			t.Cleanup(func() { runs.Store(int64(before)) })
			f := &fakeTB{}
			func() {
				defer func() {
					if r := recover(); r != nil && r != (stopTest{}) {
						panic(r)
					}
				}()
				admit(f, &ControlPlane{}, tt.err)
			}()
			if got := f.skipped != ""; got != tt.wantSkip {
				t.Errorf("skipped = %v, want %v", got, tt.wantSkip)
			}
			if got := f.failed != ""; got != (!tt.wantSkip && !tt.wantRun) {
				t.Errorf("failed = %v (%q)", got, f.failed)
			}
			if got := IntegrationTestsRun() - before; got != map[bool]int{true: 1, false: 0}[tt.wantRun] {
				t.Errorf("runs grew by %d", got)
			}
		})
	}
}

type fakeM struct{ code int }

func (m fakeM) Run() int { return m.code }

func TestRunMainReports(t *testing.T) {
	// Not parallel: runMain resets the package's shared state.
	report := filepath.Join(t.TempDir(), "report")
	t.Setenv(ReportEnv, report)
	// Parallel tests are paused while this sequential one runs, so none
	// holds the shared control plane; runMain clears Main's state, which is
	// put back afterwards.
	shared.mu.Lock()
	inMain, opts := shared.inMain, shared.opts
	if shared.started {
		// Only on a repeated run (go test -count > 1): the parallel tests
		// of the previous round have started it.
		shared.mu.Unlock()
		t.Skip("shared control plane already started by an earlier round of -count")
	}
	shared.mu.Unlock()
	t.Cleanup(func() {
		shared.mu.Lock()
		shared.inMain, shared.opts = inMain, opts
		shared.mu.Unlock()
	})
	var out bytes.Buffer
	n := IntegrationTestsRun()
	for _, code := range []int{0, 3} {
		if got := runMain(fakeM{code}, "example.com/p", &out); got != code {
			t.Errorf("runMain returned %d, want %d", got, code)
		}
	}
	want := strings.Repeat("integration tests run: "+strconv.Itoa(n)+" (package example.com/p)\n", 2)
	if out.String() != want {
		t.Errorf("output = %q, want %q", out.String(), want)
	}
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Repeat("example.com/p "+strconv.Itoa(n)+"\n", 2); string(b) != want {
		t.Errorf("report = %q, want %q", b, want)
	}
}

// deadPID returns the pid of a process that has exited and been reaped.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

func TestPackageOf(t *testing.T) {
	t.Parallel()
	if got, want := packageOf(1), "github.com/org/platform/internal/controlplane"; got != want {
		t.Errorf("packageOf = %q, want %q", got, want)
	}
}

func TestSweepStale(t *testing.T) {
	t.Parallel()
	// A dead owner: a process that has exited and been reaped.
	dead := deadPID(t)
	tests := []struct {
		name     string
		owner    string // "" writes no owner file
		wantGone bool
	}{
		{"dead owner", strconv.Itoa(dead), true},
		{"live owner", strconv.Itoa(os.Getppid()), false},
		{"no owner file", "", false},
		{"garbage owner", "x", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir, err := os.MkdirTemp("", dirPrefix)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.RemoveAll(dir) })
			if tt.owner != "" {
				if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(tt.owner), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			sweepStale(zaptest.NewLogger(t))
			_, err = os.Stat(dir)
			if gone := os.IsNotExist(err); gone != tt.wantGone {
				t.Errorf("directory gone = %v, want %v", gone, tt.wantGone)
			}
		})
	}
}

func TestAvailable(t *testing.T) {
	t.Setenv("PLATFORM_CACHE_DIR", t.TempDir())
	err := Available()
	var mb *MissingBinaryError
	if !errors.As(err, &mb) || !errors.Is(err, ErrBinaryMissing) {
		t.Fatalf("Available() with an empty cache = %v, want a MissingBinaryError", err)
	}
}
