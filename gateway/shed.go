package gateway

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/platinummonkey/go-concurrency-limits/limit"
	"github.com/prometheus/client_golang/prometheus"
)

// Shedding. The gateway keeps an adaptive limit on the recommendation
// requests that run the pipeline at once: Netflix's gradient2 algorithm
// (the go-concurrency-limits port), which lowers the limit when the
// latency of the work rises above its long-run baseline and raises it while
// latency holds. What arrives past the limit climbs a ladder that sheds the
// cheapest work first and keeps answers whole for those admitted:
//
//	pipeline in flight ≤ limit   the whole pipeline
//	≤ 1.25 × limit               a growing share skips ranking (recall order),
//	                             while overload is mild (see below)
//	beyond                       the cached popular list, no hop at all
//	all in flight > 2 × limit    503 unavailable with Retry-After
//
// Skipping ranking saves only the ranking hop, a small part of a request's
// work, so it can absorb a mild overload and no more. Once more than a tenth of
// the previous second's arrivals overflowed to the popular list or a
// refusal, the overload is past what it can absorb: a request skipping
// ranking would then take CPU from the whole answers and save nobody from
// the popular list, so requests past the limit go straight to it and the
// admitted ones stay whole. This is what keeps the goodput (whole answers
// per second) near its peak at three times the load the mesh can carry.
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
	limit *limit.Gradient2Limit
	// pipeline counts the requests running the pipeline (whole or without
	// ranking); inflight counts every recommendation request at the gate.
	pipeline, inflight atomic.Int64
	overflow           overflowWindow
	rungs              [len(rungNames)]prometheus.Counter // by Rung
}

// Shed limits: the limit starts at initialLimit and stays within
// [minLimit, maxLimit]; each sample may add queueAllowance above the
// gradient's estimate while latency holds. Past skipBand times the limit,
// no request skips ranking; past refuseAt times it (all in flight), requests
// are refused. skipWhileOverflowBelow is the overflow share of the previous
// window above which the skip-ranking rung closes.
const (
	initialLimit           = 32
	minLimit               = 16
	maxLimit               = 4096
	queueAllowance         = 4
	skipBand               = 1.25
	refuseAt               = 2
	skipWhileOverflowBelow = 0.1
)

func newShedder(reg prometheus.Registerer) *shedder {
	lim, _ := limit.NewGradient2Limit("gateway", initialLimit, maxLimit, minLimit,
		func(int) int { return queueAllowance }, 0.2, 600, nil, nil)
	s := &shedder{limit: lim}
	rungs := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "recmesh_shed_requests_total",
		Help: "Recommendation requests by the rung of the shedding ladder that served them: full, skip_ranking, popular, refuse.",
	}, []string{"rung"})
	for i, n := range rungNames {
		s.rungs[i] = rungs.WithLabelValues(n)
	}
	reg.MustRegister(rungs,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "recmesh_shed_limit",
			Help: "The adaptive limit on recommendation requests running the pipeline at once (gradient2)."},
			func() float64 { return float64(s.limit.EstimatedLimit()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "recmesh_shed_inflight",
			Help: "Recommendation requests in flight at the gateway, every rung."},
			func() float64 { return float64(s.inflight.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "recmesh_shed_pipeline",
			Help: "Recommendation requests running the pipeline (whole or without ranking)."},
			func() float64 { return float64(s.pipeline.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "recmesh_shed_overflow_share",
			Help: "Share of the previous second's recommendation requests that got the popular list or a refusal; above 0.1 no request skips ranking."},
			func() float64 { return s.overflow.share(time.Now()) }))
	return s
}

// enter admits a request to a rung; the returned func must be called when
// it is answered.
func (s *shedder) enter() (Rung, func()) {
	if s == nil {
		return RungFull, func() {}
	}
	start := time.Now()
	lim := float64(s.limit.EstimatedLimit())
	all := s.inflight.Add(1)
	p := s.pipeline.Add(1)
	rung := s.overflow.admit(start, func(overflow float64) Rung {
		return ladder(float64(p)/lim, float64(all)/lim, overflow)
	})
	s.rungs[rung].Inc()
	if rung >= RungPopular {
		s.pipeline.Add(-1)
		return rung, func() { s.inflight.Add(-1) }
	}
	return rung, func() {
		in := s.pipeline.Add(-1)
		s.inflight.Add(-1)
		s.limit.OnSample(start.UnixNano(), int64(time.Since(start)), int(in)+1, false)
	}
}

// ladder picks the rung for a request that makes the pipeline's in-flight
// count pipeline times the limit and the gate's count all times it, given
// the share of the previous window's arrivals that overflowed.
func ladder(pipeline, all, overflow float64) Rung {
	switch {
	case all > refuseAt:
		return RungRefuse
	case pipeline <= 1:
		return RungFull
	case pipeline <= skipBand && overflow < skipWhileOverflowBelow:
		// The share that skips ranking grows from none at the limit to
		// all at the top of the band.
		if rand.Float64() < (pipeline-1)/(skipBand-1) {
			return RungSkipRanking
		}
		return RungFull
	}
	return RungPopular
}

// overflowWindow is the share of arrivals that overflowed (popular list or
// refusal) in the last complete window of overflowEvery.
type overflowWindow struct {
	mu             sync.Mutex
	start          time.Time
	arrivals, over int
	last           float64
}

// overflowEvery is the window; a window with fewer than overflowMinArrivals
// arrivals says nothing about overload.
const (
	overflowEvery       = time.Second
	overflowMinArrivals = 20
)

func (w *overflowWindow) roll(now time.Time) {
	if d := now.Sub(w.start); d >= overflowEvery {
		w.last = 0
		if d < 2*overflowEvery && w.arrivals >= overflowMinArrivals {
			w.last = float64(w.over) / float64(w.arrivals)
		}
		w.start, w.arrivals, w.over = now, 0, 0
	}
}

func (w *overflowWindow) share(now time.Time) float64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.roll(now)
	return w.last
}

// admit counts an arrival, whose rung pick chooses from the last window's
// share, as overflowing when it got the popular list or a refusal.
func (w *overflowWindow) admit(now time.Time, pick func(overflow float64) Rung) Rung {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.roll(now)
	r := pick(w.last)
	w.arrivals++
	if r >= RungPopular {
		w.over++
	}
	return r
}
