// Package plan is the body of the plan action (actions/plan): Run, and
// the action's input and output tables.
//
// The action org/platform/actions/plan: it plans
// the environments named by its inputs with pkg/rollout, writes the plan as
// a JSON artifact for ensure-env to apply once its digest is approved, and
// shows it in the step summary. It only reads: on Linode it lists, on
// Kubernetes it sends server-side dry-runs. See README.md.
//
// Exit codes: 0 when the plan was made and written, 1 otherwise, with an
// ::error:: annotation per problem.
package plan

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/sethvargo/go-githubactions"
	"go.uber.org/zap"

	"github.com/org/platform/actions/internal/gha"
	"github.com/org/platform/pkg/rollout"
	"github.com/org/platform/pkg/spec"
)

// Input names.
const (
	inEnvironments = "environments"
	inSpecDir      = "spec-dir"
	inToken        = "linode-token"
	inPlanFile     = "plan-file"
)

// Output names.
const (
	outDigest   = "plan-digest"
	outPlanFile = "plan-file"
	outChanges  = "changes"
)

// DefaultPlanFile is where the plan is written when plan-file is not
// given, relative to the workspace.
const DefaultPlanFile = "platform-plan.json"

// Inputs is the action's inputs: action.yml declares exactly these (a test
// holds them equal) and run reads them only through this table.
var Inputs = []gha.Input{
	{Name: inEnvironments, Default: gha.AllEnvironments},
	{Name: inSpecDir},
	{Name: inToken, Secret: true},
	{Name: inPlanFile, Default: DefaultPlanFile},
}

// Outputs is the action's outputs, as action.yml declares them.
var Outputs = []gha.Output{{Name: outDigest}, {Name: outPlanFile}, {Name: outChanges}}

// Run is the action: inputs from a's environment, outputs and the step
// summary through a's files, workflow commands on a's writer. Every error
// it returns has been annotated with ::error::.
func Run(ctx context.Context, a *githubactions.Action, connect gha.ConnectFunc, log *zap.Logger) error {
	return gha.Annotate(a, plan(ctx, a, connect, log))
}

func plan(ctx context.Context, a *githubactions.Action, connect gha.ConnectFunc, log *zap.Logger) error {
	in, err := gha.Read(a, Inputs) // masks the token first
	if err != nil {
		return err
	}
	specDir := gha.Path(a, in.Get(inSpecDir))
	planFile := gha.Path(a, in.Get(inPlanFile))
	var (
		names []string
		envs  []spec.Environment
	)
	err = gha.Phase(a, "Read the specs", func() error {
		if names, err = gha.Environments(in.Get(inEnvironments), specDir != ""); err != nil {
			return err
		}
		envs, err = gha.LoadSpecs(specDir, names)
		return err
	})
	if err != nil {
		return err
	}

	e, err := connect(ctx, in.Get(inToken), log)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer e.Close()
	if e.Simulated {
		a.Warningf("no linode-token: planning on %s, not on a Linode account", e.Where)
	}

	var p rollout.Artifact
	err = gha.Phase(a, "Plan "+strings.Join(names, ", "), func() error {
		var err error
		if p, err = rollout.Plan(ctx, e.Deps, envs...); err != nil {
			return fmt.Errorf("plan: %w", err)
		}
		a.Infof("%s", p.String())
		return nil
	})
	if err != nil {
		return err // a partial plan is not written: it must not be approved
	}

	return gha.Phase(a, "Write the plan", func() error {
		if err := writePlan(planFile, p); err != nil {
			return err
		}
		a.AddStepSummary(gha.PlanSummary("Linode plan: "+strings.Join(p.Names(), ", "), p))
		gha.SetOutput(a, Outputs, outDigest, p.Digest)
		gha.SetOutput(a, Outputs, outPlanFile, planFile)
		gha.SetOutput(a, Outputs, outChanges, fmt.Sprint(gha.Changes(p)))
		a.Infof("plan %s written to %s: %s", p.Digest, planFile, p.Summary())
		return nil
	})
}

// writePlan writes the plan's JSON to path, creating its directory.
func writePlan(path string, p rollout.Artifact) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write the plan to %s: %w", path, err)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write the plan to %s: %w", path, err)
	}
	if err := p.WriteJSON(f); err != nil {
		_ = f.Close()
		return fmt.Errorf("write the plan to %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write the plan to %s: %w", path, err)
	}
	return nil
}
