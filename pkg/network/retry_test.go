package network_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/linode/linodego"

	"github.com/org/platform/pkg/linodetest"
	"github.com/org/platform/pkg/network"
	"github.com/org/platform/pkg/spec"
)

// TestOneRetryLayer checks that a Linode request failing for good is
// repeated by the linodego client only: a firewall list answered 502, or
// a firewall rules PUT answered 500, every time, is sent
// 1+ClientRetryCount times and its error returned — not retried again by
// this package until the context ends.
func TestOneRetryLayer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		method   string
		route    string
		endpoint string
		fault    linodetest.FaultKind
		status   int
	}{
		{"list", http.MethodGet, "/networking/firewalls", "GET /networking/firewalls", linodetest.FaultBadGateway, 502},
		{"PUT", http.MethodPut, "/networking/firewalls/{firewallId}/rules", "PUT /networking/firewalls/{firewallId}/rules", linodetest.FaultInternalServerError, 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, client := linodetest.New(t, linodetest.WithRequestHook(func(r linodetest.HookRequest) linodetest.HookAction {
				if r.Method == tt.method && r.Route == tt.route {
					return linodetest.HookAction{Fault: tt.fault}
				}
				return linodetest.HookAction{}
			}))
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			env := mustDefault(t, spec.Production)
			opts := []network.Option{network.WithClock(srv.Clock()), network.WithMaxRounds(1)}
			if tt.method == http.MethodPut {
				// A firewall whose rules differ from the spec's: the plan
				// replaces them with one PUT.
				if _, err := client.CreateFirewall(ctx, linodego.FirewallCreateOptions{
					Label: env.Network.Firewall.Label,
					Rules: linodego.FirewallRuleSet{InboundPolicy: "DROP", OutboundPolicy: "ACCEPT"},
					Tags:  []string{network.EnvTagPrefix + env.Name},
				}); err != nil {
					t.Fatal(err)
				}
			}
			_, err := network.EnsureFirewall(ctx, client, env, opts...)
			if err == nil {
				t.Fatal("EnsureFirewall succeeded although every request failed")
			}
			if ctx.Err() != nil {
				t.Fatalf("EnsureFirewall returned only when its context ended: %v", err)
			}
			if !linodego.ErrHasStatus(err, tt.status) {
				t.Errorf("error %v does not carry status %d", err, tt.status)
			}
			if n := srv.Counts().ByEndpoint[tt.endpoint]; n != 1+linodetest.ClientRetryCount {
				t.Errorf("%d requests %s sent, want 1 + ClientRetryCount = %d", n, tt.endpoint, 1+linodetest.ClientRetryCount)
			}
		})
	}
}
