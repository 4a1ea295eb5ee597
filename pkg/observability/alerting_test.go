package observability_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	amconfig "github.com/prometheus/alertmanager/config"

	"github.com/org/platform/pkg/observability"
	"github.com/org/platform/pkg/spec"
)

// fieldPaths returns the paths of the FieldErrors in err.
func fieldPaths(t *testing.T, err error) []string {
	t.Helper()
	var fe spec.FieldErrors
	if !errors.As(err, &fe) {
		t.Fatalf("error %v is not spec.FieldErrors", err)
	}
	if !errors.Is(err, spec.ErrInvalid) {
		t.Errorf("errors.Is(%v, spec.ErrInvalid) = false", err)
	}
	paths := make([]string, len(fe))
	for i, e := range fe {
		paths[i] = e.Path
	}
	return paths
}

// budgetAlerting is an Alerting whose one rule, "Slow", takes exactly the
// budget plus extra: 30s scrape + 30s evaluation + 3m for + 30s group wait
// + 30s group interval = 5m.
func budgetAlerting(extra time.Duration) observability.Alerting {
	return observability.Alerting{
		ScrapeInterval:     30 * time.Second,
		EvaluationInterval: 30 * time.Second,
		GroupBy:            []string{"alertname"},
		GroupWait:          30*time.Second + extra,
		GroupInterval:      30 * time.Second,
		RepeatInterval:     time.Hour,
		Rules: []observability.Rule{
			{Alert: "Slow", Expr: "up == 0", For: 3 * time.Minute, Severity: "critical", Summary: "slow"},
		},
	}
}

func TestPropagationBudget(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		alerting func() observability.Alerting
		want     []string // field paths, nil when accepted
	}{
		{
			name:     "exactly 5m is accepted",
			alerting: func() observability.Alerting { return budgetAlerting(0) },
		},
		{
			name:     "5m1s is refused at the rule's for",
			alerting: func() observability.Alerting { return budgetAlerting(time.Second) },
			want:     []string{"observability.alerting.rules[Slow].for"},
		},
		{
			name: "one group per alert drops the group interval",
			alerting: func() observability.Alerting {
				a := budgetAlerting(30 * time.Second) // 5m30s with the group interval
				a.GroupBy = []string{"..."}
				return a
			},
		},
		{
			name: "a severity no route takes has no budget",
			alerting: func() observability.Alerting {
				a := budgetAlerting(time.Hour)
				a.Rules[0].Severity = "info"
				return a
			},
		},
		{
			name: "long scrape interval is refused too",
			alerting: func() observability.Alerting {
				a := budgetAlerting(0)
				a.ScrapeInterval = time.Minute
				return a
			},
			want: []string{"observability.alerting.rules[Slow].for"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := standard(t, spec.Production)
			opt := observability.WithAlerting(tt.alerting())
			err := observability.Validate(env, opt)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if got := fieldPaths(t, err); !slices.Equal(got, tt.want) {
				t.Fatalf("Validate paths = %v, want %v (err: %v)", got, tt.want, err)
			}
			if !strings.Contains(err.Error(), "5m") {
				t.Errorf("message %q does not state the budget", err)
			}
			// Nothing to install is produced from an over-budget spec.
			if _, err := observability.PrometheusStackValues(env, opt); err == nil {
				t.Error("PrometheusStackValues accepted an over-budget rule")
			}
		})
	}
}

// TestDefaultRulesWithinBudget checks that the rules shipped by default
// reach their receivers in time in every environment.
func TestDefaultRulesWithinBudget(t *testing.T) {
	t.Parallel()
	for _, name := range spec.StandardNames() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := standard(t, name)
			if err := observability.Validate(env); err != nil {
				t.Fatal(err)
			}
			// And the default rules actually have a budget: some take a route.
			a := observability.DefaultAlerting(env)
			routed := 0
			for _, r := range a.Rules {
				for _, route := range env.Observability.AlertRoutes {
					if route.Severity == r.Severity {
						routed++
						break
					}
				}
			}
			if routed == 0 {
				t.Error("no default rule reaches a route; the budget checks nothing")
			}
		})
	}
}

func TestInvalidAlertingIsFieldErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		edit func(*observability.Alerting)
		want []string
	}{
		{
			name: "unknown receiver",
			edit: func(a *observability.Alerting) {
				a.Routes = []observability.Route{{Receiver: "pager", Matchers: []string{`team="data"`}}}
			},
			want: []string{"observability.alerting.routes[0].receiver"},
		},
		{
			name: "bad matcher",
			edit: func(a *observability.Alerting) {
				a.Routes = []observability.Route{{Receiver: "critical", Matchers: []string{`team="data"`, `team=~"(`}}}
			},
			want: []string{"observability.alerting.routes[0].matchers[1]"},
		},
		{
			name: "route without matchers",
			edit: func(a *observability.Alerting) {
				a.Routes = []observability.Route{{Receiver: "null"}}
			},
			want: []string{"observability.alerting.routes[0].matchers"},
		},
		{
			name: "rule Prometheus cannot parse",
			edit: func(a *observability.Alerting) { a.Rules[0].Expr = "up ==" },
			want: []string{"observability.alerting.rules"},
		},
		{
			name: "duplicate rule and bad severity",
			edit: func(a *observability.Alerting) {
				a.Rules = append(a.Rules, a.Rules[0])
				a.Rules[0].Severity = "page"
			},
			want: []string{"observability.alerting.rules[PlatformNodeNotReady].severity", "observability.alerting.rules[4].alert"},
		},
		{
			name: "zero intervals",
			edit: func(a *observability.Alerting) { a.ScrapeInterval, a.GroupWait = 0, 0 },
			want: []string{"observability.alerting.scrapeInterval", "observability.alerting.groupWait"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := standard(t, spec.Staging)
			a := observability.DefaultAlerting(env)
			tt.edit(&a)
			err := observability.Validate(env, observability.WithAlerting(a))
			if got := fieldPaths(t, err); !slices.Equal(got, tt.want) {
				t.Errorf("paths = %v, want %v (err: %v)", got, tt.want, err)
			}
		})
	}
}

// TestSpecErrorsComeFirst checks that a bad spec is reported with the
// spec's own paths, before any values exist.
func TestSpecErrorsComeFirst(t *testing.T) {
	t.Parallel()
	env := standard(t, spec.Staging)
	env.Observability.AlertRoutes[0].Severity = "urgent"
	_, err := observability.LokiValues(env)
	if got := fieldPaths(t, err); !slices.Contains(got, "observability.alertRoutes[critical].severity") {
		t.Errorf("paths = %v, want observability.alertRoutes[critical].severity", got)
	}
}

func TestAlertmanagerConfig(t *testing.T) {
	t.Parallel()
	for _, name := range spec.StandardNames() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := standard(t, name)
			b, err := observability.AlertmanagerConfig(env)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, name+"/alertmanager.yaml", b)
			cfg, err := amconfig.Load(string(b))
			if err != nil {
				t.Fatalf("Alertmanager refuses the config: %v", err)
			}
			receivers := map[string]*amconfig.Receiver{}
			for i := range cfg.Receivers {
				receivers[cfg.Receivers[i].Name] = &cfg.Receivers[i]
			}
			for _, r := range env.Observability.AlertRoutes {
				recv := receivers[r.Name]
				if recv == nil {
					t.Errorf("no receiver for alert route %s", r.Name)
					continue
				}
				if len(recv.SlackConfigs) != 1 || recv.SlackConfigs[0].Channel != r.SlackChannel ||
					recv.SlackConfigs[0].APIURLFile != "/etc/alertmanager/secrets/alertmanager-slack/webhook-url" ||
					recv.SlackConfigs[0].APIURL != nil {
					t.Errorf("receiver %s: Slack configs %+v, want one to %s reading its URL from the mounted Secret", r.Name, recv.SlackConfigs, r.SlackChannel)
				}
				wantPD := name == spec.Production && r.Severity == "critical"
				if gotPD := len(recv.PagerdutyConfigs) == 1; gotPD != wantPD {
					t.Errorf("receiver %s pages PagerDuty: %v, want %v", r.Name, gotPD, wantPD)
				} else if gotPD {
					pd := recv.PagerdutyConfigs[0]
					if pd.RoutingKeyFile != "/etc/alertmanager/secrets/alertmanager-pagerduty/routing-key" || pd.RoutingKey != "" {
						t.Errorf("receiver %s PagerDuty key: file %q, inline set %v; want the mounted Secret only", r.Name, pd.RoutingKeyFile, pd.RoutingKey != "")
					}
				}
			}
			// The Secrets the receivers read are mounted into Alertmanager.
			kps, err := observability.PrometheusStackValues(env)
			if err != nil {
				t.Fatal(err)
			}
			mounted := lookup(kps, "alertmanager", "alertmanagerSpec", "secrets")
			want := []any{"alertmanager-slack"}
			if name == spec.Production {
				want = []any{"alertmanager-pagerduty", "alertmanager-slack"}
			}
			if !slices.Equal(mounted.([]any), want) {
				t.Errorf("alertmanagerSpec.secrets = %v, want %v", mounted, want)
			}
		})
	}
}

