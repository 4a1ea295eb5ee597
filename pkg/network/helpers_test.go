package network_test

import (
	"testing"
	"time"

	"github.com/linode/linodego"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/org/platform/pkg/linodetest"
	"github.com/org/platform/pkg/network"
	"github.com/org/platform/pkg/spec"
)

// sim starts a Linode simulator (contract validation on) and returns it
// with options that make this package share its clock and log to the test.
func sim(t *testing.T, opts ...linodetest.Option) (*linodetest.Server, *linodego.Client, []network.Option) {
	t.Helper()
	srv, client := linodetest.New(t, opts...)
	return srv, client, []network.Option{
		network.WithClock(srv.Clock()),
		network.WithLogger(zaptest.NewLogger(t, zaptest.Level(zap.InfoLevel))),
		network.WithRetryInterval(100 * time.Millisecond), // model time: 0.1 ms real
	}
}

func mustDefault(t testing.TB, name string) spec.Environment {
	t.Helper()
	env, err := spec.Default(name)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// mutating returns the simulator's mutating requests as "METHOD /route",
// skipping the first since requests of its log.
func mutating(srv *linodetest.Server, since ...int) []string {
	var out []string
	reqs := srv.Requests()
	if len(since) > 0 {
		reqs = reqs[since[0]:]
	}
	for _, r := range reqs {
		switch r.Method {
		case "POST", "PUT", "DELETE", "PATCH":
			out = append(out, r.Method+" "+r.Route)
		}
	}
	return out
}

// firewallsLabelled returns the simulator's firewalls with label.
func firewallsLabelled(st *linodetest.State, label string) []*linodetest.Firewall {
	var out []*linodetest.Firewall
	for _, f := range st.Firewalls {
		if f.Label == label {
			out = append(out, f)
		}
	}
	return out
}

// vpcsLabelled returns the simulator's VPCs with label.
func vpcsLabelled(st *linodetest.State, label string) []*linodetest.VPC {
	var out []*linodetest.VPC
	for _, v := range st.VPCs {
		if v.Label == label {
			out = append(out, v)
		}
	}
	return out
}
