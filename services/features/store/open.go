package store

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/recmesh/recmesh/pkg/storeurl"
)

// Open returns the Store a URL names, and a func that closes it:
//
//	memory:                      in process, empty (the embedded mode)
//	postgres://user@host/db?…    PostgreSQL; the schema is migrated first
//	redis://host:port/db?prefix=rm:   Redis alone (see RealTime)
//
// The run modes choose a backend by configuration (-store), not by wiring.
// m (nil for none) times the backend's operations.
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
	case storeurl.Scheme(dsn) == "redis" || storeurl.Scheme(dsn) == "rediss":
		rt, closeRT, err := OpenRealTime(ctx, dsn, m)
		if err != nil {
			return nil, nil, err
		}
		return rt, closeRT, nil
	}
	return nil, nil, storeurl.Unknown("features", dsn, "memory:", "postgres://", "redis://")
}

// OpenRealTime opens the Redis real-time state a redis:// URL names; its
// prefix query parameter overrides the key prefix ("rm:"). m (nil for
// none) times every command and reports the connection pool.
func OpenRealTime(ctx context.Context, dsn string, m *storeurl.Metrics) (*RealTime, func(), error) {
	o := DefaultRealTimeOptions()
	// No retries: a Redis that refuses is answered from PostgreSQL at once (Durable).
	ropts, prefix, err := storeurl.RedisOptions(dsn, o.Prefix)
	if err != nil {
		return nil, nil, err
	}
	o.Prefix = prefix
	rdb := redis.NewClient(ropts)
	if m != nil {
		rdb.AddHook(redisHook{m})
		m.AddPool("redis", func() storeurl.PoolStats {
			s := rdb.PoolStats()
			return storeurl.PoolStats{Total: int(s.TotalConns), Idle: int(s.IdleConns)}
		})
	}
	if err := rdb.Ping(ctx).Err(); err != nil {
		_ = rdb.Close()
		return nil, nil, fmt.Errorf("redis %s: %w", storeurl.Redact(dsn), err)
	}
	return NewRealTime(rdb, o), func() { _ = rdb.Close() }, nil
}

// Ping reports whether the Redis behind r answers.
func (r *RealTime) Ping(ctx context.Context) error { return r.rdb.Ping(ctx).Err() }

// Ping reports whether the PostgreSQL behind p answers.
func (p *Postgres) Ping(ctx context.Context) error { return p.pool.Ping(ctx) }