// TestReceiverURLNeverLeaks checks that a receiver URL, wherever a user
// might paste it, shows up in no values document, configuration, rule file,
// dashboard or error message.
func TestReceiverURLNeverLeaks(t *testing.T) {
	t.Parallel()
	const canary = "https://hooks.slack.com/services/T00CANARY/B00CANARY/c4n4ryS3cretV4lue"
	tests := []struct {
		name  string
		edit  func(*spec.Environment, *observability.Alerting)
		valid bool
	}{
		{name: "standard production", valid: true, edit: func(*spec.Environment, *observability.Alerting) {}},
		{name: "as the webhook secret ref", edit: func(e *spec.Environment, _ *observability.Alerting) {
			e.Observability.AlertRoutes[0].WebhookSecretRef = canary
		}},
		{name: "as the Slack channel", edit: func(e *spec.Environment, _ *observability.Alerting) {
			e.Observability.AlertRoutes[0].SlackChannel = canary
		}},
		{name: "as an extra route's receiver", edit: func(_ *spec.Environment, a *observability.Alerting) {
			a.Routes = []observability.Route{{Receiver: canary, Matchers: []string{`team="data"`}}}
		}},
		{name: "as a matcher", edit: func(_ *spec.Environment, a *observability.Alerting) {
			a.Routes = []observability.Route{{Receiver: "critical", Matchers: []string{canary}}}
		}},
		{name: "as the PagerDuty secret ref", edit: func(_ *spec.Environment, a *observability.Alerting) {
			a.PagerDutySecretRef = canary
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := standard(t, spec.Production)
			a := observability.DefaultAlerting(env)
			tt.edit(&env, &a)
			opt := observability.WithAlerting(a)
			var outputs []string
			check := func(what string, v any, err error) {
				if err != nil {
					outputs = append(outputs, err.Error())
					if tt.valid {
						t.Errorf("%s: %v", what, err)
					}
					return
				}
				if !tt.valid {
					t.Errorf("%s accepted a receiver URL pasted in the spec", what)
				}
				b, jerr := json.Marshal(v)
				if jerr != nil {
					t.Fatal(jerr)
				}
				outputs = append(outputs, string(b))
			}
			for _, c := range stack {
				v, err := c.values(env, opt)
				check(c.chart.Name+" values", v, err)
			}
			am, err := observability.AlertmanagerConfig(env, opt)
			check("Alertmanager config", string(am), err)
			rules, err := observability.AlertRules(env, opt)
			check("alert rules", string(rules), err)
			check("Validate", nil, observability.Validate(env, opt))
			if tt.valid {
				dash, err := observability.Dashboards(env)
				check("dashboards", dash, err)
			}
			for _, out := range outputs {
				if strings.Contains(out, "c4n4ryS3cretV4lue") || strings.Contains(out, "hooks.slack.com") {
					t.Errorf("receiver URL leaked into: %.300s", out)
				}
			}
			if tt.valid && !strings.Contains(strings.Join(outputs, "\n"), "api_url_file") {
				t.Error("no Slack receiver reads its URL from a file")
			}
		})
	}
}
