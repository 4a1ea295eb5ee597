package observability

import (
	"fmt"
	"log/slog"
	"path"
	"slices"
	"strings"
	"time"

	amconfig "github.com/prometheus/alertmanager/config"
	amlabels "github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"sigs.k8s.io/yaml"

	"github.com/org/platform/pkg/spec"
)

// PropagationBudget is the longest an alert may take, in the worst case,
// from its condition starting to its notification leaving Alertmanager (see
// the package documentation). Validate refuses an Alerting over it.
const PropagationBudget = 5 * time.Minute

// PagerDutySecretRef is the Secret key, "<secret>/<key>" in the
// observability namespace, holding the PagerDuty Events API v2 routing key
// that DefaultAlerting pages with in production. Sealed Secrets unseals it;
// it never appears in a spec, a values document or a plan.
const PagerDutySecretRef = "alertmanager-pagerduty/routing-key"

// NullReceiver is the receiver of the root route: alerts no route matches
// notify no one.
const NullReceiver = "null"

// secretsDir is where the Prometheus operator mounts the Secrets listed in
// alertmanager.alertmanagerSpec.secrets: /etc/alertmanager/secrets/<name>/<key>.
const secretsDir = "/etc/alertmanager/secrets"

// Alerting is what the alert pipeline needs beyond the spec's
// observability.alertRoutes: how often Prometheus scrapes and evaluates, how
// Alertmanager groups, extra routes, the rules and PagerDuty. Validate names
// its fields under "observability.alerting" with these JSON names.
type Alerting struct {
	// ScrapeInterval is Prometheus' global scrape interval.
	ScrapeInterval time.Duration `json:"scrapeInterval"`
	// EvaluationInterval is how often Prometheus evaluates the rules.
	EvaluationInterval time.Duration `json:"evaluationInterval"`
	// GroupBy are the labels Alertmanager groups alerts by; ["..."] puts
	// every alert in a group of its own.
	GroupBy []string `json:"groupBy"`
	// GroupWait is how long Alertmanager waits before the first
	// notification of a new group.
	GroupWait time.Duration `json:"groupWait"`
	// GroupInterval is how long Alertmanager waits before notifying about
	// alerts added to a group that has already notified.
	GroupInterval time.Duration `json:"groupInterval"`
	// RepeatInterval is how long before a still-firing alert is notified
	// again.
	RepeatInterval time.Duration `json:"repeatInterval"`
	// Routes are extra routes, tried before the severity routes the spec's
	// alert routes make. Each sends to the receiver of one of those alert
	// routes (by name) or to NullReceiver.
	Routes []Route `json:"routes,omitempty"`
	// Rules are the alerting rules shipped in the platform's rule group.
	Rules []Rule `json:"rules"`
	// PagerDutySecretRef, when set, is the "<secret>/<key>" holding a
	// PagerDuty Events API v2 routing key: every critical alert route also
	// pages PagerDuty.
	PagerDutySecretRef string `json:"pagerDutySecretRef,omitempty"`
}

// Route is an extra Alertmanager route.
type Route struct {
	// Receiver is the name of one of the spec's alert routes, or
	// NullReceiver to silence what matches.
	Receiver string `json:"receiver"`
	// Matchers are Alertmanager matchers such as `team="data"`; all must
	// match.
	Matchers []string `json:"matchers"`
	// Continue goes on to the later routes after a match.
	Continue bool `json:"continue,omitempty"`
}

// Rule is one Prometheus alerting rule.
type Rule struct {
	// Alert is the alert's name, unique among the rules.
	Alert string `json:"alert"`
	// Expr is the PromQL expression; every series it returns is an alert.
	Expr string `json:"expr"`
	// For is how long the expression must hold before the alert fires.
	For time.Duration `json:"for"`
	// Severity is the severity label: critical, warning or info.
	Severity string `json:"severity"`
	// Summary is the alert's one-line summary annotation.
	Summary string `json:"summary"`
}

