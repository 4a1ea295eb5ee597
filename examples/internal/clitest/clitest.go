// Package clitest runs an example program's main body against the
// in-process simulator and checks what it printed and what it left behind.
// It serves the tests of examples/*.
package clitest

import (
	"bytes"
	"context"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/org/platform/examples/internal/cli"
	"github.com/org/platform/internal/controlplane"
	"github.com/org/platform/internal/local"
	"github.com/org/platform/pkg/rollout"
	"github.com/org/platform/pkg/spec"
)

// Main is an example's main body: arguments in, exit code out.
type Main func(ctx context.Context, args []string, stdout, stderr io.Writer) int

// Check runs main, which runs program, on the simulator twice: on a machine
// where the local control plane is not built (the Kubernetes layer is
// skipped, and the output says how to get it) and with every simulated
// cluster backed by a real local kube-apiserver (an integration test,
// counted as such; skipped or failed as the harness decides when the
// control plane is not built). Each time it asserts that the run exits 0;
// that the output names every layer of every environment and says each
// was applied, with its cluster and its model time; that the run's own
// fresh plan was empty and wrote nothing; and, planning once more itself on
// the same simulator, that a fresh rollout.Plan of the environments is
// empty with every cluster existing and the Kubernetes layer planned
// against the live cluster when there is one.
//
// Check sets environment variables, so its callers cannot be parallel.
func Check(t *testing.T, program *cli.Program, main Main) {
	t.Run("without control plane", func(t *testing.T) {
		t.Setenv(local.TokenEnv, "")
		t.Setenv("PLATFORM_CACHE_DIR", t.TempDir()) // nothing built there
		check(t, program, main, false)
	})
	t.Run("backed by control planes", func(t *testing.T) {
		t.Setenv(local.TokenEnv, "")
		controlplane.RequireBinaries(t)
		check(t, program, main, true)
	})
}

func check(t *testing.T, program *cli.Program, main Main, kube bool) {
	names := program.Environments
	var fresh rollout.Artifact
	var freshErr error
	ran := false
	program.AfterRun = func(ctx context.Context, e *local.Env) {
		ran = true
		envs := make([]spec.Environment, len(names))
		for i, name := range names {
			if envs[i], freshErr = spec.Default(name); freshErr != nil {
				return
			}
		}
		fresh, freshErr = rollout.Plan(ctx, e.Deps, envs...)
	}
	defer func() { program.AfterRun = nil }()

	var stdout, stderr bytes.Buffer
	code := main(t.Context(), nil, &stdout, &stderr)
	out := stdout.String()
	if code != 0 {
		t.Fatalf("exit code %d; want 0\nstdout:\n%s\nstderr:\n%s", code, out, stderr.String())
	}

	// Every layer is named: on local control planes each installs
	// something; without them the baseline's layers are rendered only.
	kubeLine := `  kubernetes: [1-9]\d* created, 0 updated, 0 replaced, 0 deleted\n`
	for _, l := range cli.Layers[2:] {
		kubeLine += `  ` + string(l) + `: [1-9]\d* created, 0 updated, 0 replaced, 0 deleted\n`
	}
	want := []string{
		`(?m)^A fresh plan is empty: 0 to add, 0 to change, 0 to replace, 0 to destroy\.$`,
	}
	if kube {
		want = append(want, `(?m)^It cost [1-9]\d* Linode requests \(0 writes\) and [1-9]\d* Kubernetes requests \(0 writes`)
	} else {
		kubeLine = `  kubernetes: skipped, [^\n]*run make controlplane[^\n]*\n`
		for _, l := range cli.Layers[2:] {
			kubeLine += `  ` + string(l) + `: rendered only \(the plan shows what would be installed\)\n`
		}
		want = append(want,
			`(?m)^Kubernetes layer skipped: [^\n]*run make controlplane`,
			`(?m)^It cost [1-9]\d* Linode requests \(0 writes\)\.$`)
	}
	for _, name := range names {
		want = append(want, `(?m)^`+regexp.QuoteMeta(name)+`: applied in (?:[1-9]\d*h)?\d+m\d+s of model time, cluster [1-9]\d*\n`+
			`  linode: [1-9]\d* created, 0 updated, 0 replaced, 0 deleted\n`+kubeLine)
		if name == spec.Production {
			want = append(want, `(?m)^production is GitOps-only: this program approves its own plan [0-9a-f]{64} because the run is a simulation`)
		}
	}
	for _, w := range want {
		if !regexp.MustCompile(w).MatchString(out) {
			t.Errorf("the output lacks %s\nstdout:\n%s", w, out)
		}
	}

	if !ran {
		t.Fatal("the program did not call AfterRun")
	}
	if freshErr != nil {
		t.Fatalf("plan again after the run: %v", freshErr)
	}
	if !fresh.Empty() || strings.Join(fresh.Names(), ",") != strings.Join(names, ",") {
		t.Errorf("a fresh plan of %v after the run: %s; want every environment, empty", names, fresh.String())
	}
	for _, ep := range fresh.Environments {
		if ep.ClusterID.Ref != nil || ep.ClusterID.Value == 0 {
			t.Errorf("%s: the fresh plan has no existing cluster (%+v)", ep.Name, ep.ClusterID)
		}
		if kube && ep.Kubernetes != rollout.KubernetesLive {
			t.Errorf("%s: the Kubernetes layer was %q; want planned against the live cluster", ep.Name, ep.Kubernetes)
		}
		if !kube && !strings.HasPrefix(ep.Kubernetes, "not planned: ") {
			t.Errorf("%s: the Kubernetes layer was %q; want skipped", ep.Name, ep.Kubernetes)
		}
	}
}
