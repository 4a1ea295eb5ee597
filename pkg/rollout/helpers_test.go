package rollout_test

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/linode/linodego"
	"go.uber.org/zap/zaptest"

	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/linodetest"
	"github.com/org/platform/pkg/rollout"
	"github.com/org/platform/pkg/spec"
)

// sim starts a simulator and returns Deps for it without a Kubernetes
// layer (unit tests; the integration tests add real API servers).
func sim(t testing.TB, opts ...linodetest.Option) (*linodetest.Server, *linodego.Client, rollout.Deps) {
	t.Helper()
	srv, client := linodetest.New(t, opts...)
	return srv, client, rollout.Deps{
		Linode:            client,
		Clock:             srv.Clock(),
		Logger:            zaptest.NewLogger(t),
		KubernetesSkipped: "this unit test runs the Linode layer only",
		BaselineSkipped:   "this unit test runs the Linode layer only",
	}
}

// standard returns the four standard environments' specs.
func standard(t testing.TB) []spec.Environment {
	t.Helper()
	var envs []spec.Environment
	for _, name := range spec.StandardNames() {
		env, err := spec.Default(name)
		if err != nil {
			t.Fatal(err)
		}
		envs = append(envs, env)
	}
	return envs
}

func find(t testing.TB, envs []spec.Environment, name string) *spec.Environment {
	t.Helper()
	for i := range envs {
		if envs[i].Name == name {
			return &envs[i]
		}
	}
	t.Fatalf("no environment %q", name)
	return nil
}

// roundTrip writes the plan as JSON and reads it back, as a workflow
// artifact travels from plan to apply.
func roundTrip(t testing.TB, p rollout.Artifact) rollout.Artifact {
	t.Helper()
	var b bytes.Buffer
	if err := p.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	back, err := rollout.ReadPlan(&b)
	if err != nil {
		t.Fatalf("read the saved plan back: %v", err)
	}
	return back
}

// writesOf lists the simulator's mutating requests from index first on.
func writesOf(srv *linodetest.Server, first int) []linodetest.RequestRecord {
	var out []linodetest.RequestRecord
	for _, r := range srv.Requests()[first:] {
		if r.Method != "GET" {
			out = append(out, r)
		}
	}
	return out
}

// linodeRoutes maps the Linode step kinds to the write requests each may
// send.
var linodeRoutes = map[string][]string{
	"firewall.create":    {"POST /networking/firewalls"},
	"firewall.update":    {"PUT /networking/firewalls/{firewallId}"},
	"firewall.rules":     {"PUT /networking/firewalls/{firewallId}/rules"},
	"firewall.delete":    {"DELETE /networking/firewalls/{firewallId}"},
	"vpc.create":         {"POST /vpcs"},
	"vpc.update":         {"PUT /vpcs/{vpcId}"},
	"vpc.delete":         {"DELETE /vpcs/{vpcId}"},
	"vpc.subnet.create":  {"POST /vpcs/{vpcId}/subnets"},
	"vpc.subnet.update":  {"PUT /vpcs/{vpcId}/subnets/{vpcSubnetId}"},
	"vpc.subnet.delete":  {"DELETE /vpcs/{vpcId}/subnets/{vpcSubnetId}"},
	"lke.cluster.create": {"POST /lke/clusters"},
	"lke.cluster.update": {"PUT /lke/clusters/{clusterId}"},
	"lke.acl.update":     {"PUT /lke/clusters/{clusterId}/control_plane_acl"},
	"lke.pool.create":    {"POST /lke/clusters/{clusterId}/pools"},
	"lke.pool.update":    {"PUT /lke/clusters/{clusterId}/pools/{poolId}"},
	"lke.pool.delete":    {"DELETE /lke/clusters/{clusterId}/pools/{poolId}"},
	"lke.pool.replace":   {"POST /lke/clusters/{clusterId}/pools", "DELETE /lke/clusters/{clusterId}/pools/{poolId}"},
	"lke.pool.retire":    {"DELETE /lke/clusters/{clusterId}/pools/{poolId}"},
	"lke.upgrade":        {"PUT /lke/clusters/{clusterId}", "POST /lke/clusters/{clusterId}/recycle"},
}

// assertWritesAreSteps fails the test for every write that no step of p
// asks for, and for more writes of a kind than the plan has steps sending
// it.
func assertWritesAreSteps(t testing.TB, p rollout.Artifact, writes []linodetest.RequestRecord) {
	t.Helper()
	budget := map[string]int{}
	for _, e := range p.Environments {
		for _, s := range e.Steps {
			for _, r := range linodeRoutes[s.Kind] {
				budget[r]++
			}
		}
	}
	for _, w := range writes {
		key := w.Method + " " + w.Route
		if budget[key] == 0 {
			t.Errorf("apply sent %s %s, which no step of the plan asks for", w.Method, w.Path)
			continue
		}
		budget[key]--
	}
}

// objects lists the changed objects of a result as "op object", sorted.
func objects(r change.Result) []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range r.Changes {
		if c.Op == change.Unchanged {
			continue
		}
		k := fmt.Sprintf("%s %s", c.Op, c.Object)
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
