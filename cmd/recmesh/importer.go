package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/recmesh/recmesh/cmd/recmesh/internal/offline"
	"github.com/recmesh/recmesh/pkg/config"
	"github.com/recmesh/recmesh/pkg/movielens"
	expstore "github.com/recmesh/recmesh/services/experiment/store"
	"github.com/recmesh/recmesh/services/features/store"
)

// postgresFlags binds -postgres-dsn and opens a pool after parsing.
func postgresFlags(f *config.Flags) func(ctx context.Context) (*pgxpool.Pool, error) {
	var dsn string
	f.String(&dsn, "postgres-dsn", "", "PostgreSQL URL, e.g. postgres://user@127.0.0.1:5432/recmesh?sslmode=disable")
	return func(ctx context.Context) (*pgxpool.Pool, error) {
		if dsn == "" {
			return nil, fmt.Errorf("-postgres-dsn (or RECMESH_POSTGRES_DSN) is required")
		}
		pool, err := pgxpool.New(ctx, dsn)
		if err != nil {
			return nil, fmt.Errorf("postgres: %w", err)
		}
		if err := pool.Ping(ctx); err != nil {
			pool.Close()
			return nil, fmt.Errorf("postgres: %w", err)
		}
		return pool, nil
	}
}

// runMigrate applies the schema migrations.
func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("migrate", stderr)
	open := postgresFlags(f)
	if err := f.Parse(args); err != nil {
		return err
	}
	pool, err := open(ctx)
	if err != nil {
		return err
	}
	defer pool.Close()
	applied, err := migrateAll(ctx, pool)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "applied %d migrations %v\n", len(applied), applied)
	return nil
}

// migrateAll applies every service's migrations: features, then experiment.
func migrateAll(ctx context.Context, pool *pgxpool.Pool) ([]string, error) {
	applied, err := store.Migrate(ctx, pool)
	if err != nil {
		return applied, err
	}
	more, err := expstore.Migrate(ctx, pool)
	return append(applied, more...), err
}

// runImport loads a MovieLens directory into PostgreSQL with COPY.
func runImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var batch int
	var appendTo, ifEmpty bool
	f := newFlags("import", stderr)
	open := postgresFlags(f)
	f.Int(&batch, "batch", 20000, "events per COPY transaction")
	f.FS.BoolVar(&appendTo, "append", false, "import even when the event log is not empty (the events are added again)")
	f.FS.BoolVar(&ifEmpty, "if-empty", false, "do nothing (and succeed) when the event log is not empty; make dev uses it")
	if err := f.Parse(args); err != nil {
		return err
	}
	if f.FS.NArg() != 1 || batch <= 0 {
		return fmt.Errorf("usage: recmesh import [-postgres-dsn URL] [-batch N] [-append | -if-empty] MOVIELENS_DIR")
	}
	ds, err := movielens.Load(f.FS.Arg(0))
	if err != nil {
		return err
	}
	pool, err := open(ctx)
	if err != nil {
		return err
	}
	defer pool.Close()
	if _, err := store.Migrate(ctx, pool); err != nil {
		return err
	}
	st := store.NewPostgres(pool)
	if n, err := st.EventCount(ctx); err != nil {
		return err
	} else if n > 0 && ifEmpty {
		fmt.Fprintf(stdout, "the event log already holds %d events; nothing imported\n", n)
		return nil
	} else if n > 0 && !appendTo {
		return fmt.Errorf("the event log already holds %d events; importing again would add them twice (use -append if that is meant)", n)
	}
	start := time.Now()
	if err := st.PutItems(ctx, offline.Items(ds)); err != nil {
		return fmt.Errorf("import items: %w", err)
	}
	events := offline.Events(ds)
	for done := 0; done < len(events); {
		end := min(done+batch, len(events))
		if err := st.AppendEvents(ctx, events[done:end]); err != nil {
			return fmt.Errorf("import events %d–%d (the %d before them are stored): %w", done, end, done, err)
		}
		done = end
		progress(stderr, "import", "events", int64(done), int64(len(events)))
	}
	took := time.Since(start)
	fmt.Fprintf(stdout, "imported %d items and %d events in %s (%.0f events/s)\n",
		len(ds.Movies), len(events), took.Round(time.Millisecond), float64(len(events))/took.Seconds())
	return nil
}

// runReplay rebuilds the Redis real-time state from the PostgreSQL event log.
func runReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var redisAddr, prefix string
	var batch int
	f := newFlags("replay", stderr)
	open := postgresFlags(f)
	f.String(&redisAddr, "redis-addr", "", "Redis host:port")
	f.String(&prefix, "redis-prefix", store.DefaultRealTimeOptions().Prefix, "prefix of every Redis key, as given to the features service")
	f.Int(&batch, "batch", 10000, "events per Redis transaction")
	if err := f.Parse(args); err != nil {
		return err
	}
	if redisAddr == "" || batch <= 0 {
		return fmt.Errorf("usage: recmesh replay -postgres-dsn URL -redis-addr HOST:PORT [-batch N]")
	}
	pool, err := open(ctx)
	if err != nil {
		return err
	}
	defer pool.Close()
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr})
	defer rdb.Close()
	if err := rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	pg := store.NewPostgres(pool)
	total, err := pg.EventCount(ctx)
	if err != nil {
		return err
	}
	start := time.Now()
	rto := store.DefaultRealTimeOptions()
	rto.Prefix = prefix
	n, err := store.Replay(ctx, pg, store.NewRealTime(rdb, rto), batch, func(done int64) {
		progress(stderr, "replay", "events", done, total)
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "replayed %d events into Redis in %s\n", n, time.Since(start).Round(time.Millisecond))
	return nil
}
