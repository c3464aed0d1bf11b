package listcache

import (
	"github.com/maypok86/otter/v2"
	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	requests      *prometheus.CounterVec
	results       map[string]prometheus.Counter
	evictions     *prometheus.CounterVec
	invalidations *prometheus.CounterVec
	storeErrors   *prometheus.CounterVec
	prewarmed     prometheus.Counter
	refreshed     prometheus.Counter
	outdated      prometheus.Counter
	reg           prometheus.Registerer
}

// Results of Take, as recmesh_list_cache_requests_total's result label.
var results = []string{"hit_l1", "hit_l2", "miss", "stale", "exhausted"}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "recmesh_list_cache_requests_total",
			Help: "Lookups of the ranked-list cache by result: hit_l1 (in process), hit_l2 (the shared store), miss, stale (older model versions, or expired), exhausted (fewer unserved items than asked)."},
			[]string{"result"}),
		evictions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "recmesh_list_cache_evictions_total",
			Help: "Users' lists evicted from the in-process level, by cause (overflow: the memory bound; expiration: the TTL)."}, []string{"cause"}),
		invalidations: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "recmesh_list_cache_invalidations_total",
			Help: "Users whose lists were dropped: event (their own event, here), remote (announced by another replica)."}, []string{"reason"}),
		storeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "recmesh_list_cache_store_errors_total",
			Help: "Failed calls of the shared level by operation (dropped: a write that found the write queue full)."}, []string{"op"}),
		prewarmed: prometheus.NewCounter(prometheus.CounterOpts{Name: "recmesh_list_cache_prewarmed_total",
			Help: "Lists rebuilt in the background after a new model version was seen."}),
		refreshed: prometheus.NewCounter(prometheus.CounterOpts{Name: "recmesh_list_cache_refreshed_total",
			Help: "Lists rebuilt in the background, so their users' next pages are hits: before they ran out (fewer than three pages left), or for a user whose request was shed to the popular list."}),
		outdated: prometheus.NewCounter(prometheus.CounterOpts{Name: "recmesh_list_cache_outdated_total",
			Help: "Lists not kept because the run that built them started before their user's last invalidation (it may not reflect the user's event)."}),
		results: map[string]prometheus.Counter{},
		reg:     reg,
	}
	for _, r := range results {
		m.results[r] = m.requests.WithLabelValues(r)
	}
	// Every series exists from the start, at 0, so dashboards and alerts
	// see a rate of 0 rather than no data.
	for _, op := range []string{"get", "put", "served", "invalidate", "dropped"} {
		m.storeErrors.WithLabelValues(op)
	}
	for _, cause := range []string{"overflow", "expiration"} {
		m.evictions.WithLabelValues(cause)
	}
	for _, reason := range []string{"event", "remote"} {
		m.invalidations.WithLabelValues(reason)
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.evictions, m.invalidations, m.storeErrors, m.prewarmed, m.refreshed, m.outdated)
	}
	return m
}

func (m *metrics) result(r string) { m.results[r].Inc() }

// size exports the in-process level's size.
func (m *metrics) size(l1 *otter.Cache[string, *userLists]) {
	if m.reg == nil {
		return
	}
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "recmesh_list_cache_users",
			Help: "Users with lists in the in-process level."}, func() float64 { return float64(l1.EstimatedSize()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "recmesh_list_cache_bytes",
			Help: "Estimated memory of the in-process level's lists (bounded by -list-cache-bytes)."}, func() float64 { return float64(l1.WeightedSize()) }))
}
