package rollout_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/linode/linodego"

	"github.com/org/platform/pkg/change"
	"github.com/org/platform/pkg/linodetest"
	"github.com/org/platform/pkg/rollout"
	"github.com/org/platform/pkg/spec"
)

// MaxNoOpPlanRequests is the request budget of a no-op plan of the four
// standard environments' Linode layers: one filtered list each of
// clusters, firewalls and VPCs, and per cluster its pools and its ACL.
const MaxNoOpPlanRequests = 12

func TestNoOpPlanOfFourEnvironmentsFitsTheBudget(t *testing.T) {
	t.Parallel()
	srv, _, deps := sim(t)
	envs := standard(t)
	if _, err := rollout.Ensure(t.Context(), deps, envs, rollout.WithSimulationSelfApproval()); err != nil {
		t.Fatal(err)
	}
	srv.ResetCounts()
	plan, err := rollout.Plan(t.Context(), deps, envs...)
	if err != nil {
		t.Fatal(err)
	}
	n := srv.Counts()
	if !plan.Empty() {
		t.Errorf("a converged world plans changes:\n%s", plan)
	}
	if n.Mutating != 0 || n.Reading > MaxNoOpPlanRequests {
		t.Errorf("no-op plan of four environments: %d reads, %d writes (%v); want ≤ %d reads and no write", n.Reading, n.Mutating, n.ByEndpoint, MaxNoOpPlanRequests)
	}
	t.Logf("no-op plan of four environments: %d Linode requests", n.Reading)
}

// TestSavedPlanIsAppliedExactly: a fresh world's plan, written as JSON and
// read back, shows the ids still to be made as (known after apply), and
// applying it sends exactly its steps' writes and reaches a world whose
// next plan is empty.
func TestSavedPlanIsAppliedExactly(t *testing.T) {
	t.Parallel()
	srv, _, deps := sim(t)
	envs := standard(t)
	plan, err := rollout.Plan(t.Context(), deps, envs...)
	if err != nil {
		t.Fatal(err)
	}
	human := plan.String()
	for _, want := range []string{"firewall (known after apply)", "in VPC (known after apply) subnet (known after apply)", "18 to add"} {
		if !strings.Contains(human, want) {
			t.Errorf("the plan does not show %q:\n%s", want, human)
		}
	}
	if srv.Counts().Mutating != 0 {
		t.Fatalf("Plan wrote %d times", srv.Counts().Mutating)
	}
	saved := roundTrip(t, plan)
	first := len(srv.Requests())
	res, err := rollout.Apply(t.Context(), deps, saved, rollout.WithApproval(saved.Digest))
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	assertWritesAreSteps(t, saved, writesOf(srv, first))
	for _, e := range res.Environments {
		if e.ClusterID == 0 || len(e.Changes) == 0 {
			t.Errorf("%s: cluster %d, %d changes", e.Name, e.ClusterID, len(e.Changes))
		}
	}
	if got, want := objects(res.Environments[0].Result), objects(plan.Environments[0].Result()); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("applied %v, planned %v", got, want)
	}
	again, err := rollout.Plan(t.Context(), deps, envs...)
	if err != nil || !again.Empty() {
		t.Errorf("plan after apply: %v\n%s", err, again)
	}
	// The cluster's pools are attached to the firewall the plan created.
	for _, c := range srv.Dump().Clusters {
		for _, p := range c.Pools {
			if p.FirewallID == 0 {
				t.Errorf("cluster %s pool %d has no firewall", c.Label, p.ID)
			}
		}
		if c.VPCID == 0 || c.SubnetID == 0 {
			t.Errorf("cluster %s is not in its VPC", c.Label)
		}
	}
}

