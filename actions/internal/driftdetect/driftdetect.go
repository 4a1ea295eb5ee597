// Package driftdetect is the body of the drift-detect action
// (actions/drift-detect): Run, Main, and the action's input and output
// tables.
//
// The action org/platform/actions/drift-detect: it plans the environments
// named by its inputs with pkg/rollout — a plan of the live world against
// the specs, so any step in it is drift — writes the drift report to the
// step summary (a table of changes per environment, then a table per
// drifted environment of each object and field, from → to, and the human
// plan), sets the drift-count and plan-digest outputs, and posts the report
// to a Slack-compatible webhook (rollout.Notifier) when there is drift and
// webhook-url is given. It only reads, as the plan action does. See
// README.md.
//
// Exit codes, as rollout.ExitCode and terraform plan -detailed-exitcode:
// 0 no drift, 2 drift (a ::warning:: per drifted environment), 1 an error
// (an ::error:: annotation per problem) — planning failed for an
// environment, or the webhook did not take the report. The same value is
// the exit-code output: under `go run`, as the action runs it, the step's
// own status is 1 for both 2 and 1.
package driftdetect

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/sethvargo/go-githubactions"
	"go.uber.org/zap"

	"github.com/org/platform/actions/internal/gha"
	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/rollout"
	"github.com/org/platform/pkg/spec"
)

// Input names.
const (
	inEnvironments = "environments"
	inSpecDir      = "spec-dir"
	inToken        = "linode-token"
	inWebhook      = "webhook-url"
)

// Output names.
const (
	outDriftCount = "drift-count"
	outDigest     = "plan-digest"
	outDrifted    = "drifted-environments"
	outExitCode   = "exit-code"
)

// Inputs is the action's inputs: action.yml declares exactly these (a test
// holds them equal) and run reads them only through this table.
var Inputs = []gha.Input{
	{Name: inEnvironments, Default: gha.AllEnvironments},
	{Name: inSpecDir},
	{Name: inToken, Secret: true},
	{Name: inWebhook, Secret: true},
}

// Outputs is the action's outputs, as action.yml declares them.
var Outputs = []gha.Output{{Name: outDriftCount}, {Name: outDigest}, {Name: outDrifted}, {Name: outExitCode}}

// ErrDrift is what Run returns when the environments were planned, and
// reported, and have drifted: the check worked and found drift. It is not
// an error annotation, and Main exits 2 for it.
var ErrDrift = errors.New("drift: the live world differs from the specs")

// Run is the action: inputs from a's environment, outputs and the step
// summary through a's files, workflow commands on a's writer. It returns
// nil when nothing drifted, ErrDrift (alone) when something did, and any
// other error, annotated with ::error::, when the check itself failed.
//
// It always sets the exit-code output to ExitCode's value, whatever
// happened: the composite action runs the main with `go run`, which
// reports a program's exit status 2 as its own status 1, so the output is
// how a workflow tells drift (2) from a failed check (1).
func Run(ctx context.Context, a *githubactions.Action, connect gha.ConnectFunc, log *zap.Logger) error {
	err := detect(ctx, a, connect, log)
	gha.SetOutput(a, Outputs, outExitCode, strconv.Itoa(ExitCode(err)))
	if errors.Is(err, ErrDrift) {
		return err // reported by its ::warning:: lines; not a failure of the check
	}
	return gha.Annotate(a, err)
}

// ExitCode is the exit status for Run's error: rollout.ExitNoDrift for
// nil, rollout.ExitDrift for ErrDrift, else rollout.ExitError.
func ExitCode(err error) int {
	switch {
	case err == nil:
		return rollout.ExitNoDrift
	case errors.Is(err, ErrDrift):
		return rollout.ExitDrift
	}
	return rollout.ExitError
}

// Main runs the action as its main does (gha.Main: the process
// environment, stdout, logs on stderr, gha.Connect, cancelled on SIGINT or
// SIGTERM) and returns its exit status, 0, 1 or 2 (ExitCode).
func Main() int {
	var err error
	gha.Main(func(ctx context.Context, a *githubactions.Action, connect gha.ConnectFunc, log *zap.Logger) error {
		err = Run(ctx, a, connect, log)
		return err
	})
	return ExitCode(err)
}

