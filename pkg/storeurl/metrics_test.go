package storeurl

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/recmesh/recmesh/pkg/depstest"
)

func TestSQLVerb(t *testing.T) {
	for sql, want := range map[string]string{
		"SELECT 1": "select", "  insert into x": "insert", "WITH a AS (…) SELECT": "with",
		"": "other", "VACUUM": "other", "copy events from stdin": "copy",
	} {
		if got := sqlVerb(sql); got != want {
			t.Errorf("sqlVerb(%q) = %q, want %q", sql, got, want)
		}
	}
}

func TestMetricsObserveAndPools(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	m.Observe("redis", "get", time.Now(), nil)
	m.Observe("redis", "get", time.Now(), errors.New("down"))
	m.AddPool("redis", func() PoolStats { return PoolStats{Total: 5, Idle: 2} })
	m.AddPool("redis", func() PoolStats { return PoolStats{Total: 1, Idle: 1} })
	want := `
# HELP recmesh_store_connections Connections of a store's pool, by state (idle, in_use).
# TYPE recmesh_store_connections gauge
recmesh_store_connections{state="idle",store="redis"} 3
recmesh_store_connections{state="in_use",store="redis"} 3
# HELP recmesh_store_errors_total Store operations that failed, by store and operation.
# TYPE recmesh_store_errors_total counter
recmesh_store_errors_total{op="get",store="redis"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "recmesh_store_connections", "recmesh_store_errors_total"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(m.duration, "recmesh_store_duration_seconds"); n != 1 {
		t.Errorf("%d duration series, want 1", n)
	}
	var none *Metrics // a nil Metrics records nothing and does not fail
	none.Observe("redis", "get", time.Now(), nil)
	none.AddPool("redis", nil)
}

// TestPostgresQueriesAreTimed: against a real PostgreSQL, every query and
// COPY goes through the tracer, and the pool is reported.
func TestPostgresQueriesAreTimed(t *testing.T) {
	dsn := depstest.Env(t, "RECMESH_POSTGRES_DSN")
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	ctx := context.Background()
	pool, err := OpenPostgres(ctx, dsn, m)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "SELECT * FROM no_such_table_here"); err == nil {
		t.Fatal("a query of a missing table succeeded")
	}
	if got := testutil.ToFloat64(m.errors.WithLabelValues("postgres", "select")); got != 1 {
		t.Errorf("select errors = %v, want 1", got)
	}
	if n := testutil.CollectAndCount(m.duration, "recmesh_store_duration_seconds"); n != 1 {
		t.Errorf("%d duration series, want 1 (select)", n)
	}
	if n := testutil.CollectAndCount(m, "recmesh_store_connections"); n != 2 {
		t.Errorf("%d pool series, want 2", n)
	}
}
