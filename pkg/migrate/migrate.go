// Package migrate applies versioned SQL migrations to PostgreSQL. Files are
// named NNNN_description.sql and applied in order, each in its own
// transaction, and recorded in recmesh_migrations under their component
// (each service numbers its own migrations). An advisory lock keeps
// two processes starting at once from applying the same file twice.
package migrate

import (
	"context"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

var fileRE = regexp.MustCompile(`^(\d{4})_[a-z0-9_]+\.sql$`)

// lockID is this package's pg_advisory_lock key ("recmesh" in ASCII).
const lockID = 0x7265636d657368

const createTable = `CREATE TABLE IF NOT EXISTS recmesh_migrations (
	component TEXT NOT NULL, version INT NOT NULL, name TEXT NOT NULL,
	applied_at TIMESTAMPTZ NOT NULL DEFAULT now(), PRIMARY KEY (component, version))`

// AdoptLegacy records, under component, the migrations a database applied
// before migrations had components, when they were kept in a single
// schema_migrations table, so they are not applied twice. It does nothing
// when that table does not exist, and is idempotent.
func AdoptLegacy(ctx context.Context, pool *pgxpool.Pool, component string) error {
	var legacy *string
	if err := pool.QueryRow(ctx, `SELECT to_regclass('schema_migrations')::text`).Scan(&legacy); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if legacy == nil {
		return nil
	}
	if _, err := pool.Exec(ctx, createTable); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	_, err := pool.Exec(ctx, `INSERT INTO recmesh_migrations (component, version, name, applied_at)
		SELECT $1, version, name, applied_at FROM schema_migrations ON CONFLICT DO NOTHING`, component)
	if err != nil {
		return fmt.Errorf("migrate: adopt schema_migrations: %w", err)
	}
	return nil
}

// Apply runs, in order, the migrations of component in directory dir of
// fsys (an embedded migrations/ directory, typically) not yet applied, and
// returns the names of those it applied.
func Apply(ctx context.Context, pool *pgxpool.Pool, component string, fsys fs.FS, dir string) ([]string, error) {
	fsys, err := fs.Sub(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	type file struct {
		version int
		name    string
	}
	var files []file
	for _, e := range entries {
		m := fileRE.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migrate: %q is not named NNNN_description.sql", e.Name())
		}
		v, _ := strconv.Atoi(m[1])
		files = append(files, file{v, e.Name()})
	}
	slices.SortFunc(files, func(a, b file) int { return a.version - b.version })
	for i := 1; i < len(files); i++ {
		if files[i].version == files[i-1].version {
			return nil, fmt.Errorf("migrate: %s and %s share a version", files[i-1].name, files[i].name)
		}
	}

	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, lockID); err != nil {
		return nil, fmt.Errorf("migrate: lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, lockID) //nolint:errcheck // released with the session anyway
	if _, err := conn.Exec(ctx, createTable); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	var applied []string
	for _, f := range files {
		var done bool
		if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM recmesh_migrations WHERE component = $1 AND version = $2)`, component, f.version).Scan(&done); err != nil {
			return applied, fmt.Errorf("migrate: %w", err)
		}
		if done {
			continue
		}
		sql, err := fs.ReadFile(fsys, f.name)
		if err != nil {
			return applied, fmt.Errorf("migrate: %w", err)
		}
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, string(sql)); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO recmesh_migrations (component, version, name) VALUES ($1, $2, $3)`, component, f.version, f.name)
			return err
		})
		if err != nil {
			return applied, fmt.Errorf("migrate: %s: %w", f.name, err)
		}
		applied = append(applied, f.name)
	}
	return applied, nil
}
