package probe

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/org/platform/pkg/rollout"
)

// Notifier posts failed availability reports to a Slack-compatible
// incoming webhook, through rollout.Notifier.Post (the drift reports'
// webhook client).
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
	return rollout.Notifier{URL: n.URL, Client: n.Client}.Post(ctx, "availability webhook", Text(reports...))
}
