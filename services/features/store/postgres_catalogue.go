package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/jackc/pgx/v5"

	"github.com/recmesh/recmesh/pkg/apierr"
	"github.com/recmesh/recmesh/pkg/domain"
)

var (
	_ Catalogue        = (*Postgres)(nil)
	_ Users            = (*Postgres)(nil)
	_ IdempotentEvents = (*Postgres)(nil)
)

// catalogueLockID is the advisory lock every catalogue write holds until
// it commits: revisions come from a sequence, and without the lock a write
// with a lower revision could commit after a follower has read a higher
// one, and be missed. Catalogue writes are rare, so serialising them costs
// nothing that matters.
const catalogueLockID = 0x7265636d657368 // "recmesh"

func catalogueLock(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(catalogueLockID))
	return err
}

// UpdateItem implements Catalogue: read for update, change, write back,
// in one transaction under the catalogue lock.
func (p *Postgres) UpdateItem(ctx context.Context, id int64, f func(*domain.Item) error) (domain.Item, error) {
	var out domain.Item
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		if err := catalogueLock(ctx, tx); err != nil {
			return err
		}
		rows, _ := tx.Query(ctx, `SELECT `+itemColumns+` FROM items WHERE item_id = $1`, id)
		it, err := pgx.CollectExactlyOneRow(rows, scanItem)
		if errors.Is(err, pgx.ErrNoRows) {
			return apierr.NotFound("item %d does not exist", id)
		}
		if err != nil {
			return err
		}
		if err := f(&it); err != nil {
			return err
		}
		if err := putItems(ctx, tx, []domain.Item{it}); err != nil {
			return err
		}
		rows, _ = tx.Query(ctx, `SELECT `+itemColumns+` FROM items WHERE item_id = $1`, id)
		out, err = pgx.CollectExactlyOneRow(rows, scanItem)
		return err
	})
	return out, err
}

// ItemChanges implements Catalogue with one range scan of items_rev.
func (p *Postgres) ItemChanges(ctx context.Context, since int64, limit int) ([]domain.Item, error) {
	rows, _ := p.pool.Query(ctx, `SELECT `+itemColumns+` FROM items WHERE rev > $1 ORDER BY rev LIMIT $2`, since, limit)
	items, err := pgx.CollectRows(rows, scanItem)
	if err != nil {
		return nil, fmt.Errorf("item changes after %d: %w", since, err)
	}
	return items, nil
}

// PutProfile implements Users.
func (p *Postgres) PutProfile(ctx context.Context, userID string, profile map[string]string) error {
	if profile == nil {
		profile = map[string]string{}
	}
	b, err := json.Marshal(profile)
	if err != nil {
		return err
	}
	_, err = p.pool.Exec(ctx, `INSERT INTO users (user_id, profile) VALUES ($1, $2)
		ON CONFLICT (user_id) DO UPDATE SET profile = EXCLUDED.profile`, userID, b)
	return err
}

// ForgetUser implements Users: one transaction deletes the user's events,
// exposures and profile row.
func (p *Postgres) ForgetUser(ctx context.Context, userID string) (Forgotten, error) {
	var f Forgotten
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM events WHERE user_id = $1`, userID)
		if err != nil {
			return err
		}
		f.Events = tag.RowsAffected()
		if tag, err = tx.Exec(ctx, `DELETE FROM exposures WHERE user_id = $1`, userID); err != nil {
			return err
		}
		f.Exposures = tag.RowsAffected()
		_, err = tx.Exec(ctx, `DELETE FROM users WHERE user_id = $1`, userID)
		return err
	})
	return f, err
}

// AppendEventsOnce implements IdempotentEvents: the key is inserted in the
// events' transaction, so the batch and its key commit together.
func (p *Postgres) AppendEventsOnce(ctx context.Context, key string, events []domain.Event) (Appended, error) {
	a := Appended{Accepted: len(events)}
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		if rand.IntN(100) == 0 { // prune expired keys now and then
			if _, err := tx.Exec(ctx, `DELETE FROM event_batches WHERE at < now() - $1::interval`, IdempotencyWindow.String()); err != nil {
				return err
			}
		}
		tag, err := tx.Exec(ctx, `INSERT INTO event_batches (key, accepted) VALUES ($1, $2)
			ON CONFLICT (key) DO UPDATE SET key = EXCLUDED.key WHERE event_batches.at < now() - $3::interval`,
			key, len(events), IdempotencyWindow.String())
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			a.Dup = true
			return tx.QueryRow(ctx, `SELECT accepted FROM event_batches WHERE key = $1`, key).Scan(&a.Accepted)
		}
		a.Fresh, err = appendEvents(ctx, tx, events)
		return err
	})
	return a, err
}
