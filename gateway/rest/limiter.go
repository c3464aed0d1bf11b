package rest

import (
	"sync"

	"golang.org/x/time/rate"
)

// limiter is a token bucket per caller (an API key, or a client address);
// a zero rate admits everything.
type limiter struct {
	rps int
	mu  sync.Mutex
	by  map[string]*rate.Limiter
}

// maxCallers bounds the buckets kept: past it, the idle ones (full: their
// caller has not sent for a second) are dropped, so many addresses cannot
// grow the map without limit.
const maxCallers = 1 << 16

func newLimiter(rps int) *limiter { return &limiter{rps: rps, by: map[string]*rate.Limiter{}} }

func (l *limiter) allow(key string) bool {
	if l.rps <= 0 {
		return true
	}
	l.mu.Lock()
	lim, ok := l.by[key]
	if !ok {
		if len(l.by) >= maxCallers {
			l.dropIdle()
		}
		lim = rate.NewLimiter(rate.Limit(l.rps), l.rps) // a burst of one second's worth
		l.by[key] = lim
	}
	l.mu.Unlock()
	return lim.Allow()
}

// dropIdle forgets the full buckets (a new bucket starts full, so
// forgetting one changes nothing for its caller); l.mu must be held.
func (l *limiter) dropIdle() {
	for k, lim := range l.by {
		if lim.Tokens() >= float64(l.rps) {
			delete(l.by, k)
		}
	}
}
