package artifact

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics say which model version an instance serves and how its reloads
// went, for the models dashboard and the stale-model alert.
type Metrics struct {
	mu      sync.Mutex
	serving string
	info    *prometheus.GaugeVec
	created prometheus.Gauge
	loaded  prometheus.Gauge
	reloads *prometheus.CounterVec
}

// NewMetrics registers the model metrics in reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		info: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "recmesh_model_info", Help: "1 for the model version this instance serves.",
		}, []string{"model_version"}),
		created: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "recmesh_model_created_timestamp_seconds", Help: "When the served model version was trained (Unix time).",
		}),
		loaded: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "recmesh_model_loaded_timestamp_seconds", Help: "When the served model version was loaded (Unix time).",
		}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "recmesh_model_reloads_total", Help: "Newly published model versions swapped in (ok) or refused (error).",
		}, []string{"outcome"}),
	}
	m.reloads.WithLabelValues("ok")
	m.reloads.WithLabelValues("error")
	reg.MustRegister(m.info, m.created, m.loaded, m.reloads)
	return m
}

// serve records that set is now served; reload says whether it replaced
// another version (a reload) or was the first.
func (m *Metrics) serve(set *Set, reload bool) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.serving != "" {
		m.info.DeleteLabelValues(m.serving)
	}
	m.serving = set.Manifest.Version
	m.info.WithLabelValues(m.serving).Set(1)
	m.created.Set(float64(set.Manifest.CreatedAt.UnixNano()) / 1e9)
	m.loaded.SetToCurrentTime()
	if reload {
		m.reloads.WithLabelValues("ok").Inc()
	}
}

// refused counts a published version that failed to load.
func (m *Metrics) refused() {
	if m != nil {
		m.reloads.WithLabelValues("error").Inc()
	}
}
