package storeurl

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/recmesh/recmesh/pkg/telemetry"
)

// Metrics time every store operation and count its errors, by store
// (postgres, redis) and operation (the SQL verb or the Redis command), and
// report each connection pool, for the stores dashboard.
type Metrics struct {
	duration *prometheus.HistogramVec
	errors   *prometheus.CounterVec
	conns    *prometheus.Desc

	mu    sync.Mutex
	pools []pool
}

// PoolStats is one pool's connections at a moment.
type PoolStats struct{ Total, Idle int }

type pool struct {
	store string
	stats func() PoolStats
}

// NewMetrics registers the store metrics in reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "recmesh_store_duration_seconds", Help: "Time of one store operation, by store and operation.", Buckets: telemetry.LatencyBuckets,
		}, []string{"store", "op"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "recmesh_store_errors_total", Help: "Store operations that failed, by store and operation.",
		}, []string{"store", "op"}),
		conns: prometheus.NewDesc("recmesh_store_connections", "Connections of a store's pool, by state (idle, in_use).", []string{"store", "state"}, nil),
	}
	reg.MustRegister(m.duration, m.errors, m)
	return m
}

// Observe records one operation that started at start.
func (m *Metrics) Observe(store, op string, start time.Time, err error) {
	if m == nil {
		return
	}
	m.duration.WithLabelValues(store, op).Observe(time.Since(start).Seconds())
	if err != nil {
		m.errors.WithLabelValues(store, op).Inc()
	}
}

// AddPool reports a connection pool's state on every scrape.
func (m *Metrics) AddPool(store string, stats func() PoolStats) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pools = append(m.pools, pool{store, stats})
}

// Describe implements prometheus.Collector for the pool gauges.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) { ch <- m.conns }

// Collect implements prometheus.Collector for the pool gauges.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.mu.Lock()
	pools := append([]pool(nil), m.pools...)
	m.mu.Unlock()
	sum := map[string]PoolStats{}
	for _, p := range pools {
		s, t := p.stats(), sum[p.store]
		sum[p.store] = PoolStats{Total: t.Total + s.Total, Idle: t.Idle + s.Idle}
	}
	for store, s := range sum {
		ch <- prometheus.MustNewConstMetric(m.conns, prometheus.GaugeValue, float64(s.Idle), store, "idle")
		ch <- prometheus.MustNewConstMetric(m.conns, prometheus.GaugeValue, float64(s.Total-s.Idle), store, "in_use")
	}
}

// pgTracer is the pgx tracer that feeds Metrics.
type pgTracer struct{ m *Metrics }

type pgStartKey struct{}

type pgStart struct {
	op string
	at time.Time
}

// sqlVerb is the operation label of a statement: its first word, lower case.
func sqlVerb(sql string) string {
	f := strings.Fields(sql)
	if len(f) == 0 {
		return "other"
	}
	switch v := strings.ToLower(f[0]); v {
	case "select", "insert", "update", "delete", "with", "begin", "commit", "rollback", "create", "alter", "copy":
		return v
	}
	return "other"
}

func (t pgTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	return context.WithValue(ctx, pgStartKey{}, pgStart{sqlVerb(d.SQL), time.Now()})
}

func (t pgTracer) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryEndData) {
	if s, ok := ctx.Value(pgStartKey{}).(pgStart); ok {
		t.m.Observe("postgres", s.op, s.at, d.Err)
	}
}

func (t pgTracer) TraceCopyFromStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceCopyFromStartData) context.Context {
	return context.WithValue(ctx, pgStartKey{}, pgStart{"copy", time.Now()})
}

func (t pgTracer) TraceCopyFromEnd(ctx context.Context, _ *pgx.Conn, d pgx.TraceCopyFromEndData) {
	if s, ok := ctx.Value(pgStartKey{}).(pgStart); ok {
		t.m.Observe("postgres", s.op, s.at, d.Err)
	}
}

// instrument makes every query of pools made from cfg feed m.
func (m *Metrics) instrument(cfg *pgxpool.Config) {
	if m != nil {
		cfg.ConnConfig.Tracer = pgTracer{m}
	}
}

// watch reports p's connections.
func (m *Metrics) watch(p *pgxpool.Pool) {
	m.AddPool("postgres", func() PoolStats {
		s := p.Stat()
		return PoolStats{Total: int(s.TotalConns()), Idle: int(s.IdleConns())}
	})
}
