package contract

import (
	"sync"
	"testing"
	"time"
)

func TestLoadIsMemoizedAndShared(t *testing.T) {
	t.Parallel()
	path := specPath(t)
	const callers = 8
	got := make([]*Validator, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			v, err := Load(path)
			if err != nil {
				t.Errorf("Load: %v", err)
			}
			got[i] = v
		})
	}
	wg.Wait()
	for i, v := range got {
		if v == nil || v != got[0] {
			t.Fatalf("caller %d got validator %p, caller 0 got %p: concurrent callers must share one load", i, v, got[0])
		}
	}
	start := time.Now()
	again, err := Load(path)
	if err != nil || again != got[0] {
		t.Fatalf("second Load = %p, %v; want the memoized %p", again, err, got[0])
	}
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Errorf("memoized Load took %v", d)
	}
	if n := got[0].Operations(); n < 390 {
		t.Errorf("validator knows %d operations, want the spec's ~390 and the overlay's", n)
	}
}

func TestLoadMissingFile(t *testing.T) {
	t.Parallel()
	_, err := Load(t.TempDir() + "/openapi.yaml")
	if err == nil {
		t.Fatal("Load of a missing file succeeded")
	}
}