// DefaultAlerting returns the alerting settings of env: scrape and evaluate
// every 30s, group by alertname and namespace, wait 30s for a new group and
// 1m for a group that has notified, repeat after 4h (1h in production), the
// platform's rules, and PagerDuty on critical routes in production only.
// Every default rule stays within PropagationBudget. Each call returns a
// fresh value.
func DefaultAlerting(env spec.Environment) Alerting {
	a := Alerting{
		ScrapeInterval:     30 * time.Second,
		EvaluationInterval: 30 * time.Second,
		GroupBy:            []string{"alertname", "namespace"},
		GroupWait:          30 * time.Second,
		GroupInterval:      time.Minute,
		RepeatInterval:     4 * time.Hour,
		Rules: []Rule{
			{
				Alert: "PlatformNodeNotReady", Severity: "critical", For: 2 * time.Minute,
				Expr:    `kube_node_status_condition{condition="Ready",status="true"} == 0`,
				Summary: "Node {{ $labels.node }} has not been Ready for 2 minutes.",
			},
			{
				Alert: "PlatformTargetDown", Severity: "warning", For: 2 * time.Minute,
				Expr:    `up == 0`,
				Summary: "{{ $labels.job }} target {{ $labels.instance }} has been unreachable for 2 minutes.",
			},
			{
				Alert: "PlatformPodCrashLooping", Severity: "warning", For: time.Minute,
				Expr:    `increase(kube_pod_container_status_restarts_total[10m]) > 3`,
				Summary: "Pod {{ $labels.namespace }}/{{ $labels.pod }} restarted more than 3 times in 10 minutes.",
			},
			{
				Alert: "PlatformLogsNotShipped", Severity: "warning", For: 2 * time.Minute,
				Expr:    `sum(rate(otelcol_exporter_send_failed_log_records_total[5m])) > 0`,
				Summary: "The OpenTelemetry Collector is failing to ship log records to Loki.",
			},
		},
	}
	if env.Name == spec.Production {
		a.RepeatInterval = time.Hour
		a.PagerDutySecretRef = PagerDutySecretRef
	}
	return a
}

// Option changes how this package builds an environment's stack.
type Option func(*options)

type options struct {
	alerting *Alerting
}

// WithAlerting replaces DefaultAlerting(env) by a.
func WithAlerting(a Alerting) Option {
	return func(o *options) { o.alerting = &a }
}

func alertingOf(env spec.Environment, opts []Option) Alerting {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.alerting != nil {
		return *o.alerting
	}
	return DefaultAlerting(env)
}

// Validate checks env, defaulted with spec.Environment.WithDefaults
// (spec.Environment.Validate), and the alerting settings
// that go with it (DefaultAlerting, or WithAlerting): intervals set, extra
// routes naming a known receiver with matchers that parse, every rule
// accepted by Prometheus' rulefmt and within PropagationBudget, and the
// whole Alertmanager configuration accepted by Alertmanager's config
// package. It returns spec.FieldErrors (errors.Is(err, spec.ErrInvalid))
// naming each field by its path, or nil. Messages never repeat a receiver
// name or matcher, which could be a pasted URL.
func Validate(env spec.Environment, opts ...Option) error {
	env = env.WithDefaults()
	a := alertingOf(env, opts)
	var errs spec.FieldErrors
	if err := env.Validate(); err != nil {
		fe, ok := err.(spec.FieldErrors)
		if !ok {
			return fmt.Errorf("validate environment %q: %w", env.Name, err)
		}
		errs = append(errs, fe...)
	}
	errs = append(errs, validateAlerting(env, a)...)
	if len(errs) > 0 {
		return errs
	}
	return nil
}

const alertingPath = "observability.alerting"

