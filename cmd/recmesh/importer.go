package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/recmesh/recmesh/pkg/config"
	"github.com/recmesh/recmesh/pkg/movielens"
	"github.com/recmesh/recmesh/pkg/storeurl"
	expstore "github.com/recmesh/recmesh/services/experiment/store"
	"github.com/recmesh/recmesh/services/features/store"
)

// postgresFlags binds -store, which the offline commands need to be a
// postgres:// URL, and opens a pool after parsing.
func postgresFlags(f *config.Flags, command string) func(ctx context.Context) (*pgxpool.Pool, error) {
	var dsn string
	storeurl.BindFlag(f, &dsn)
	return func(ctx context.Context) (*pgxpool.Pool, error) {
		if !storeurl.IsPostgres(dsn) {
			return nil, fmt.Errorf("recmesh %s works on a PostgreSQL store: set -store postgres://… (or RECMESH_STORE), not %q", command, storeurl.Redact(dsn))
		}
		return storeurl.OpenPostgres(ctx, dsn, nil)
	}
}

// runMigrate applies the schema migrations.
func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("migrate", stderr)
	open := postgresFlags(f, "migrate")
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
	open := postgresFlags(f, "import")
	f.Int(&batch, "batch", 20000, "events per COPY transaction")
	f.FS.BoolVar(&appendTo, "append", false, "import even when the event log is not empty (the events are added again)")
	f.FS.BoolVar(&ifEmpty, "if-empty", false, "do nothing (and succeed) when the event log is not empty; make dev uses it")
	if err := f.Parse(args); err != nil {
		return err
	}
	if f.FS.NArg() != 1 || batch <= 0 {
		return fmt.Errorf("usage: recmesh import [-store postgres://…] [-batch N] [-append | -if-empty] MOVIELENS_DIR")
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
	// Read only once an import will happen: recmesh init runs this on
	// every start, and the log is rarely empty.
	ds, err := movielens.Load(f.FS.Arg(0))
	if err != nil {
		return err
	}
	start := time.Now()
	if err := st.PutItems(ctx, ds.Items()); err != nil {
		return fmt.Errorf("import items: %w", err)
	}
	events := ds.Events()
	for done := 0; done < len(events); {
		end := min(done+batch, len(events))
		if _, err := st.AppendEvents(ctx, events[done:end]); err != nil {
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
	var realtime string
	var batch int
	f := newFlags("replay", stderr)
	open := postgresFlags(f, "replay")
	f.String(&realtime, "realtime", "", "Redis URL of the features real-time state, as given to the features service (redis://host:port/db?prefix=rm:)")
	f.Int(&batch, "batch", 10000, "events per Redis transaction")
	if err := f.Parse(args); err != nil {
		return err
	}
	if realtime == "" || batch <= 0 {
		return fmt.Errorf("usage: recmesh replay -store postgres://… -realtime redis://… [-batch N]")
	}
	pool, err := open(ctx)
	if err != nil {
		return err
	}
	defer pool.Close()
	rt, closeRT, err := store.OpenRealTime(ctx, realtime, nil)
	if err != nil {
		return err
	}
	defer closeRT()
	pg := store.NewPostgres(pool)
	total, err := pg.EventCount(ctx)
	if err != nil {
		return err
	}
	start := time.Now()
	n, err := store.Replay(ctx, pg, rt, batch, func(done int64) {
		progress(stderr, "replay", "events", done, total)
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "replayed %d events into Redis in %s\n", n, time.Since(start).Round(time.Millisecond))
	return nil
}
