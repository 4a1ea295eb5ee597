// Package probe is the synthetic availability probe of an environment, run
// by the availability action (actions/availability) on a schedule: it asks
// each target — the Kubernetes API server's /readyz, the ingress
// controller, the sample service — for one GET, and a target is available
// when it answers 2xx within its budget.
//
// # Budget
//
// Each target must answer within DefaultBudget (2 s; WithBudget changes
// it, up to EnvironmentBudget). The targets of an environment are probed
// concurrently, and the whole environment is bounded by EnvironmentBudget
// (10 s): a probe of an environment never takes longer than that, whatever
// its targets do. A target that does not answer in its budget, answers
// anything but 2xx (a 503 from a draining ingress, a 500 from /readyz), or
// cannot be reached, fails — and the environment's verdict fails with it.
//
// A request is one GET with no retry: the probe measures what a user
// would see now, and the schedule is the retry. Redirects are not
// followed (a 3xx is a failure: a probe URL should be the final one).
//
// # Secrets
//
// The API server is probed with the kubeconfig's credentials (APIServer);
// they travel in headers and TLS, never in a Result, a Report or an error.
// Notifier posts a failed report to a Slack-compatible webhook whose URL is
// a secret: it is never printed, and its errors name only its host.
package probe