func detect(ctx context.Context, a *githubactions.Action, connect gha.ConnectFunc, log *zap.Logger) error {
	in, err := gha.Read(a, Inputs) // masks the token and the webhook URL first
	if err != nil {
		return err
	}
	webhook := in.Get(inWebhook)
	if err := checkWebhook(webhook); err != nil {
		return err
	}
	specDir := gha.Path(a, in.Get(inSpecDir))
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
		a.Warningf("no linode-token: checking drift on %s, not on a Linode account", e.Where)
	}

	var (
		p       rollout.Artifact
		planErr error
	)
	_ = gha.Phase(a, "Plan "+strings.Join(names, ", ")+" against the live world", func() error {
		// An environment that cannot be planned does not stop the others:
		// the drift of those planned is still reported, and the run exits 1.
		p, planErr = rollout.Plan(ctx, e.Deps, envs...)
		a.Infof("%s", p.String())
		return nil
	})

	var notifyErr error
	_ = gha.Phase(a, "Report the drift", func() error {
		drifted := driftedNames(p)
		a.AddStepSummary(Report(p, planErr))
		gha.SetOutput(a, Outputs, outDriftCount, fmt.Sprint(gha.Changes(p)))
		gha.SetOutput(a, Outputs, outDigest, p.Digest)
		gha.SetOutput(a, Outputs, outDrifted, strings.Join(drifted, ","))
		for _, env := range p.Environments {
			if len(env.Steps) > 0 {
				a.Warningf("environment %s has drifted from its spec: %s", env.Name, env.Summary())
			}
		}
		if webhook == "" || len(drifted) == 0 {
			return nil
		}
		if notifyErr = (rollout.Notifier{URL: webhook}).NotifyDrift(ctx, p); notifyErr == nil {
			a.Infof("drift report posted to the webhook")
		}
		return nil
	})

	switch {
	case planErr != nil || notifyErr != nil:
		return errors.Join(planErr, notifyErr)
	case !p.Empty():
		return ErrDrift
	}
	a.Infof("no drift in %s", strings.Join(p.Names(), ", "))
	return nil
}

// checkWebhook refuses a webhook-url that is not an http(s) URL, without
// echoing it: it is a secret.
func checkWebhook(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("%s: not an http(s) URL (the value is a secret and is not shown)", inWebhook)
	}
	return nil
}

func driftedNames(p rollout.Artifact) []string {
	var out []string
	for _, e := range p.Environments {
		if len(e.Steps) > 0 {
			out = append(out, e.Name)
		}
	}
	return out
}

// Report is the drift report of the step summary: a heading that says
// whether anything drifted, the plan digest, the table of changes per
// environment (gha.PlanTable), then for each drifted environment a table of
// its changes — object, field, from → to, sensitive values redacted — and
// the human plan. Environments that could not be planned are listed under
// the heading, with planErr's message.
func Report(p rollout.Artifact, planErr error) string {
	var b strings.Builder
	drifted := driftedNames(p)
	switch {
	case len(drifted) > 0:
		fmt.Fprintf(&b, "## Drift in %s\n\n", strings.Join(drifted, ", "))
	case len(p.Environments) > 0:
		fmt.Fprintf(&b, "## No drift in %s\n\n", strings.Join(p.Names(), ", "))
	default:
		b.WriteString("## Drift check failed\n\n")
	}
	if planErr != nil {
		fmt.Fprintf(&b, "> [!CAUTION]\n> Not every environment could be planned:\n> %s\n\n",
			strings.ReplaceAll(planErr.Error(), "\n", "\n> "))
	}
	if len(p.Environments) == 0 {
		return b.String()
	}
	fmt.Fprintf(&b, "Plan digest: `%s`\n\n", p.Digest)
	b.WriteString(gha.PlanTable(p))
	for _, e := range p.Environments {
		if len(e.Steps) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n### %s: %s\n\n", e.Name, e.Summary())
		b.WriteString("| Change | Object | Field | From | To |\n|---|---|---|---|---|\n")
		for _, c := range e.Result().Changes {
			if c.Op == change.Unchanged {
				continue
			}
			from, to := c.From, c.To
			if c.Sensitive {
				from, to = change.Redacted, change.Redacted
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", c.Op, cell(c.Object), cell(c.Field), cell(from), cell(to))
		}
	}
	b.WriteString("\n<details><summary>The plan</summary>\n\n```text\n")
	b.WriteString(strings.ReplaceAll(p.String(), "```", "ˋˋˋ"))
	b.WriteString("```\n\n</details>\n")
	return b.String()
}

// cell escapes a value for a markdown table cell.
func cell(s string) string {
	if s == "" {
		return ""
	}
	return "`" + strings.NewReplacer("|", `\|`, "\n", " ", "`", "'").Replace(s) + "`"
}
