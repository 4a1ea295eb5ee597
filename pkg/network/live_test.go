//go:build live

package network_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/linode/linodego"
	"go.uber.org/zap/zaptest"

	"github.com/org/platform/internal/httpcount"
	"github.com/org/platform/pkg/network"
	"github.com/org/platform/pkg/spec"
)

// TestLiveLinode creates a Cloud Firewall and a VPC on the real Linode API
// under labels of its own, checks that a second run writes nothing and
// that a changed rule is put back with one request, then deletes both with
// DeleteFirewall and DeleteVPC.
// Firewalls and VPCs cost nothing:
//
//	LINODE_TOKEN=… go test -tags live -run TestLiveLinode ./pkg/network
func TestLiveLinode(t *testing.T) {
	token := os.Getenv("LINODE_TOKEN")
	if token == "" {
		t.Skip("LINODE_TOKEN not set")
	}
	wc := &httpcount.Counter{}
	client := linodego.NewClient(&http.Client{Transport: wc.Wrap(nil)})
	client.SetToken(token)

	env, err := spec.Default(spec.Development)
	if err != nil {
		t.Fatal(err)
	}
	suffix := time.Now().Unix() % 1_000_000
	env.Name = "live-test"
	env.Network.Firewall.Label = fmt.Sprintf("platform-live-%d", suffix)
	env.Network.VPC.Label = fmt.Sprintf("platform-live-%d", suffix)
	opts := []network.Option{network.WithLogger(zaptest.NewLogger(t))}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()

	fw, err := network.EnsureFirewall(ctx, &client, env, opts...)
	if fw.ID != 0 {
		t.Cleanup(func() {
			if res, err := network.DeleteFirewall(context.Background(), &client, env, opts...); err != nil || res.ID != fw.ID {
				t.Errorf("DeleteFirewall: deleted %d, %v; want %d deleted", res.ID, err, fw.ID)
			}
		})
	}
	if err != nil {
		t.Fatalf("EnsureFirewall: %v", err)
	}
	vpc, err := network.EnsureVPC(ctx, &client, env, opts...)
	if vpc.ID != 0 {
		t.Cleanup(func() {
			if res, err := network.DeleteVPC(context.Background(), &client, env, opts...); err != nil || res.ID != vpc.ID {
				t.Errorf("DeleteVPC: deleted %d, %v; want %d deleted", res.ID, err, vpc.ID)
			}
		})
	}
	if err != nil {
		t.Fatalf("EnsureVPC: %v", err)
	}

	base := wc.Writes()
	again, err := network.EnsureFirewall(ctx, &client, env, opts...)
	if err != nil || again.Changed() {
		t.Errorf("second EnsureFirewall: %v, %v", again.Result, err)
	}
	vagain, err := network.EnsureVPC(ctx, &client, env, opts...)
	if err != nil || vagain.Changed() {
		t.Errorf("second EnsureVPC: %v, %v", vagain.Result, err)
	}
	if n := wc.Writes() - base; n != 0 {
		t.Errorf("second run sent %d writes, want 0", n)
	}

	rules, err := client.GetFirewallRules(ctx, fw.ID)
	if err != nil {
		t.Fatal(err)
	}
	rules.Inbound = rules.Inbound[1:]
	if _, err := client.UpdateFirewallRules(ctx, fw.ID, *rules); err != nil {
		t.Fatal(err)
	}
	base = wc.Writes()
	fixed, err := network.EnsureFirewall(ctx, &client, env, opts...)
	if err != nil || !fixed.Changed() {
		t.Errorf("EnsureFirewall after drift: %v, %v", fixed.Result, err)
	}
	if n := wc.Writes() - base; n != 1 {
		t.Errorf("drift fixed with %d writes, want 1", n)
	}
}
