package gateway

import (
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/platinummonkey/go-concurrency-limits/limit"
	"github.com/prometheus/client_golang/prometheus"
)

// Shedding. The gateway keeps an adaptive limit on the recommendation
// requests it runs at once: Netflix's gradient2 algorithm (the
// go-concurrency-limits port), which lowers the limit when the latency of
// the work rises above its long-run baseline and raises it while latency
// holds. What arrives past the limit climbs a ladder that sheds the
// cheapest work first and keeps answers whole for those admitted:
//
//	in flight ≤ limit          the whole pipeline
//	≤ 1.5 × limit              a growing share skips ranking (recall order)
//	≤ 2 × limit                the cached popular list, no hop at all
//	beyond                     503 unavailable with Retry-After
//
// Only the pipeline's own requests feed the limit their latency; the
// popular list and refusals cost next to nothing and would teach it nothing.

// Rung is a step of the shedding ladder.
type Rung int

// The rungs, cheapest work shed first.
const (
	RungFull Rung = iota
	RungSkipRanking
	RungPopular
	RungRefuse
)

var rungNames = [...]string{"full", "skip_ranking", "popular", "refuse"}

func (r Rung) String() string { return rungNames[r] }

// Degraded names of the shed rungs, as replies carry them.
const (
	DegradedShedRanking = "shed:ranking"
	DegradedShedPopular = "shed:popular"
)

// shedder is the limit and the ladder; nil switches shedding off.
type shedder struct {
	limit    *limit.Gradient2Limit
	inflight atomic.Int64
	rungs    *prometheus.CounterVec
}

// Shed limits: the limit starts at initialLimit and stays within
// [minLimit, maxLimit]; each sample may add queueAllowance above the
// gradient's estimate while latency holds.
const (
	initialLimit   = 32
	minLimit       = 16
	maxLimit       = 4096
	queueAllowance = 4
)

func newShedder(reg prometheus.Registerer) *shedder {
	lim, _ := limit.NewGradient2Limit("gateway", initialLimit, maxLimit, minLimit,
		func(int) int { return queueAllowance }, 0.2, 600, nil, nil)
	s := &shedder{limit: lim, rungs: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "recmesh_shed_requests_total",
		Help: "Recommendation requests by the rung of the shedding ladder that served them: full, skip_ranking, popular, refuse.",
	}, []string{"rung"})}
	for _, n := range rungNames {
		s.rungs.WithLabelValues(n)
	}
	reg.MustRegister(s.rungs,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "recmesh_shed_limit",
			Help: "The adaptive limit on recommendation requests in flight (gradient2)."},
			func() float64 { return float64(s.limit.EstimatedLimit()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "recmesh_shed_inflight",
			Help: "Recommendation requests in flight at the gateway."},
			func() float64 { return float64(s.inflight.Load()) }))
	return s
}

// enter admits a request to a rung; exit must be called when it is
// answered, with whether its latency is a sample of the pipeline's.
func (s *shedder) enter() (Rung, func()) {
	if s == nil {
		return RungFull, func() {}
	}
	start := time.Now()
	n := s.inflight.Add(1)
	rung := ladder(float64(n) / float64(s.limit.EstimatedLimit()))
	s.rungs.WithLabelValues(rung.String()).Inc()
	return rung, func() {
		in := s.inflight.Add(-1)
		if rung <= RungSkipRanking {
			s.limit.OnSample(start.UnixNano(), int64(time.Since(start)), int(in)+1, false)
		}
	}
}

// ladder picks the rung for a request that makes the in-flight count ratio
// times the limit.
func ladder(ratio float64) Rung {
	switch {
	case ratio <= 1:
		return RungFull
	case ratio <= 1.5:
		// The share that skips ranking grows from none at the limit to
		// all at 1.5 times it.
		if rand.Float64() < (ratio-1)/0.5 {
			return RungSkipRanking
		}
		return RungFull
	case ratio <= 2:
		return RungPopular
	}
	return RungRefuse
}
