package rollout_test

import (
	"io"
	"testing"
	"time"

	"github.com/org/platform/pkg/linodetest"
	"github.com/org/platform/pkg/rollout"
	"github.com/org/platform/pkg/spec"
)

// BenchmarkPlanNoOpFourEnvironments plans the four standard environments
// of a converged world, reporting the Linode requests one plan costs
// (budget: 12) beside its wall time.
func BenchmarkPlanNoOpFourEnvironments(b *testing.B) {
	srv, _, deps := sim(b, linodetest.WithValidation(false))
	deps.Logger = nil
	envs := standard(b)
	if _, err := rollout.Ensure(b.Context(), deps, envs, rollout.WithSimulationSelfApproval()); err != nil {
		b.Fatal(err)
	}
	var requests int
	for b.Loop() {
		srv.ResetCounts()
		plan, err := rollout.Plan(b.Context(), deps, envs...)
		if err != nil || !plan.Empty() {
			b.Fatalf("plan: %v, empty %v", err, plan.Empty())
		}
		requests = srv.Counts().Reading + srv.Counts().Mutating
	}
	b.ReportMetric(float64(requests), "requests/op")
}

// BenchmarkProvisionFourEnvironments provisions the four standard
// environments together and each alone, on fresh simulators, and reports
// the model time of the four together against the slowest alone (the
// environments run concurrently: the ratio stays near 1).
func BenchmarkProvisionFourEnvironments(b *testing.B) {
	provision := func(envs []spec.Environment) time.Duration {
		srv, _, deps := sim(b, linodetest.WithValidation(false))
		deps.Logger = nil
		start := srv.Clock().Now()
		if _, err := rollout.Ensure(b.Context(), deps, envs, rollout.WithSimulationSelfApproval()); err != nil {
			b.Fatal(err)
		}
		return srv.Clock().Now().Sub(start)
	}
	var together, slowest time.Duration
	for b.Loop() {
		slowest = 0
		for _, env := range standard(b) {
			slowest = max(slowest, provision([]spec.Environment{env}))
		}
		together = provision(standard(b))
	}
	b.ReportMetric(together.Seconds(), "model-s")
	b.ReportMetric(together.Seconds()/slowest.Seconds(), "ratio")
}

// BenchmarkRenderFourEnvironments renders a fresh world's plan of the four
// standard environments for a reviewer.
func BenchmarkRenderFourEnvironments(b *testing.B) {
	_, _, deps := sim(b, linodetest.WithValidation(false))
	deps.Logger = nil
	plan, err := rollout.Plan(b.Context(), deps, standard(b)...)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := plan.Human(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
