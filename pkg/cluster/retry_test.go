package cluster_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/linode/linodego"

	"github.com/org/platform/pkg/cluster"
	"github.com/org/platform/pkg/linodetest"
	"github.com/org/platform/pkg/spec"
)

// TestOneRetryLayer checks that a request failing for good is repeated by
// the linodego client only: PlanCluster's cluster list, answered 500 every
// time, is sent 1+ClientRetryCount times and its error returned — not
// retried again by this package until the context ends.
func TestOneRetryLayer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fault linodetest.FaultKind
	}{
		{"500", linodetest.FaultInternalServerError},
		{"502", linodetest.FaultBadGateway},
		{"dropped connection", linodetest.FaultDropConnection},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, client := linodetest.New(t, linodetest.WithRequestHook(func(r linodetest.HookRequest) linodetest.HookAction {
				if r.Method == http.MethodGet && r.Route == "/lke/clusters" {
					return linodetest.HookAction{Fault: tt.fault}
				}
				return linodetest.HookAction{}
			}))
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			_, err := cluster.PlanCluster(ctx, client, mustDefault(t, spec.Production), cluster.Placement{}, cluster.WithClock(srv.Clock()))
			if err == nil {
				t.Fatal("PlanCluster succeeded although every cluster list failed")
			}
			if ctx.Err() != nil {
				t.Fatalf("PlanCluster returned only when its context ended: %v", err)
			}
			var lerr *linodego.Error
			if !errors.As(err, &lerr) {
				t.Errorf("error %v is not the client's", err)
			} else if want := map[linodetest.FaultKind]int{linodetest.FaultInternalServerError: 500, linodetest.FaultBadGateway: 502}[tt.fault]; lerr.Code != want && want != 0 {
				t.Errorf("error %v carries status %d, want %d", err, lerr.Code, want)
			}
			if n := srv.Counts().ByEndpoint["GET /lke/clusters"]; n != 1+linodetest.ClientRetryCount {
				t.Errorf("%d cluster lists sent, want 1 + ClientRetryCount = %d", n, 1+linodetest.ClientRetryCount)
			}
		})
	}
}
