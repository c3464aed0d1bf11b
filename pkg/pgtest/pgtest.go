// Package pgtest gives a test its own PostgreSQL schema on the server named
// by RECMESH_POSTGRES_DSN, dropped when the test ends, so tests can run in
// parallel against one server without seeing each other's rows.
package pgtest

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/recmesh/recmesh/pkg/depstest"
)

var seq atomic.Int64

// DSN returns a connection string whose search_path is a fresh schema. It
// skips the test when RECMESH_POSTGRES_DSN is unset (see depstest).
func DSN(t testing.TB) string {
	t.Helper()
	dsn := depstest.Env(t, "RECMESH_POSTGRES_DSN")
	ctx := context.Background()
	admin, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	schema := fmt.Sprintf("test_%d_%d", time.Now().UnixNano(), seq.Add(1))
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		admin.Close()
	})
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "search_path=" + schema
}

// Pool opens a pool on DSN(t), closed when the test ends.
func Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}
