package rest

import (
	"sync"

	"golang.org/x/time/rate"
)

// limiter is a token bucket per API key; a zero rate admits everything.
type limiter struct {
	rps int
	mu  sync.Mutex
	by  map[string]*rate.Limiter
}

func newLimiter(rps int) *limiter { return &limiter{rps: rps, by: map[string]*rate.Limiter{}} }

func (l *limiter) allow(key string) bool {
	if l.rps <= 0 {
		return true
	}
	l.mu.Lock()
	lim, ok := l.by[key]
	if !ok {
		lim = rate.NewLimiter(rate.Limit(l.rps), l.rps) // a burst of one second's worth
		l.by[key] = lim
	}
	l.mu.Unlock()
	return lim.Allow()
}
