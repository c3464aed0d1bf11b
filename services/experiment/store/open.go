package store

import (
	"context"

	"github.com/recmesh/recmesh/pkg/storeurl"
)

// Open returns the Store a URL names, and a func that closes it:
// memory: (in process, the embedded mode) or postgres://… (PostgreSQL; the
// schema is migrated first).
func Open(ctx context.Context, dsn string, m *storeurl.Metrics) (Store, func(), error) {
	switch {
	case dsn == "memory:":
		return NewMemory(), func() {}, nil
	case storeurl.IsPostgres(dsn):
		pool, err := storeurl.OpenMigrated(ctx, dsn, m, Migrate)
		if err != nil {
			return nil, nil, err
		}
		return NewPostgres(pool), pool.Close, nil
	}
	return nil, nil, storeurl.Unknown("experiment", dsn, "memory:", "postgres://")
}

// Ping reports whether the PostgreSQL behind p answers.
func (p *Postgres) Ping(ctx context.Context) error { return p.pool.Ping(ctx) }
