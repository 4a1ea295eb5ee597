package rollout

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Exit statuses of a drift check, as terraform plan -detailed-exitcode
// gives them, for a scheduled workflow to act on.
const (
	ExitNoDrift = 0
	ExitError   = 1
	ExitDrift   = 2
)

// ExitCode returns the exit status of a drift check: a plan of the live
// world against the specs. ExitError when planning failed (for any
// environment), ExitDrift when the plan changes anything or finds the
// security posture drifted (Artifact.Drifted), else ExitNoDrift.
func ExitCode(plan Artifact, err error) int {
	switch {
	case err != nil:
		return ExitError
	case plan.Drifted():
		return ExitDrift
	}
	return ExitNoDrift
}

// Notifier posts drift reports to a Slack-compatible incoming webhook.
type Notifier struct {
	// URL is the webhook's URL. It is a secret (it grants posting): read it
	// from a secret reference, never from a spec or a flag; it is never
	// printed, and errors name only its host.
	URL string
	// Client sends the request. Default http.DefaultClient.
	Client *http.Client
}

// NotifyDrift posts the plan's drift, per environment and field, and the
// security-posture findings with the flows or grants they open, as a Slack
// message ({"text": …}). It posts nothing when there is no drift.
func (n Notifier) NotifyDrift(ctx context.Context, plan Artifact) error {
	if !plan.Drifted() {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Drift in %d environment(s) — plan %s\n", len(driftedEnvs(plan)), plan.Digest[:12])
	for _, e := range plan.Environments {
		if len(e.Steps) == 0 && len(e.Posture) == 0 {
			continue
		}
		fmt.Fprintf(&b, "*%s*: %s\n", e.Name, e.Summary())
		for _, line := range e.Result().Lines() {
			fmt.Fprintf(&b, "• %s\n", line)
		}
		for _, f := range e.Posture {
			fmt.Fprintf(&b, "• posture: %s\n", f)
		}
	}
	return n.Post(ctx, "drift webhook", b.String())
}

// Post posts text as a Slack message ({"text": text}) to the webhook. what
// names the webhook in errors ("drift webhook"), which name only the URL's
// host: the URL is a secret.
func (n Notifier) Post(ctx context.Context, what, text string) error {
	u, err := url.Parse(n.URL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("%s: the URL is not an http(s) URL", what) // never echo it
	}
	body, err := json.Marshal(map[string]string{"text": text})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s at %s: build the request", what, u.Host)
	}
	req.Header.Set("Content-Type", "application/json")
	c := n.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // url.Error quotes the whole URL, secret path and all
		}
		return fmt.Errorf("%s at %s: %w", what, u.Host, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s at %s: answered %s", what, u.Host, resp.Status)
	}
	return nil
}

func driftedEnvs(p Artifact) []string {
	var out []string
	for _, e := range p.Environments {
		if len(e.Steps) > 0 || len(e.Posture) > 0 {
			out = append(out, e.Name)
		}
	}
	return out
}