func validateAlerting(env spec.Environment, a Alerting) spec.FieldErrors {
	var errs spec.FieldErrors
	add := func(p, format string, args ...any) {
		errs = append(errs, &spec.FieldError{Path: p, Message: fmt.Sprintf(format, args...)})
	}
	for _, d := range []struct {
		field string
		v     time.Duration
	}{
		{"scrapeInterval", a.ScrapeInterval}, {"evaluationInterval", a.EvaluationInterval},
		{"groupWait", a.GroupWait}, {"groupInterval", a.GroupInterval}, {"repeatInterval", a.RepeatInterval},
	} {
		if d.v <= 0 || d.v%time.Second != 0 {
			add(alertingPath+"."+d.field, "must be a positive whole number of seconds (got %s)", d.v)
		}
	}
	if len(a.GroupBy) == 0 {
		add(alertingPath+".groupBy", "must list at least one label, or \"...\" for one group per alert")
	}
	if r := a.PagerDutySecretRef; r != "" && !secretRefOK(r) {
		add(alertingPath+".pagerDutySecretRef", "must be \"<secret>/<key>\", naming a Secret in observability.namespace and its key")
	}

	receivers := map[string]bool{NullReceiver: true}
	for _, r := range env.Observability.AlertRoutes {
		receivers[r.Name] = true
	}
	for i, r := range a.Routes {
		rp := fmt.Sprintf("%s.routes[%d]", alertingPath, i)
		if !receivers[r.Receiver] {
			add(rp+".receiver", "unknown receiver: must be the name of an observability.alertRoutes entry or %q", NullReceiver)
		}
		if len(r.Matchers) == 0 {
			add(rp+".matchers", "must list at least one matcher: a route without one catches every alert")
		}
		for j, m := range r.Matchers {
			if _, err := amlabels.ParseMatcher(m); err != nil {
				add(fmt.Sprintf("%s.matchers[%d]", rp, j), "must be an Alertmanager matcher such as `team=\"data\"` or `severity=~\"warning|info\"`")
			}
		}
	}

	severities := map[string]bool{}
	for _, r := range env.Observability.AlertRoutes {
		severities[r.Severity] = true
	}
	names := make([]string, len(a.Rules))
	for i, r := range a.Rules {
		names[i] = r.Alert
	}
	keys := spec.EntryKeys(names)
	for i, r := range a.Rules {
		rp := fmt.Sprintf("%s.rules[%s]", alertingPath, keys[i])
		if r.Alert == "" || !model.UTF8Validation.IsValidMetricName(r.Alert) {
			add(rp+".alert", "must be set, a Prometheus metric name such as \"PlatformNodeNotReady\"")
		} else if slices.Index(names[:i], r.Alert) >= 0 {
			add(rp+".alert", "duplicate alert %q", r.Alert)
		}
		if !slices.Contains([]string{"critical", "warning", "info"}, r.Severity) {
			add(rp+".severity", "must be one of critical, warning, info (got %q)", r.Severity)
		}
		if r.For < 0 || r.For%time.Second != 0 {
			add(rp+".for", "must be zero or a positive whole number of seconds (got %s)", r.For)
		}
		if !severities[r.Severity] {
			continue // notifies no one: no budget
		}
		if total, terms := propagation(a, r); total > PropagationBudget {
			add(rp+".for", "alert %s reaches its receivers after up to %s = %s, over the %s alert-propagation budget",
				r.Alert, model.Duration(total), terms, model.Duration(PropagationBudget))
		}
	}
	if len(errs) > 0 {
		return errs
	}

	// The rule file and the Alertmanager configuration as their own
	// parsers read them: anything they refuse is a problem of the section
	// as a whole.
	if _, err := alertRules(env, a); err != nil {
		add(alertingPath+".rules", "%v", err)
	}
	if _, err := alertmanagerConfig(env, a); err != nil {
		add("observability.alertRoutes", "%v", err)
	}
	return errs
}

