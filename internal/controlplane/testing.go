package controlplane

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// RequireEnv is the environment variable that turns a missing binary from a
// skip into a failure: with PLATFORM_REQUIRE_CONTROLPLANE=1 (as make test and
// CI set it), [Require] and [RequireNew] fail the test instead of skipping it.
const RequireEnv = "PLATFORM_REQUIRE_CONTROLPLANE"

// ReportEnv names a file to which [Main] appends one line per package,
// "<package> <integration tests run>", so that CI can add up how many
// integration tests ran even when go test hides the output of passing
// packages.
const ReportEnv = "PLATFORM_INTEGRATION_REPORT"

// shared is the package-wide control plane that Main sets up and Require
// hands out.
var shared struct {
	mu      sync.Mutex
	inMain  bool
	opts    []Option
	started bool
	cp      *ControlPlane
	err     error
}

// runs counts the tests that got a control plane from Require or RequireNew.
var runs atomic.Int64

// Main runs the tests of a package that has integration tests, and returns
// the exit code for os.Exit:
//
//	func TestMain(m *testing.M) { os.Exit(controlplane.Main(m)) }
//
// The package's control plane, started with opts, is started lazily by the
// first [Require], so that a run that selects no integration test pays
// nothing; it is stopped after m.Run. Main then prints
// "integration tests run: N (package P)" to stdout, and appends the same
// count to the file named by [ReportEnv] when that is set.
func Main(m *testing.M, opts ...Option) int {
	return runMain(m, packageOf(2), os.Stdout, opts...)
}

// runMain is Main with the package name and output given.
func runMain(m interface{ Run() int }, pkg string, out io.Writer, opts ...Option) int {
	shared.mu.Lock()
	shared.inMain, shared.opts = true, opts
	shared.mu.Unlock()

	code := m.Run()

	shared.mu.Lock()
	cp := shared.cp
	shared.inMain, shared.opts, shared.started, shared.cp, shared.err = false, nil, false, nil, nil
	shared.mu.Unlock()
	if cp != nil {
		if err := cp.Stop(); err != nil {
			fmt.Fprintf(out, "controlplane: stop: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
	}
	n := runs.Load()
	fmt.Fprintf(out, "integration tests run: %d (package %s)\n", n, pkg)
	if path := os.Getenv(ReportEnv); path != "" {
		if err := appendReport(path, pkg, n); err != nil {
			fmt.Fprintf(out, "controlplane: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
	}
	return code
}

func appendReport(path, pkg string, n int64) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open integration report: %w", err)
	}
	// One short write with O_APPEND: lines of packages tested in parallel
	// do not interleave.
	_, err = fmt.Fprintf(f, "%s %d\n", pkg, n)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write integration report: %w", err)
	}
	return nil
}

// packageOf returns the import path of the package of the function skip
// frames up the stack (TestMain's, for Main), without the _test suffix of
// an external test package.
func packageOf(skip int) string {
	pc, _, _, ok := runtime.Caller(skip)
	if !ok {
		return "unknown"
	}
	name := runtime.FuncForPC(pc).Name() // e.g. github.com/org/platform/pkg/x_test.TestMain
	slash := strings.LastIndex(name, "/")
	if dot := strings.Index(name[slash+1:], "."); dot >= 0 {
		name = name[:slash+1+dot]
	}
	return strings.TrimSuffix(name, "_test")
}

// Require returns the package's shared control plane for an integration
// test, starting it on first use with the options given to [Main], and
// counts the test as run. The control plane outlives the test: do not stop
// it, and leave it as you would a shared cluster (use a namespace of your
// own). Without Main in the package's TestMain, Require starts a control
// plane for this test alone, stopped when the test ends.
//
// When a binary is missing the test is skipped with a message saying to run
// make controlplane, or fails when [RequireEnv] is 1. Any other start
// failure fails the test.
func Require(t testing.TB) *ControlPlane {
	t.Helper()
	shared.mu.Lock()
	if !shared.inMain {
		shared.mu.Unlock()
		return RequireNew(t)
	}
	if !shared.started {
		shared.started = true
		// Not t.Context(): the control plane outlives this test. The start
		// timeout option bounds the wait.
		shared.cp, shared.err = Start(context.Background(), shared.opts...)
	}
	cp, err := shared.cp, shared.err
	shared.mu.Unlock()
	return admit(t, cp, err)
}

// RequireNew starts a control plane for this test alone, with opts, stops
// it when the test ends (pass or fail or panic), and counts the test as run.
// A missing binary skips or fails the test as in [Require].
func RequireNew(t testing.TB, opts ...Option) *ControlPlane {
	t.Helper()
	cp, err := Start(t.Context(), opts...)
	if cp != nil {
		t.Cleanup(func() {
			if err := cp.Stop(); err != nil {
				t.Errorf("stop control plane: %v", err)
			}
		})
	}
	return admit(t, cp, err)
}

// admit skips or fails t when err is set, and otherwise counts t as an
// integration test run.
func admit(t testing.TB, cp *ControlPlane, err error) *ControlPlane {
	t.Helper()
	if err != nil {
		if errors.Is(err, ErrBinaryMissing) && os.Getenv(RequireEnv) != "1" {
			t.Skipf("integration test skipped: %v (set %s=1 to fail instead)", err, RequireEnv)
		}
		t.Fatalf("start control plane: %v", err)
	}
	runs.Add(1)
	return cp
}

// IntegrationTestsRun returns how many tests of this package have got a
// control plane from [Require] or [RequireNew] so far.
func IntegrationTestsRun() int { return int(runs.Load()) }

// RequireBinaries is for integration tests that start their control planes
// themselves, for example through a Pool behind the Linode simulator: it
// skips or fails t as [Require] does when the binaries are missing, and
// otherwise counts t as an integration test run.
func RequireBinaries(t testing.TB) {
	t.Helper()
	admit(t, nil, Available())
}
