package linodetest

import (
	"testing"
	"time"

	"github.com/linode/linodego"
)

// BenchmarkGet measures simple GETs per second through linodego, with
// contract validation off.
func BenchmarkGet(b *testing.B) {
	srv, client := New(b, WithValidation(false), WithRequestLogLimit(10_000))
	c, err := client.CreateLKECluster(b.Context(), linodego.LKEClusterCreateOptions{
		Label: "bench", Region: "us-ord", K8sVersion: "1.33",
		NodePools: []linodego.LKENodePoolCreateOptions{{Count: 3, Type: "g6-standard-2"}},
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		if _, err := client.GetLKECluster(b.Context(), c.ID); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
	_ = srv
}
