package store

import (
	"context"
	"embed"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/pkg/migrate"
)

// Migrations are the versioned schema of the PostgreSQL backend.
//
//go:embed migrations/*.sql
var migrations embed.FS

// Migrate applies the schema migrations not yet applied.
func Migrate(ctx context.Context, pool *pgxpool.Pool) ([]string, error) {
	// Before migrations had components, the features service alone kept
	// them in schema_migrations.
	if err := migrate.AdoptLegacy(ctx, pool, "features"); err != nil {
		return nil, err
	}
	return migrate.Apply(ctx, pool, "features", migrations, "migrations")
}

// Postgres is the Store on PostgreSQL (pgx v5 pool). Events are the
// durable, append-only log; a batch is written with COPY in one
// transaction, so it is stored whole or not at all.
type Postgres struct{ pool *pgxpool.Pool }

// NewPostgres returns a store over pool; the schema must be migrated.
func NewPostgres(pool *pgxpool.Pool) *Postgres { return &Postgres{pool: pool} }

// PutItems implements Store: COPY into a temporary table, then upsert,
// under the catalogue lock (see catalogueLock) so revisions commit in order.
func (p *Postgres) PutItems(ctx context.Context, items []domain.Item) error {
	return pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		if err := catalogueLock(ctx, tx); err != nil {
			return err
		}
		return putItems(ctx, tx, items)
	})
}

