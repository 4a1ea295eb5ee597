package cluster_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/org/platform/pkg/cluster"
	"github.com/org/platform/pkg/linodetest"
	"github.com/org/platform/pkg/spec"
)

// BenchmarkEnsureNoop measures an EnsureCluster that finds nothing to do:
// time and requests per run (contract validation is off, so the time is
// this package's and the loopback's, not the validator's).
func BenchmarkEnsureNoop(b *testing.B) {
	srv, client := linodetest.New(b, linodetest.WithValidation(false))
	env := mustDefault(b, spec.Production)
	opts := []cluster.Option{cluster.WithClock(srv.Clock())}
	if _, err := cluster.EnsureCluster(b.Context(), client, env, cluster.Placement{}, opts...); err != nil {
		b.Fatal(err)
	}
	srv.ResetCounts()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res, err := cluster.EnsureCluster(b.Context(), client, env, cluster.Placement{}, opts...)
		if err != nil || res.Changed() {
			b.Fatalf("no-op EnsureCluster: %v, %v", err, res.String())
		}
	}
	b.StopTimer()
	n := srv.Counts()
	b.ReportMetric(float64(n.Mutating+n.Reading+n.Other)/float64(b.N), "requests/op")
	b.ReportMetric(float64(n.Mutating)/float64(b.N), "writes/op")
}

// createFourTimeScale runs BenchmarkCreateFour's model clock 200 times
// faster than real time: a cluster takes about 1.4 s, and a millisecond of
// scheduling delay on a busy machine is only 0.2 s of model time.
const createFourTimeScale = 200

// BenchmarkCreateFour creates the four standard environments concurrently
// in one simulator under the default life-cycle timings, and reports the
// requests that took and its model time relative to the slowest of the
// four created alone (each in a simulator of its own, same seed).
func BenchmarkCreateFour(b *testing.B) {
	envs := make([]spec.Environment, 0, 4)
	for _, name := range spec.StandardNames() {
		envs = append(envs, mustDefault(b, name))
	}
	create := func(ctx context.Context, envs []spec.Environment) (time.Duration, linodetest.Counts) {
		srv, client := linodetest.New(b, linodetest.WithValidation(false), linodetest.WithTimeScale(createFourTimeScale))
		start := srv.Clock().Now()
		var wg sync.WaitGroup
		for _, env := range envs {
			wg.Go(func() {
				if _, err := cluster.EnsureCluster(ctx, client, env, cluster.Placement{}, cluster.WithClock(srv.Clock())); err != nil {
					b.Error(err)
				}
			})
		}
		wg.Wait()
		d := srv.Clock().Now().Sub(start)
		srv.Close()
		return d, srv.Counts()
	}
	var requests, ratio, together float64
	for b.Loop() {
		b.StopTimer()
		var (
			mu      sync.Mutex
			slowest time.Duration
			wg      sync.WaitGroup
		)
		for _, env := range envs {
			wg.Go(func() {
				d, _ := create(b.Context(), []spec.Environment{env})
				mu.Lock()
				slowest = max(slowest, d)
				mu.Unlock()
			})
		}
		wg.Wait()
		b.StartTimer()
		d, n := create(b.Context(), envs)
		requests += float64(n.Mutating + n.Reading + n.Other)
		ratio += float64(d) / float64(slowest)
		together += d.Seconds()
	}
	b.ReportMetric(requests/float64(b.N), "requests/op")
	b.ReportMetric(ratio/float64(b.N), "x-slowest-alone")
	b.ReportMetric(together/float64(b.N), "model-s/op")
}
