package store

import (
	"context"
	"time"

	"github.com/recmesh/recmesh/pkg/domain"
)

// Catalogue is the catalogue's write side: changes with a revision each, so
// recall, filter and the gateway follow them (ItemChanges) instead of
// waiting for a training. PutItems (Store) is its create-or-replace: every
// backend that implements Catalogue gives each put item the next revision
// and keeps an existing item's created_at when the put one has none (a new
// item gets the time of the put).
type Catalogue interface {
	// UpdateItem changes one item under a lock with f (which may refuse
	// the change with an error) and returns the stored item; a missing
	// item is apierr.NotFound.
	UpdateItem(ctx context.Context, id int64, f func(*domain.Item) error) (domain.Item, error)
	// ItemChanges returns up to limit items whose revision is after since,
	// in revision order.
	ItemChanges(ctx context.Context, since int64, limit int) ([]domain.Item, error)
}

// Users is what the store keeps of users besides their events: the
// profile attributes (History.Profile) and a way to forget them.
type Users interface {
	// PutProfile replaces the user's profile attributes.
	PutProfile(ctx context.Context, userID string, profile map[string]string) error
	// ForgetUser deletes the user's events, exposures, profile and derived
	// state, and returns how many events and exposures it deleted.
	ForgetUser(ctx context.Context, userID string) (Forgotten, error)
}

// Forgotten counts what ForgetUser erased.
type Forgotten struct {
	Events, Exposures int64
}

// IdempotentEvents stores an event batch at most once per key.
type IdempotentEvents interface {
	// AppendEventsOnce stores events as AppendEvents does, unless a batch
	// with key was stored within IdempotencyWindow: then it stores nothing
	// and answers as the first time (Accepted is that batch's size).
	AppendEventsOnce(ctx context.Context, key string, events []domain.Event) (Appended, error)
}

// Appended is what AppendEventsOnce did.
type Appended struct {
	// Accepted is the batch's size, or the first batch's for a repeated key.
	Accepted int
	// Dup is set when the key was on record: nothing was stored.
	Dup bool
	// Fresh are the events stored now: the batch less the events whose
	// EventID was on record.
	Fresh []domain.Event
}

// IdempotencyWindow is how long an event batch's idempotency key is kept.
const IdempotencyWindow = 24 * time.Hour

// ItemChangesLimit is the default and largest page of ItemChanges.
const ItemChangesLimit = 5000

// resolveCreated gives a put item its created_at: the put one, else the
// stored item's, else now.
func resolveCreated(put *domain.Item, old domain.Item, exists bool, now time.Time) {
	if !put.CreatedAt.IsZero() {
		return
	}
	if exists && !old.CreatedAt.IsZero() {
		put.CreatedAt = old.CreatedAt
		return
	}
	put.CreatedAt = now.UTC().Truncate(time.Millisecond)
}
