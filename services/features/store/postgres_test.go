package store_test

import (
	"context"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/recmesh/recmesh/pkg/pgtest"
	"github.com/recmesh/recmesh/services/features/store"
	"github.com/recmesh/recmesh/services/features/store/storetest"
)

// postgresPool is a migrated pool on a schema of the test's own.
func postgresPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool := pgtest.Pool(t)
	if _, err := store.Migrate(context.Background(), pool); err != nil {
		t.Fatal(err)
	}
	return pool
}

func TestPostgresContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return store.NewPostgres(postgresPool(t)) })
}

func TestPostgresMigrationsAreIdempotent(t *testing.T) {
	pool := postgresPool(t)
	applied, err := store.Migrate(context.Background(), pool)
	if err != nil || len(applied) != 0 {
		t.Fatalf("second Migrate applied %v, %v; want nothing", applied, err)
	}
	var versions []int32
	rows, err := pool.Query(context.Background(), "SELECT version FROM recmesh_migrations WHERE component = 'features' ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var v int32
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		versions = append(versions, v)
	}
	if !slices.Equal(versions, []int32{1}) {
		t.Errorf("recorded versions %v, want [1]", versions)
	}
}
