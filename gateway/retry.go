package gateway

import (
	"context"
	"sync"
	"time"

	"github.com/recmesh/recmesh/pkg/resilience"
)

// retryBudget bounds retries to a tenth of the calls that succeed: each
// success deposits a tenth of a token, a retry takes a whole one, and the
// bank holds at most ten. A hop that is sick, not merely stalled, is never
// sent more than about 1.1 times its traffic, so retries cannot feed an
// overload.
type retryBudget struct {
	mu   sync.Mutex
	bank float64
}

const (
	retryDeposit = 0.1
	retryBank    = 10
)

func (r *retryBudget) deposit() {
	r.mu.Lock()
	r.bank = min(r.bank+retryDeposit, retryBank)
	r.mu.Unlock()
}

func (r *retryBudget) withdraw() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.bank < 1 {
		return false
	}
	r.bank--
	return true
}

// servingHop runs a serving hop's call like hop, and when it times out
// tries it once more, if the request still has the hop's budget plus
// reserve (the budgets of the hops after it) left and the retry budget
// allows. A machine that stalls for a fraction of a second (a noisy
// neighbour, a GC on a busy core) then costs a slower answer instead of a
// degraded one.
func servingHop[T any](g *Gateway, ctx context.Context, b *resilience.Breaker, name string, budget, reserve time.Duration,
	f func(context.Context) (T, error)) (T, error) {
	rb := g.retries[name]
	out, err := hop(ctx, b, budget, f)
	if err == nil {
		rb.deposit()
		return out, nil
	}
	if !resilience.Timeout(err) || ctx.Err() != nil {
		return out, err
	}
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < budget+reserve {
		return out, err
	}
	if !rb.withdraw() {
		return out, err
	}
	g.metrics.Retried(name)
	return hop(ctx, b, budget, f)
}