func putItems(ctx context.Context, tx pgx.Tx, items []domain.Item) error {
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE items_in (item_id BIGINT, title TEXT, genres TEXT[], year INT,
		available BOOLEAN, tags TEXT[], created_at TIMESTAMPTZ, expires_at TIMESTAMPTZ, retired_at TIMESTAMPTZ) ON COMMIT DROP`); err != nil {
		return err
	}
	rows := make([][]any, len(items))
	for i, it := range items {
		rows[i] = []any{it.ID, it.Title, nonNil(it.Categories), int32(it.Year), it.Available, nonNil(it.Tags),
			nullTime(it.CreatedAt), nullTime(it.ExpiresAt), nullTime(it.RetiredAt)}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"items_in"},
		[]string{"item_id", "title", "genres", "year", "available", "tags", "created_at", "expires_at", "retired_at"},
		pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("copy items: %w", err)
	}
	// A put without created_at keeps the stored one (or gets now()).
	if _, err := tx.Exec(ctx, `UPDATE items_in i SET created_at = s.created_at FROM items s
		WHERE i.item_id = s.item_id AND i.created_at IS NULL`); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `INSERT INTO items (item_id, title, genres, year, available, tags, created_at, expires_at, retired_at, rev)
		SELECT item_id, title, genres, year, available, tags, COALESCE(created_at, now()), expires_at, retired_at, nextval('item_rev')
		FROM (SELECT DISTINCT ON (item_id) * FROM items_in ORDER BY item_id) AS d
		ON CONFLICT (item_id) DO UPDATE SET title = EXCLUDED.title, genres = EXCLUDED.genres, year = EXCLUDED.year,
			available = EXCLUDED.available, tags = EXCLUDED.tags, created_at = EXCLUDED.created_at,
			expires_at = EXCLUDED.expires_at, retired_at = EXCLUDED.retired_at, rev = EXCLUDED.rev, updated_at = now()`)
	return err
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// nullTime is t, or NULL for the zero time.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

const itemColumns = `item_id, title, genres, year, available, tags, created_at, expires_at, retired_at, rev`

// scanItem reads one row of itemColumns.
func scanItem(row pgx.CollectableRow) (domain.Item, error) {
	var it domain.Item
	var year int32
	var expires, retired *time.Time
	if err := row.Scan(&it.ID, &it.Title, &it.Categories, &year, &it.Available, &it.Tags, &it.CreatedAt, &expires, &retired, &it.Rev); err != nil {
		return it, err
	}
	it.Year = int(year)
	it.CreatedAt = it.CreatedAt.UTC()
	if expires != nil {
		it.ExpiresAt = expires.UTC()
	}
	if retired != nil {
		it.RetiredAt = retired.UTC()
	}
	if len(it.Categories) == 0 {
		it.Categories = nil
	}
	if len(it.Tags) == 0 {
		it.Tags = nil
	}
	return it, nil
}

// Items implements Store.
func (p *Postgres) Items(ctx context.Context, ids []int64) (map[int64]domain.Item, error) {
	rows, _ := p.pool.Query(ctx, `SELECT `+itemColumns+` FROM items WHERE item_id = ANY($1)`, ids)
	items, err := pgx.CollectRows(rows, scanItem)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]domain.Item, len(items))
	for _, it := range items {
		out[it.ID] = it
	}
	return out, nil
}

// AppendEvents implements Store: one transaction, so all or none.
func (p *Postgres) AppendEvents(ctx context.Context, events []domain.Event) (fresh []domain.Event, err error) {
	err = pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		fresh, err = appendEvents(ctx, tx, events)
		return err
	})
	return fresh, err
}

// appendEvents writes events in tx: those without an EventID by COPY, the
// others by one INSERT that skips the (user, EventID) pairs on record.
func appendEvents(ctx context.Context, tx pgx.Tx, events []domain.Event) ([]domain.Event, error) {
	users := make([]string, 0, len(events))
	seen := map[string]bool{}
	var plain [][]any
	var named []int // indexes of the events with an EventID
	for i, e := range events {
		if e.EventID != "" {
			named = append(named, i)
		} else {
			plain = append(plain, []any{e.UserID, e.ItemID, e.Type, e.Value, e.TS, e.RequestID})
		}
		if !seen[e.UserID] {
			seen[e.UserID] = true
			users = append(users, e.UserID)
		}
	}
	if len(plain) > 0 {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"events"}, []string{"user_id", "item_id", "type", "value", "ts", "request_id"}, pgx.CopyFromRows(plain)); err != nil {
			return nil, fmt.Errorf("copy events: %w", err)
		}
	}
	fresh := events
	if len(named) > 0 {
		stored, err := insertNamedEvents(ctx, tx, events, named)
		if err != nil {
			return nil, err
		}
		if len(stored) < len(named) {
			fresh = make([]domain.Event, 0, len(events)-len(named)+len(stored))
			for _, e := range events {
				if e.EventID == "" || stored[eventKey{e.UserID, e.EventID}] {
					fresh = append(fresh, e)
					delete(stored, eventKey{e.UserID, e.EventID}) // a repeat within the batch counts once
				}
			}
		}
	}
	_, err := tx.Exec(ctx, `INSERT INTO users (user_id) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING`, users)
	return fresh, err
}

type eventKey struct{ user, id string }

// insertNamedEvents inserts events[named...], skipping those whose (user,
// EventID) is on record, and returns the pairs it stored.
func insertNamedEvents(ctx context.Context, tx pgx.Tx, events []domain.Event, named []int) (map[eventKey]bool, error) {
	n := len(named)
	users, ids, types, requests := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	items, tss := make([]int64, n), make([]int64, n)
	values := make([]float64, n)
	for j, i := range named {
		e := events[i]
		users[j], ids[j], types[j], requests[j], items[j], tss[j], values[j] = e.UserID, e.EventID, e.Type, e.RequestID, e.ItemID, e.TS, e.Value
	}
	rows, _ := tx.Query(ctx, `INSERT INTO events (user_id, item_id, type, value, ts, request_id, client_event_id)
		SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::float8[], $5::bigint[], $6::text[], $7::text[])
		ON CONFLICT (user_id, client_event_id) WHERE client_event_id IS NOT NULL DO NOTHING
		RETURNING user_id, client_event_id`, users, items, types, values, tss, requests, ids)
	stored := map[eventKey]bool{}
	var k eventKey
	_, err := pgx.ForEachRow(rows, []any{&k.user, &k.id}, func() error {
		stored[k] = true
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("insert events with ids: %w", err)
	}
	return stored, nil
}

// History implements Store in one round trip.
func (p *Postgres) History(ctx context.Context, userID string, recentLimit, seenCap int) (History, error) {
	var h History
	b := &pgx.Batch{}
	b.Queue(`SELECT item_id, type, value, ts FROM events WHERE user_id = $1 ORDER BY ts DESC, event_id DESC LIMIT $2`,
		userID, recentLimit).Query(func(rows pgx.Rows) error {
		var in domain.Interaction
		_, err := pgx.ForEachRow(rows, []any{&in.ItemID, &in.Type, &in.Value, &in.TS}, func() error {
			h.Recent = append(h.Recent, in)
			return nil
		})
		return err
	})
	b.Queue(`SELECT item_id FROM events WHERE user_id = $1 GROUP BY item_id ORDER BY max(ts) DESC LIMIT $2`,
		userID, seenCap).Query(func(rows pgx.Rows) error {
		var id int64
		_, err := pgx.ForEachRow(rows, []any{&id}, func() error {
			h.Seen = append(h.Seen, id)
			return nil
		})
		return err
	})
	b.Queue(`SELECT count(*) FROM events WHERE user_id = $1`, userID).QueryRow(func(row pgx.Row) error {
		return row.Scan(&h.Count)
	})
	b.Queue(`SELECT item_id, ts_ms FROM exposures WHERE user_id = $1 ORDER BY ts_ms DESC, exposure_id DESC LIMIT $2`,
		userID, MaxUserExposures).Query(func(rows pgx.Rows) error {
		var e domain.Exposure
		_, err := pgx.ForEachRow(rows, []any{&e.ItemID, &e.TSMillis}, func() error {
			h.Exposures = append(h.Exposures, e)
			return nil
		})
		return err
	})
	b.Queue(`SELECT profile FROM users WHERE user_id = $1`, userID).Query(func(rows pgx.Rows) error {
		var prof map[string]string
		_, err := pgx.ForEachRow(rows, []any{&prof}, func() error {
			if len(prof) > 0 {
				h.Profile = prof
			}
			return nil
		})
		return err
	})
	if err := p.pool.SendBatch(ctx, b).Close(); err != nil {
		return History{}, fmt.Errorf("history of %s: %w", userID, err)
	}
	return h, nil
}

// EventCount is the number of events in the log.
func (p *Postgres) EventCount(ctx context.Context) (int64, error) {
	var n int64
	err := p.pool.QueryRow(ctx, `SELECT count(*) FROM events`).Scan(&n)
	return n, err
}

// Replay rebuilds the real-time state from the event log: it resets rt,
// applies every event in log order, batch by batch, then each user's newest
// exposures. progress, if set, gets
// the running count. It returns the number of events replayed.
func Replay(ctx context.Context, p *Postgres, rt *RealTime, batch int, progress func(int64)) (int64, error) {
	if err := rt.Reset(ctx); err != nil {
		return 0, fmt.Errorf("replay: reset: %w", err)
	}
	var n int64
	err := p.ScanEvents(ctx, batch, func(events []domain.Event) error {
		if err := rt.Apply(ctx, events); err != nil {
			return err
		}
		n += int64(len(events))
		if progress != nil {
			progress(n)
		}
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("replay: %w", err)
	}
	if err := p.scanNewestExposures(ctx, MaxUserExposures, batch, func(rs []domain.ShownReply) error {
		return rt.AppendExposures(ctx, rs)
	}); err != nil {
		return n, fmt.Errorf("replay exposures: %w", err)
	}
	return n, nil
}

// ScanEvents hands the whole event log to fn in log order, batch events at
// a time (keyset pagination, so each page is one index range scan).
func (p *Postgres) ScanEvents(ctx context.Context, batch int, fn func([]domain.Event) error) error {
	var last int64
	for {
		rows, _ := p.pool.Query(ctx, `SELECT event_id, user_id, item_id, type, value, ts FROM events
			WHERE event_id > $1 ORDER BY event_id LIMIT $2`, last, batch)
		var events []domain.Event
		var e domain.Event
		if _, err := pgx.ForEachRow(rows, []any{&last, &e.UserID, &e.ItemID, &e.Type, &e.Value, &e.TS}, func() error {
			events = append(events, e)
			return nil
		}); err != nil {
			return err
		}
		if len(events) == 0 {
			return nil
		}
		if err := fn(events); err != nil {
			return err
		}
	}
}

// Catalogue returns every item, by id.
func (p *Postgres) Catalogue(ctx context.Context) ([]domain.Item, error) {
	rows, _ := p.pool.Query(ctx, `SELECT item_id FROM items ORDER BY item_id`)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("catalogue: %w", err)
	}
	byID, err := p.Items(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]domain.Item, 0, len(ids))
	for _, id := range ids {
		out = append(out, byID[id])
	}
	return out, nil
}