// propagation returns the worst-case time from r's condition starting to
// its notification, and the sum spelled out term by term.
func propagation(a Alerting, r Rule) (time.Duration, string) {
	total := a.ScrapeInterval + a.EvaluationInterval + r.For + a.GroupWait
	terms := fmt.Sprintf("scrapeInterval %s + evaluationInterval %s + for %s + groupWait %s",
		model.Duration(a.ScrapeInterval), model.Duration(a.EvaluationInterval), model.Duration(r.For), model.Duration(a.GroupWait))
	if groupMayBeFiring(a.GroupBy) {
		total += a.GroupInterval
		terms += fmt.Sprintf(" + groupInterval %s (its group may already be firing)", model.Duration(a.GroupInterval))
	}
	return total, terms
}

// groupMayBeFiring reports whether an alert can join a group that has
// already notified: always, unless every label makes its own group.
func groupMayBeFiring(groupBy []string) bool {
	return !slices.Equal(groupBy, []string{"..."})
}

func secretRefOK(ref string) bool {
	secret, key, ok := strings.Cut(ref, "/")
	return ok && secret != "" && key != "" && !strings.Contains(key, "/")
}

// secretFile is where Alertmanager reads the Secret key ref ("<secret>/<key>").
func secretFile(ref string) string {
	secret, key, _ := strings.Cut(ref, "/")
	return path.Join(secretsDir, secret, key)
}

// AlertSecrets returns the names of the Secrets, in the observability
// namespace, that Alertmanager's pods mount for env: those holding the
// Slack webhook URLs and the PagerDuty routing key. Sealed Secrets must
// provide them before Alertmanager starts.
func AlertSecrets(env spec.Environment, opts ...Option) []string {
	return alertSecrets(env, alertingOf(env, opts))
}

func alertSecrets(env spec.Environment, a Alerting) []string {
	var names []string
	add := func(ref string) {
		if s, _, ok := strings.Cut(ref, "/"); ok && !slices.Contains(names, s) {
			names = append(names, s)
		}
	}
	for _, r := range env.Observability.AlertRoutes {
		if r.SlackChannel != "" {
			add(r.WebhookSecretRef)
		}
	}
	if a.PagerDutySecretRef != "" && slices.ContainsFunc(env.Observability.AlertRoutes, isCritical) {
		add(a.PagerDutySecretRef)
	}
	slices.Sort(names)
	return names
}

func isCritical(r spec.AlertRoute) bool { return r.Severity == "critical" }

// AlertmanagerConfig returns env's Alertmanager configuration as YAML, after
// Validate and after Alertmanager's config package has parsed it. It holds
// no secret: receivers read their URL and keys from files.
func AlertmanagerConfig(env spec.Environment, opts ...Option) ([]byte, error) {
	env = env.WithDefaults()
	if err := Validate(env, opts...); err != nil {
		return nil, err
	}
	cfg, err := alertmanagerConfig(env, alertingOf(env, opts))
	if err != nil {
		return nil, err
	}
	b, err := yaml.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("marshal Alertmanager configuration of %q: %w", env.Name, err)
	}
	return b, nil
}