// TestStalePlanIsRefused: an out-of-band change to anything a saved plan
// read makes Apply refuse it, naming what moved, with 0 writes.
func TestStalePlanIsRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		moved string
		oob   func(t *testing.T, srv *linodetest.Server, client *linodego.Client)
	}{
		{"firewall tags", "firewall/platform-staging", func(t *testing.T, srv *linodetest.Server, _ *linodego.Client) {
			srv.Mutate(func(st *linodetest.State) {
				for _, f := range st.Firewalls {
					if f.Label == "platform-staging" {
						f.Tags = append(f.Tags, "rogue")
					}
				}
			})
		}},
		{"cluster tags", "lke/platform-staging tags", func(t *testing.T, srv *linodetest.Server, _ *linodego.Client) {
			srv.Mutate(func(st *linodetest.State) {
				for _, c := range st.Clusters {
					if c.Label == "platform-staging" {
						c.Tags = append(c.Tags, "rogue")
					}
				}
			})
		}},
		{"pool labels", "lke/platform-staging/pool/general", func(t *testing.T, srv *linodetest.Server, _ *linodego.Client) {
			srv.Mutate(func(st *linodetest.State) {
				for _, c := range st.Clusters {
					if c.Label == "platform-staging" {
						for _, p := range c.Pools {
							if strings.Contains(strings.Join(p.Tags, ","), "pool=general") {
								p.Labels = map[string]string{"rogue": "x"}
							}
						}
					}
				}
			})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, client, deps := sim(t)
			envs := []spec.Environment{*find(t, standard(t), spec.Staging)}
			if _, err := rollout.Ensure(t.Context(), deps, envs); err != nil {
				t.Fatal(err)
			}
			envs[0].Cluster.Tags = append(envs[0].Cluster.Tags, "reviewed")
			plan, err := rollout.Plan(t.Context(), deps, envs...)
			if err != nil || plan.Empty() {
				t.Fatalf("plan: %v, empty %v", err, plan.Empty())
			}
			saved := roundTrip(t, plan)
			tc.oob(t, srv, client)
			srv.ResetCounts()
			_, err = rollout.Apply(t.Context(), deps, saved)
			var stale *rollout.StaleError
			if !errors.As(err, &stale) || !errors.Is(err, rollout.ErrStale) || !strings.Contains(err.Error(), tc.moved) {
				t.Fatalf("Apply of a stale plan: %v; want a StaleError naming %q", err, tc.moved)
			}
			if n := srv.Counts().Mutating; n != 0 {
				t.Errorf("a stale plan sent %d writes", n)
			}
		})
	}
}

// TestNodeStatusDoesNotMakeAPlanStale: what moves on its own — nodes turning
// ready, an autoscaler's count — is not in a plan's base.
func TestNodeStatusDoesNotMakeAPlanStale(t *testing.T) {
	t.Parallel()
	srv, _, deps := sim(t)
	envs := []spec.Environment{*find(t, standard(t), spec.Development)}
	auto := &envs[0].Cluster.NodePools[0]
	auto.Autoscaler = &spec.Autoscaler{Min: 1, Max: 5}
	if _, err := rollout.Ensure(t.Context(), deps, envs); err != nil {
		t.Fatal(err)
	}
	envs[0].Cluster.Tags = append(envs[0].Cluster.Tags, "reviewed")
	plan, err := rollout.Plan(t.Context(), deps, envs...)
	if err != nil {
		t.Fatal(err)
	}
	c := srv.Dump().Clusters
	for id, cl := range c {
		for _, p := range cl.Pools {
			if strings.Contains(strings.Join(p.Tags, ","), "pool="+auto.Name) {
				if err := srv.SetPoolCount(id, p.ID, p.Count+2); err != nil { // the autoscaler grows the pool
					t.Fatal(err)
				}
			}
		}
	}
	if _, err := rollout.Apply(t.Context(), deps, roundTrip(t, plan)); err != nil {
		t.Errorf("Apply after the autoscaler moved: %v; want it applied", err)
	}
}

// TestGitOpsOnlyEnvironmentNeedsTheApprovedDigest: production refuses an
// unapproved or wrongly approved plan with 0 writes, and applies the same
// plan once its digest is approved.
func TestGitOpsOnlyEnvironmentNeedsTheApprovedDigest(t *testing.T) {
	t.Parallel()
	srv, _, deps := sim(t)
	envs := []spec.Environment{*find(t, standard(t), spec.Production)}
	if _, err := rollout.Ensure(t.Context(), deps, envs); !errors.Is(err, change.ErrGitOpsOnly) {
		t.Fatalf("Ensure of production without approval: %v, want change.ErrGitOpsOnly", err)
	}
	if n := srv.Counts().Mutating; n != 0 {
		t.Fatalf("an unapproved Ensure sent %d writes", n)
	}
	plan, err := rollout.Plan(t.Context(), deps, envs...)
	if err != nil {
		t.Fatal(err)
	}
	saved := roundTrip(t, plan)
	for _, approval := range []string{"", strings.Repeat("0", 64)} {
		if _, err := rollout.Apply(t.Context(), deps, saved, rollout.WithApproval(approval)); !errors.Is(err, change.ErrApprovalRequired) {
			t.Errorf("approval %q: %v, want change.ErrApprovalRequired", approval, err)
		}
	}
	if n := srv.Counts().Mutating; n != 0 {
		t.Fatalf("unapproved plans sent %d writes", n)
	}
	if _, err := rollout.Apply(t.Context(), deps, saved, rollout.WithApproval(plan.Digest)); err != nil {
		t.Fatalf("approved plan: %v", err)
	}
	if srv.Counts().Mutating == 0 {
		t.Error("the approved plan wrote nothing")
	}
}

