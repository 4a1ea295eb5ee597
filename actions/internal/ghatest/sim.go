package ghatest

import (
	"context"
	"strings"
	"sync"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/org/platform/actions/internal/gha"
	"github.com/org/platform/internal/local"
	"github.com/org/platform/pkg/linodetest"
	"github.com/org/platform/pkg/rollout"
)

// Sim is a Linode simulator the actions connect to in place of the
// embedded default, without a Kubernetes layer.
type Sim struct {
	Srv  *linodetest.Server
	Deps rollout.Deps

	mu     sync.Mutex
	tokens []string
}

// NewSim starts a simulator for the test.
func NewSim(t testing.TB) *Sim {
	srv, client := linodetest.New(t)
	return &Sim{Srv: srv, Deps: rollout.Deps{
		Linode: client, Clock: srv.Clock(), Logger: zaptest.NewLogger(t),
		KubernetesSkipped: "the actions' tests run the Linode layer only",
		BaselineSkipped:   "the actions' tests run the Linode layer only",
	}}
}

// Connect returns a gha.ConnectFunc on the simulator. When the token it is
// given is not empty, it checks that e has already printed
// ::add-mask::<token>: the token is masked before its first use.
func (s *Sim) Connect(t testing.TB, e *Env) gha.ConnectFunc {
	return func(_ context.Context, token string, _ *zap.Logger) (*local.Env, error) {
		s.mu.Lock()
		s.tokens = append(s.tokens, token)
		s.mu.Unlock()
		if token != "" && !strings.Contains(e.Stdout.String(), "::add-mask::"+token+"\n") {
			t.Errorf("connect was given the token before ::add-mask:: printed it; stdout so far:\n%s", e.Stdout.String())
		}
		return &local.Env{Deps: s.Deps, Where: "the test's simulator"}, nil
	}
}

// Tokens are the tokens Connect was given, in order.
func (s *Sim) Tokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.tokens...)
}
