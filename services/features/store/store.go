// Package store holds the features service's storage: the catalogue and the
// event log with the per-user state derived from it. Store is the interface;
// Memory is the in-process backend; storetest is the contract every backend
// must pass.
package store

import (
	"context"

	"github.com/recmesh/recmesh/pkg/domain"
)

// History is a user's interaction history as the service needs it.
type History struct {
	// Recent holds up to the requested number of interactions, newest first.
	Recent []domain.Interaction
	// Seen holds every distinct item the user interacted with, up to the cap.
	Seen []int64
	// Count is the number of interactions on record.
	Count int64
	// Exposures are the user's newest exposures (at most
	// MaxUserExposures), newest first, for frequency caps.
	Exposures []domain.Exposure
	// Profile holds the user's profile attributes, where the store keeps them.
	Profile map[string]string
}

// Store is the features service's storage.
type Store interface {
	// PutItems inserts or replaces catalogue items.
	PutItems(ctx context.Context, items []domain.Item) error
	// Items returns the known items among ids; unknown ids are absent.
	Items(ctx context.Context, ids []int64) (map[int64]domain.Item, error)
	// AppendEvents stores events durably, all or none, before returning.
	// An event whose EventID its user already has on record is not stored
	// again; fresh is what this call stored (events without an EventID
	// always are), in order.
	AppendEvents(ctx context.Context, events []domain.Event) (fresh []domain.Event, err error)
	// History returns the user's newest recentLimit interactions and up to
	// seenCap seen items. An unknown user has an empty history.
	History(ctx context.Context, userID string, recentLimit, seenCap int) (History, error)
}
