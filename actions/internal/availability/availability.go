// Package availability is the body of the availability action
// (actions/availability): Run, and the action's input and output tables.
//
// The action org/platform/actions/availability: it probes one
// environment's API server (/readyz, with the credentials of the
// kubeconfig given), ingress controller and sample service with
// actions/internal/probe — each must answer 2xx within the budget (2 s by
// default), the whole environment within 10 s — writes a table of the
// results to the step summary, sets the verdict and report outputs, and
// posts the failures to a Slack-compatible webhook when webhook-url is
// given. A target whose input is empty is not probed, and the summary says
// so. It talks to no Linode API. See README.md.
//
// Exit codes: 0 when every target probed is available, 1 otherwise, with an
// ::error:: annotation per failed target or bad input.
package availability

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/sethvargo/go-githubactions"
	"go.uber.org/zap"

	"github.com/org/platform/actions/internal/gha"
	"github.com/org/platform/actions/internal/probe"
)

// Input names.
const (
	inEnvironment = "environment"
	inKubeconfig  = "kubeconfig"
	inIngressURL  = "ingress-url"
	inSampleURL   = "sample-url"
	inBudget      = "budget"
	inWebhook     = "webhook-url"
)

// Output names.
const (
	outVerdict = "verdict"
	outReport  = "report"
)

// Inputs is the action's inputs: action.yml declares exactly these (a test
// holds them equal) and run reads them only through this table.
var Inputs = []gha.Input{
	{Name: inEnvironment, Required: true},
	{Name: inKubeconfig},
	{Name: inIngressURL},
	{Name: inSampleURL},
	{Name: inBudget, Default: probe.DefaultBudget.String()},
	{Name: inWebhook, Secret: true},
}

// Outputs is the action's outputs, as action.yml declares them.
var Outputs = []gha.Output{{Name: outVerdict}, {Name: outReport}}

// Run is the action: inputs from a's environment, outputs and the step
// summary through a's files, workflow commands on a's writer. Every error
// it returns has been annotated with ::error::. The action probes HTTP
// endpoints only, so connect (the Linode connection of the other actions)
// is not used.
func Run(ctx context.Context, a *githubactions.Action, _ gha.ConnectFunc, log *zap.Logger) error {
	return gha.Annotate(a, run(ctx, a, log))
}

// ResultJSON is one target's result in the report output.
type ResultJSON struct {
	Target    string `json:"target"`
	URL       string `json:"url"`
	OK        bool   `json:"ok"`
	Status    int    `json:"status"`
	LatencyMS int64  `json:"latencyMs"`
	Error     string `json:"error,omitempty"`
}

