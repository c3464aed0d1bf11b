// Package storeurl holds what every store package's Open(dsn) shares: the
// scheme of a store URL, a PostgreSQL pool opened from one, Redis options
// parsed from one, and URLs with their passwords redacted for messages and
// logs.
package storeurl

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/recmesh/recmesh/pkg/config"
)

// Scheme is the part of dsn before the first colon: memory, postgres, redis…
func Scheme(dsn string) string {
	s, _, _ := strings.Cut(dsn, ":")
	return s
}

// IsPostgres reports whether dsn names a PostgreSQL database.
func IsPostgres(dsn string) bool { s := Scheme(dsn); return s == "postgres" || s == "postgresql" }

// BindFlag binds -store, the URL of the durable store of every service that
// has one: features and experiment share it (and a PostgreSQL database,
// each in its own tables).
func BindFlag(f *config.Flags, dsn *string) {
	f.String(dsn, "store", "memory:", "store URL: memory: (in process) or postgres://user@host:5432/db?sslmode=disable")
}

// DefaultMinConns is how many connections a pool keeps open (and opens at
// start) unless its URL says otherwise (pool_min_conns, min_idle_conns).
const DefaultMinConns = 4

// OpenPostgres opens and pings a pgx pool; m (nil for none) times its
// queries and reports its connections.
func OpenPostgres(ctx context.Context, dsn string, m *Metrics) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres %s: %w", Redact(dsn), err)
	}
	if !strings.Contains(dsn, "pool_min_conns") {
		// Connections are opened at start, not by the first requests
		// within their budgets.
		cfg.MinConns = min(DefaultMinConns, cfg.MaxConns)
	}
	m.instrument(cfg)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres %s: %w", Redact(dsn), err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres %s: %w", Redact(dsn), err)
	}
	m.watch(pool)
	return pool, nil
}

// OpenMigrated opens a pool on dsn and applies a service's migrations.
func OpenMigrated(ctx context.Context, dsn string, m *Metrics, migrate func(context.Context, *pgxpool.Pool) ([]string, error)) (*pgxpool.Pool, error) {
	pool, err := OpenPostgres(ctx, dsn, m)
	if err != nil {
		return nil, err
	}
	if _, err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

// Redact drops the password from a URL.
func Redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	return u.Redacted()
}

// Unknown is the error of an Open given a scheme it does not serve.
func Unknown(what, dsn string, schemes ...string) error {
	return fmt.Errorf("%s store %q: the URL must start with one of %s", what, Redact(dsn), strings.Join(schemes, ", "))
}

// RedisOptions parses a redis:// URL as every recmesh Redis client reads
// it: its prefix query parameter is the key prefix (prefix when absent),
// and unless the URL says otherwise the pool keeps DefaultMinConns open
// from the start and commands are not retried, so a Redis that refuses is
// answered by the caller's fallback at once rather than after go-redis's
// retries with backoff spent the request's budget.
func RedisOptions(dsn, prefix string) (*redis.Options, string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, "", fmt.Errorf("redis %s: %w", Redact(dsn), err)
	}
	q := u.Query()
	if p, ok := q["prefix"]; ok {
		prefix = p[0]
		q.Del("prefix")
		u.RawQuery = q.Encode()
	}
	o, err := redis.ParseURL(u.String())
	if err != nil {
		return nil, "", fmt.Errorf("redis %s: %w", Redact(dsn), err)
	}
	if !q.Has("min_idle_conns") {
		o.MinIdleConns = DefaultMinConns
	}
	if !q.Has("max_retries") {
		o.MaxRetries = -1
	}
	return o, prefix, nil
}