// alertmanagerConfig builds the configuration and has Alertmanager parse it.
func alertmanagerConfig(env spec.Environment, a Alerting) (map[string]any, error) {
	routes := []any{}
	for _, r := range a.Routes {
		route := map[string]any{"receiver": r.Receiver, "matchers": slices.Clone(r.Matchers)}
		if r.Continue {
			route["continue"] = true
		}
		routes = append(routes, route)
	}
	receivers := []any{map[string]any{"name": NullReceiver}}
	for _, r := range env.Observability.AlertRoutes {
		// continue: two alert routes may share a severity, and each gets
		// its alerts.
		routes = append(routes, map[string]any{
			"receiver": r.Name,
			"matchers": []any{fmt.Sprintf("severity=%q", r.Severity)},
			"continue": true,
		})
		recv := map[string]any{"name": r.Name}
		if r.SlackChannel != "" {
			recv["slack_configs"] = []any{map[string]any{
				"channel":       r.SlackChannel,
				"api_url_file":  secretFile(r.WebhookSecretRef),
				"send_resolved": true,
				"title":         fmt.Sprintf("[%s] {{ .Status | toUpper }}: {{ .CommonLabels.alertname }}", env.Name),
				"text":          "{{ range .Alerts }}{{ .Annotations.summary }}\n{{ end }}",
			}}
		}
		if a.PagerDutySecretRef != "" && isCritical(r) {
			recv["pagerduty_configs"] = []any{map[string]any{
				"routing_key_file": secretFile(a.PagerDutySecretRef),
				"send_resolved":    true,
				"severity":         "critical",
				"description":      fmt.Sprintf("[%s] {{ .CommonLabels.alertname }}", env.Name),
			}}
		}
		receivers = append(receivers, recv)
	}
	cfg := map[string]any{
		"global": map[string]any{"resolve_timeout": "5m"},
		"route": map[string]any{
			"receiver":        NullReceiver,
			"group_by":        slices.Clone(a.GroupBy),
			"group_wait":      model.Duration(a.GroupWait).String(),
			"group_interval":  model.Duration(a.GroupInterval).String(),
			"repeat_interval": model.Duration(a.RepeatInterval).String(),
			"routes":          routes,
		},
		"receivers": receivers,
		// A critical alert silences the warning and info alerts of the same
		// name and namespace, as kube-prometheus-stack's own defaults do.
		"inhibit_rules": []any{
			map[string]any{
				"source_matchers": []any{`severity="critical"`},
				"target_matchers": []any{`severity=~"warning|info"`},
				"equal":           []any{"namespace", "alertname"},
			},
			map[string]any{
				"source_matchers": []any{`severity="warning"`},
				"target_matchers": []any{`severity="info"`},
				"equal":           []any{"namespace", "alertname"},
			},
		},
	}
	b, err := yaml.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("marshal Alertmanager configuration of %q: %w", env.Name, err)
	}
	if _, err := amconfig.Load(string(b)); err != nil {
		return nil, fmt.Errorf("Alertmanager refuses the configuration of %q: %w", env.Name, err)
	}
	return cfg, nil
}

// AlertRules returns env's alerting rules as a Prometheus rule file (YAML),
// after Validate and after Prometheus' rulefmt has parsed it: one group,
// "platform", evaluated every EvaluationInterval.
func AlertRules(env spec.Environment, opts ...Option) ([]byte, error) {
	env = env.WithDefaults()
	if err := Validate(env, opts...); err != nil {
		return nil, err
	}
	groups, err := alertRules(env, alertingOf(env, opts))
	if err != nil {
		return nil, err
	}
	b, err := yaml.Marshal(groups)
	if err != nil {
		return nil, fmt.Errorf("marshal alert rules of %q: %w", env.Name, err)
	}
	return b, nil
}

// alertRules builds the rule file's document and has rulefmt parse it.
func alertRules(env spec.Environment, a Alerting) (map[string]any, error) {
	rules := make([]any, 0, len(a.Rules))
	for _, r := range a.Rules {
		rule := map[string]any{
			"alert":       r.Alert,
			"expr":        r.Expr,
			"labels":      map[string]any{"severity": r.Severity},
			"annotations": map[string]any{"summary": r.Summary},
		}
		if r.For > 0 {
			rule["for"] = model.Duration(r.For).String()
		}
		rules = append(rules, rule)
	}
	doc := map[string]any{"groups": []any{map[string]any{
		"name":     "platform",
		"interval": model.Duration(a.EvaluationInterval).String(),
		"rules":    rules,
	}}}
	b, err := yaml.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("marshal alert rules of %q: %w", env.Name, err)
	}
	p := parser.NewParser(parser.Options{})
	if _, errs := rulefmt.Parse(b, false, model.UTF8Validation, p, slog.New(slog.DiscardHandler)); len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.Error()
		}
		return nil, fmt.Errorf("Prometheus refuses the alert rules of %q: %s", env.Name, strings.Join(msgs, "; "))
	}
	return doc, nil
}