// TestBrokenPlanFilesAreRefused: a plan file that does not parse, has
// another schema version, or was altered after it was written is refused
// with a clear error, and nothing is applied.
func TestBrokenPlanFilesAreRefused(t *testing.T) {
	t.Parallel()
	srv, _, deps := sim(t)
	envs := []spec.Environment{*find(t, standard(t), spec.Staging)}
	plan, err := rollout.Plan(t.Context(), deps, envs...)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := plan.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	good := b.String()
	edit := func(fn func(m map[string]any)) string {
		var m map[string]any
		if err := json.Unmarshal([]byte(good), &m); err != nil {
			t.Fatal(err)
		}
		fn(m)
		out, _ := json.Marshal(m)
		return string(out)
	}
	firstStep := func(m map[string]any) map[string]any {
		return m["environments"].([]any)[0].(map[string]any)["steps"].([]any)[0].(map[string]any)
	}
	for _, tc := range []struct {
		name, file, want string
	}{
		{"not JSON", "{plan", "not JSON"},
		{"another schema version", edit(func(m map[string]any) { m["schemaVersion"] = 2 }), "schemaVersion 2"},
		{"no schema version", edit(func(m map[string]any) { delete(m, "schemaVersion") }), "schemaVersion none"},
		{"a step altered", edit(func(m map[string]any) { firstStep(m)["object"] = "firewall/elsewhere" }), "altered"},
		{"an action altered", edit(func(m map[string]any) {
			firstStep(m)["action"].(map[string]any)["label"] = "evil"
		}), "altered"},
		{"the spec altered", edit(func(m map[string]any) {
			m["environments"].([]any)[0].(map[string]any)["spec"].(map[string]any)["cluster"].(map[string]any)["region"] = "eu-west"
		}), "spec"},
		{"the base altered", edit(func(m map[string]any) {
			m["environments"].([]any)[0].(map[string]any)["base"].(map[string]any)["made up"] = "x"
		}), "base"},
		{"an unknown member", edit(func(m map[string]any) { m["extra"] = true }), "unknown field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := rollout.ReadPlan(strings.NewReader(tc.file))
			if !errors.Is(err, rollout.ErrInvalidPlan) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ReadPlan: %v; want ErrInvalidPlan saying %q", err, tc.want)
			}
		})
	}
	// Altered in memory and handed to Apply directly: refused too.
	tampered := plan
	tampered.Environments = append([]rollout.EnvironmentPlan(nil), plan.Environments...)
	tampered.Environments[0].Steps = tampered.Environments[0].Steps[1:]
	srv.ResetCounts()
	if _, err := rollout.Apply(t.Context(), deps, tampered); !errors.Is(err, rollout.ErrInvalidPlan) {
		t.Errorf("Apply of a tampered plan: %v", err)
	}
	if n := srv.Counts(); n.Mutating+n.Reading != 0 {
		t.Errorf("a tampered plan sent %d requests", n.Mutating+n.Reading)
	}
}

