package linodetest

import (
	"math"
	"sync"
	"time"
)

// rateLimiter keeps two fixed-window buckets in model time: collection GETs
// and everything else. Windows are aligned to multiples of the window length
// since the Unix epoch, like a per-minute budget.
type rateLimiter struct {
	mu     sync.Mutex
	limits RateLimits
	list   bucket
	other  bucket
}

type bucket struct {
	windowStart time.Time
	used        int
}

type rateDecision struct {
	allowed    bool
	limit      int
	remaining  int
	reset      int64 // epoch seconds, model time
	retryAfter int   // seconds, model time, ≥ 1
}

func newRateLimiter(l RateLimits) *rateLimiter {
	if l.Window <= 0 {
		l.Window = time.Minute
	}
	return &rateLimiter{limits: l}
}

func (rl *rateLimiter) take(list bool, now time.Time) rateDecision {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	b, limit := &rl.other, rl.limits.Other
	if list {
		b, limit = &rl.list, rl.limits.CollectionGET
	}
	start := now.Truncate(rl.limits.Window)
	if !start.Equal(b.windowStart) {
		b.windowStart, b.used = start, 0
	}
	end := start.Add(rl.limits.Window)
	d := rateDecision{reset: int64(math.Ceil(float64(end.UnixNano()) / 1e9))}
	if limit <= 0 {
		d.allowed, d.limit, d.remaining = true, math.MaxInt32, math.MaxInt32
		return d
	}
	d.limit = limit
	if b.used >= limit {
		d.retryAfter = int(math.Ceil(end.Sub(now).Seconds()))
		if d.retryAfter < 1 {
			d.retryAfter = 1
		}
		return d
	}
	b.used++
	d.allowed = true
	d.remaining = limit - b.used
	return d
}