func run(ctx context.Context, a *githubactions.Action, log *zap.Logger) error {
	in, err := gha.Read(a, Inputs) // masks the webhook URL first
	if err != nil {
		return err
	}
	env := in.Get(inEnvironment)
	webhook := in.Get(inWebhook)
	var (
		targets    []probe.Target
		notProbed  []string
		budget     time.Duration
		webhookErr error
	)
	err = gha.Phase(a, "Read the targets of "+env, func() error {
		var errs []error
		if budget, err = time.ParseDuration(in.Get(inBudget)); err != nil {
			errs = append(errs, fmt.Errorf("%s: %q is not a duration such as 2s", inBudget, in.Get(inBudget)))
		}
		if webhook != "" {
			if u, err := url.Parse(webhook); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
				webhookErr = fmt.Errorf("%s: not an http(s) URL (the value is a secret and is not shown)", inWebhook)
				errs = append(errs, webhookErr)
			}
		}
		if p := gha.Path(a, in.Get(inKubeconfig)); p != "" {
			kc, err := os.ReadFile(p)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", inKubeconfig, err))
			} else if t, err := probe.APIServer(kc); err != nil {
				errs = append(errs, fmt.Errorf("%s %s: %w", inKubeconfig, p, err))
			} else {
				targets = append(targets, t)
			}
		} else {
			notProbed = append(notProbed, probe.TargetAPIServer)
		}
		for _, t := range []struct{ input, name string }{{inIngressURL, probe.TargetIngress}, {inSampleURL, probe.TargetSample}} {
			if u := in.Get(t.input); u != "" {
				targets = append(targets, probe.Target{Name: t.name, URL: u})
			} else {
				notProbed = append(notProbed, t.name)
			}
		}
		if len(targets) == 0 && len(errs) == 0 {
			errs = append(errs, fmt.Errorf("%s, %s, %s: none given, nothing to probe", inKubeconfig, inIngressURL, inSampleURL))
		}
		return errors.Join(errs...)
	})
	if err != nil {
		return err
	}

	var rep probe.Report
	err = gha.Phase(a, "Probe "+env, func() error {
		var err error
		rep, err = probe.Probe(ctx, env, targets, probe.WithBudget(budget), probe.WithLogger(log))
		if err != nil {
			return fmt.Errorf("environment %s: %w", env, inputNames(err))
		}
		for _, r := range rep.Results {
			if r.OK {
				a.Infof("%s: %s answered %d in %s", r.Target, r.URL, r.Status, r.Latency.Round(time.Millisecond))
			}
		}
		return nil
	})
	if err != nil {
		return err
	}

	var notifyErr error
	err = gha.Phase(a, "Report", func() error {
		a.AddStepSummary(Summary(rep, notProbed))
		report := make([]ResultJSON, 0, len(rep.Results))
		for _, r := range rep.Results {
			rj := ResultJSON{Target: r.Target, URL: r.URL, OK: r.OK, Status: r.Status, LatencyMS: r.Latency.Milliseconds()}
			if r.Err != nil {
				rj.Error = r.Err.Error()
			}
			report = append(report, rj)
		}
		b, err := json.Marshal(report)
		if err != nil {
			return err
		}
		gha.SetOutput(a, Outputs, outVerdict, string(rep.Verdict()))
		gha.SetOutput(a, Outputs, outReport, string(b))
		if webhook != "" && rep.Verdict() == probe.VerdictFailed {
			if notifyErr = (probe.Notifier{URL: webhook}).NotifyFailure(ctx, rep); notifyErr == nil {
				a.Infof("the failure was posted to the webhook")
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	var errs []error
	for _, r := range rep.Failed() {
		errs = append(errs, fmt.Errorf("environment %s: %w", env, r.Err))
	}
	return errors.Join(append(errs, notifyErr)...)
}

// inputNames turns the probe's target names in a bad-input error into the
// action's input names.
func inputNames(err error) error {
	r := strings.NewReplacer(
		"targets["+probe.TargetIngress+"].url", inIngressURL,
		"targets["+probe.TargetSample+"].url", inSampleURL,
	)
	return errors.New(r.Replace(err.Error()))
}

// Summary is the step summary of a probe: a heading with the verdict and
// the budget, and a table with a row per target — verdict, HTTP status,
// latency, and why it failed — and one per target not probed.
func Summary(rep probe.Report, notProbed []string) string {
	var b strings.Builder
	mark := map[probe.Verdict]string{probe.VerdictOK: "available", probe.VerdictFailed: "FAILED"}[rep.Verdict()]
	fmt.Fprintf(&b, "## Availability of %s: %s\n\n", rep.Environment, mark)
	fmt.Fprintf(&b, "Each target must answer 2xx within %s; probed concurrently in %s.\n\n", rep.Budget, rep.Elapsed.Round(time.Millisecond))
	b.WriteString("| Target | URL | Verdict | Status | Latency | Why |\n|---|---|---|---:|---:|---|\n")
	for _, r := range rep.Results {
		verdict, why, status := "ok", "", "—"
		if !r.OK {
			verdict, why = "**failed**", strings.ReplaceAll(r.Err.Error(), "|", `\|`)
		}
		if r.Status != 0 {
			status = fmt.Sprint(r.Status)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", r.Target, r.URL, verdict, status, r.Latency.Round(time.Millisecond), why)
	}
	for _, n := range notProbed {
		fmt.Fprintf(&b, "| %s | | not probed | | | no input given |\n", n)
	}
	return b.String()
}
