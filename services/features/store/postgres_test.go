package store_test

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"

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
	if !slices.Equal(versions, []int32{1, 2, 3, 4}) {
		t.Errorf("recorded versions %v, want [1 2 3 4]", versions)
	}
}

// A database migrated by the first layout (one schema_migrations table)
// upgrades without applying 0001 twice: only the migrations after it run.
func TestPostgresMigrationsAdoptTheLegacyTable(t *testing.T) {
	pool := legacyPool(t)
	ctx := context.Background()
	applied, err := store.Migrate(ctx, pool)
	if err != nil || !slices.Equal(applied, []string{"0002_exposures.sql", "0003_catalogue.sql", "0004_event_ids.sql"}) {
		t.Fatalf("Migrate over the legacy layout applied %v, %v; want [0002_exposures.sql 0003_catalogue.sql 0004_event_ids.sql]", applied, err)
	}
	if applied, err := store.Migrate(ctx, pool); err != nil || len(applied) != 0 {
		t.Fatalf("second Migrate: %v, %v", applied, err)
	}
}

func TestPostgresExposures(t *testing.T) {
	storetest.RunExposures(t, func(t *testing.T) storetest.ExposureStore { return store.NewPostgres(postgresPool(t)) })
}

func TestPostgresCatalogue(t *testing.T) {
	storetest.RunCatalogue(t, func(t *testing.T) storetest.FullStore { return store.NewPostgres(postgresPool(t)) })
}

// Items that predate migration 0003 get a creation time from their first
// event, or their year, not the time of the migration (or the fresh
// channel would take the whole catalogue for new).
func TestPostgresMigrationBackfillsCreatedAt(t *testing.T) {
	pool := legacyPool(t,
		`INSERT INTO items (item_id, title, year) VALUES (1, 'rated', 1995), (2, 'unrated', 2001), (3, 'no year', 0)`,
		`INSERT INTO events (user_id, item_id, type, value, ts) VALUES ('u', 1, 'click', 1, 900000000), ('v', 1, 'click', 1, 800000000)`)
	ctx := context.Background()
	if _, err := store.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	items, err := store.NewPostgres(pool).Items(ctx, []int64{1, 2, 3})
	if err != nil {
		t.Fatal(err)
	}
	if got := items[1].CreatedAt; !got.Equal(time.Unix(800000000, 0)) {
		t.Errorf("created_at of a rated item = %v, want its first event", got)
	}
	if got := items[2].CreatedAt; !got.Equal(time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("created_at of an unrated item = %v, want 1 January of its year", got)
	}
	if !items[1].Available || items[3].CreatedAt.IsZero() || items[1].Rev == items[2].Rev {
		t.Errorf("migrated items = %+v", items)
	}
}

// legacyPool is a database in the first layout (0001 applied, recorded in
// one schema_migrations table), with then statements run on it.
func legacyPool(t *testing.T, then ...string) *pgxpool.Pool {
	t.Helper()
	pool := pgtest.Pool(t)
	sql, err := os.ReadFile("migrations/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range append([]string{string(sql),
		`CREATE TABLE schema_migrations (version INT PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`,
		`INSERT INTO schema_migrations (version, name) VALUES (1, '0001_init.sql')`}, then...) {
		if _, err := pool.Exec(context.Background(), stmt); err != nil {
			t.Fatal(err)
		}
	}
	return pool
}
