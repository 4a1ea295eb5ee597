package gha

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/sethvargo/go-githubactions"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/org/platform/internal/local"
	"github.com/org/platform/pkg/rollout"
)

// ConnectFunc returns what an action's run talks to: with a token, the
// Linode API of that token; without, whatever the embedded default gives.
// Tests pass one that returns the simulator's Deps.
type ConnectFunc func(ctx context.Context, token string, log *zap.Logger) (*local.Env, error)

// Connect is the embedded default behind the linode-token input: with a
// token it is put in LINODE_TOKEN, where internal/local reads it, and the
// run is on the real Linode API; without one, LINODE_TOKEN from the
// workflow's environment is used if set, else the in-process simulator.
func Connect(ctx context.Context, token string, log *zap.Logger) (*local.Env, error) {
	if token != "" {
		// internal/local reads the token from the process environment;
		// setting it here keeps one way in. It is masked already (Read).
		if err := os.Setenv(local.TokenEnv, token); err != nil {
			return nil, fmt.Errorf("set %s: %w", local.TokenEnv, err)
		}
	}
	return local.Connect(ctx, log)
}

// Phase runs fn inside a log group named title (::group:: … ::endgroup::),
// closing the group whatever fn returns.
func Phase(a *githubactions.Action, title string, fn func() error) error {
	a.Group(title)
	defer a.EndGroup()
	return fn()
}

// Annotate prints an ::error:: annotation for err: one per environment
// error when err joins several (rollout's errors name their environment),
// so that each shows on the run's page on its own. It returns err.
func Annotate(a *githubactions.Action, err error) error {
	if err == nil {
		return nil
	}
	for _, leaf := range leaves(err) {
		var stale *rollout.StaleError
		if errors.As(leaf, &stale) {
			a.Errorf("environment %s: the saved plan is stale, plan again: moved since it was made: %s", stale.Environment, strings.Join(stale.Moved, "; "))
			continue
		}
		a.Errorf("%s", leaf.Error())
	}
	return err
}

// leaves splits errors.Join'ed errors, at any depth, into their parts.
func leaves(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, leaves(e)...)
		}
		return out
	}
	return []error{err}
}

// NewLogger logs human-readable lines at info level to w (stderr in the
// actions: stdout carries the workflow commands).
func NewLogger(w io.Writer) *zap.Logger {
	enc := zap.NewDevelopmentEncoderConfig()
	core := zapcore.NewCore(zapcore.NewConsoleEncoder(enc), zapcore.Lock(zapcore.AddSync(w)), zap.InfoLevel)
	return zap.New(core)
}

// RunFunc is an action's body: inputs from a's environment, outputs and
// the step summary through a's files, workflow commands on a's writer;
// every error it returns has been annotated.
type RunFunc func(ctx context.Context, a *githubactions.Action, connect ConnectFunc, log *zap.Logger) error

// Main runs an action's body as its main does — the process environment,
// stdout for workflow commands, logs on stderr, Connect, cancelled on
// SIGINT or SIGTERM — and returns the exit code: 0, or 1 after an error
// (which run has annotated).
func Main(run RunFunc) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := NewLogger(os.Stderr)
	defer func() { _ = log.Sync() }()
	if err := run(ctx, githubactions.New(), Connect, log); err != nil {
		return 1
	}
	return 0
}
