package probe

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
	"time"
)

// Notifier posts failed availability reports to a Slack-compatible
// incoming webhook, as rollout.Notifier posts drift reports (which only
// knows plans, hence this one for probe reports).
type Notifier struct {
	// URL is the webhook's URL. It is a secret (it grants posting): it is
	// never printed, and errors name only its host.
	URL string
	// Client sends the request. Default http.DefaultClient.
	Client *http.Client
}

// Text is the message NotifyFailure posts for reports: a line per failed
// environment and a bullet per failed target, with its status and
// latency. Reports whose verdict is ok are left out.
func Text(reports ...Report) string {
	var b strings.Builder
	var failed []Report
	for _, r := range reports {
		if r.Verdict() == VerdictFailed {
			failed = append(failed, r)
		}
	}
	fmt.Fprintf(&b, "Availability probe failed in %d environment(s)\n", len(failed))
	for _, r := range failed {
		fmt.Fprintf(&b, "*%s*: %d of %d target(s) failed (budget %s each)\n", r.Environment, len(r.Failed()), len(r.Results), r.Budget)
		for _, res := range r.Failed() {
			fmt.Fprintf(&b, "• %s %s: %v (after %s)\n", res.Target, res.URL, res.Err, res.Latency.Round(time.Millisecond))
		}
	}
	return b.String()
}

// NotifyFailure posts the failed reports among reports as a Slack message
// ({"text": Text(…)}). It posts nothing when every report is ok.
func (n Notifier) NotifyFailure(ctx context.Context, reports ...Report) error {
	anyFailed := false
	for _, r := range reports {
		anyFailed = anyFailed || r.Verdict() == VerdictFailed
	}
	if !anyFailed {
		return nil
	}
	u, err := url.Parse(n.URL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return errors.New("availability webhook: the URL is not an http(s) URL") // never echo it
	}
	body, err := json.Marshal(map[string]string{"text": Text(reports...)})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("availability webhook at %s: build the request", u.Host)
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
		return fmt.Errorf("availability webhook at %s: %w", u.Host, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("availability webhook at %s: answered %s", u.Host, resp.Status)
	}
	return nil
}