// TestInvalidSpecAnywhereSendsNothing: every section of every environment
// is validated before the first request.
func TestInvalidSpecAnywhereSendsNothing(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		break_ func(envs []spec.Environment)
		field  string
	}{
		{"negative pool count", func(envs []spec.Environment) { envs[3].Cluster.NodePools[0].Count = -1 }, "count"},
		{"bad namespace name", func(envs []spec.Environment) { envs[2].Namespaces[0].Name = "Bad_Name" }, "namespaces"},
		{"bad cluster label", func(envs []spec.Environment) { envs[1].Cluster.Label = strings.Repeat("x", 40) }, "cluster.label"},
		{"bad subnet", func(envs []spec.Environment) { envs[0].Network.VPC.Subnets[0].IPv4 = "10.0.0.0/99" }, "network.vpc.subnets"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, _, deps := sim(t)
			envs := standard(t)
			tc.break_(envs)
			_, perr := rollout.Plan(t.Context(), deps, envs...)
			_, eerr := rollout.Ensure(t.Context(), deps, envs, rollout.WithSimulationSelfApproval())
			for _, err := range []error{perr, eerr} {
				if !errors.Is(err, spec.ErrInvalid) || !strings.Contains(err.Error(), tc.field) {
					t.Errorf("err = %v; want spec.ErrInvalid naming %q", err, tc.field)
				}
			}
			if n := srv.Counts(); n.Mutating+n.Reading != 0 {
				t.Errorf("an invalid spec sent %d requests", n.Mutating+n.Reading)
			}
		})
	}
}

// TestOneEnvironmentFailingStopsNoOther: staging's cluster create fails
// for good; the other three converge and the error names staging.
func TestOneEnvironmentFailingStopsNoOther(t *testing.T) {
	t.Parallel()
	_, _, deps := sim(t)
	envs := standard(t)
	// 1.28 is a version the API still knows but no longer offers: staging's
	// cluster create is refused for good, after its firewall and VPC exist.
	find(t, envs, spec.Staging).Cluster.KubernetesVersion = "1.28"
	res, err := rollout.Ensure(t.Context(), deps, envs, rollout.WithSimulationSelfApproval())
	var ee *rollout.EnvironmentError
	if !errors.As(err, &ee) || ee.Environment != spec.Staging {
		t.Fatalf("err = %v; want an EnvironmentError naming staging", err)
	}
	for _, e := range res.Environments {
		if e.Name == spec.Staging {
			if e.Err == nil {
				t.Error("staging reported success")
			}
			continue
		}
		if e.Err != nil || e.ClusterID == 0 {
			t.Errorf("%s: %v (cluster %d); want converged", e.Name, e.Err, e.ClusterID)
		}
	}
	others := []spec.Environment{}
	for _, e := range envs {
		if e.Name != spec.Staging {
			others = append(others, e)
		}
	}
	if p, err := rollout.Plan(t.Context(), deps, others...); err != nil || !p.Empty() {
		t.Errorf("the other environments did not converge: %v\n%s", err, p)
	}
}

// TestEnvironmentsWithTheirOwnClientAreObservedApart: environments given
// their own Linode client (another account) are observed with that client
// only, and share nothing with the others.
func TestEnvironmentsWithTheirOwnClientAreObservedApart(t *testing.T) {
	t.Parallel()
	shared, _, deps := sim(t)
	own, ownClient := linodetest.New(t, linodetest.WithClock(shared.Clock()))
	deps.LinodeFor = map[string]rollout.LinodeAPI{spec.Production: ownClient}
	envs := standard(t)
	if _, err := rollout.Ensure(t.Context(), deps, envs, rollout.WithSimulationSelfApproval()); err != nil {
		t.Fatal(err)
	}
	for _, c := range shared.Dump().Clusters {
		if c.Label == "platform-production" {
			t.Error("production's cluster was made in the shared account")
		}
	}
	if n := len(own.Dump().Clusters); n != 1 {
		t.Errorf("production's own account holds %d clusters, want 1", n)
	}
	shared.ResetCounts()
	own.ResetCounts()
	if p, err := rollout.Plan(t.Context(), deps, envs...); err != nil || !p.Empty() {
		t.Fatalf("plan: %v\n%s", err, p)
	}
	// Three environments in one observation, production in its own.
	if n, m := shared.Counts().Reading, own.Counts().Reading; n > 9 || m > 5 {
		t.Errorf("observations: %d requests to the shared account, %d to production's; want ≤ 9 and ≤ 5", n, m)
	}
	for _, r := range own.Requests() {
		if strings.Contains(r.Filter, "platform-staging") {
			t.Errorf("production's client was asked about staging: %s %s", r.Path, r.Filter)
		}
	}
}
