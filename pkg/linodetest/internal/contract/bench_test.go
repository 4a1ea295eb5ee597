package contract

import (
	"sync"
	"testing"
)

// Responses validated from many goroutines at once give the same verdicts as
// one at a time (run with -race to check the shared schemas are only read).
func TestValidateResponseConcurrently(t *testing.T) {
	t.Parallel()
	v := validator(t)
	bad := []byte(`{"id":"12345"}`)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				if err := v.ValidateResponse("GET", "/v4beta/lke/clusters/12345/pools/456", 200, jsonHeader(), []byte(poolGet)); err != nil {
					t.Errorf("goroutine %d, round %d: valid pool rejected: %v", g, i, err)
					return
				}
				if err := v.ValidateResponse("GET", "/v4/networking/firewalls/789", 200, jsonHeader(), []byte(firewall)); err != nil {
					t.Errorf("goroutine %d, round %d: valid firewall rejected: %v", g, i, err)
					return
				}
				if err := v.ValidateResponse("GET", "/v4/lke/clusters/12345", 200, jsonHeader(), bad); err == nil {
					t.Errorf("goroutine %d, round %d: id as a string accepted", g, i)
					return
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkLoad(b *testing.B) {
	path := specPath(b)
	for b.Loop() {
		if _, err := load(path, overlayOps(b)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidateResponse(b *testing.B) {
	v := validator(b)
	pools := list(poolListItem, poolListItem, poolListItem, poolListItem, poolListItem)
	cases := []struct {
		name, method, path string
		status             int
		body               string
	}{
		{"cluster GET", "GET", "/v4beta/lke/clusters/12345", 200, clusterGet},
		{"node pool GET", "GET", "/v4beta/lke/clusters/12345/pools/456", 200, poolGet},
		{"node pool list of 5", "GET", "/v4beta/lke/clusters/12345/pools?page=1", 200, pools},
		{"firewall GET", "GET", "/v4/networking/firewalls/789", 200, firewall},
		{"error 404", "GET", "/v4/lke/clusters/999", 404, `{"errors":[{"reason":"Not found"}]}`},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			body, h := []byte(c.body), jsonHeader()
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if err := v.ValidateResponse(c.method, c.path, c.status, h, body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("parallel mix", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				c := cases[i%len(cases)]
				i++
				if err := v.ValidateResponse(c.method, c.path, c.status, jsonHeader(), []byte(c.body)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
