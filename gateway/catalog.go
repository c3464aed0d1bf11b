package gateway

import (
	"context"

	"github.com/recmesh/recmesh/pkg/apierr"
	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/services/features/featuresapi"
)

// IngestEvents hands a batch of events to features, which stores it
// durably (all or none, once per idempotency key) before it answers. A
// business error (an invalid event) is returned as such; any other
// failure means nothing was acknowledged and the caller should retry.
//
// Every user in the batch has their cached lists dropped, whatever the
// outcome (a batch may be stored in the instant its deadline passes), so
// their next request reflects it.
func (g *Gateway) IngestEvents(ctx context.Context, b domain.EventBatch) (int, error) {
	defer g.invalidateLists(ctx, eventUsers(b.Events)...)
	return hop(ctx, g.breakers.events, g.cfg.Budgets.Request, func(ctx context.Context) (int, error) {
		return g.hops.Features.IngestEvents(ctx, b)
	})
}

// GetItem returns one catalogue item.
func (g *Gateway) GetItem(ctx context.Context, id int64) (domain.Item, error) {
	return hop(ctx, g.breakers.items, g.cfg.Budgets.Features, func(ctx context.Context) (domain.Item, error) {
		return g.hops.Features.GetItem(ctx, id)
	})
}

var errNoCatalog = apierr.New(apierr.KindUnavailable, "this gateway has no catalogue service")

// write runs a catalogue or user write under the writes breaker and budget.
func write[T any](g *Gateway, ctx context.Context, f func(context.Context) (T, error)) (T, error) {
	return hop(ctx, g.breakers.writes, g.cfg.Budgets.Write, f)
}

// PutItems creates or replaces items, all or none.
func (g *Gateway) PutItems(ctx context.Context, items []domain.Item) ([]domain.Item, error) {
	if g.hops.Catalog == nil {
		return nil, errNoCatalog
	}
	return write(g, ctx, func(ctx context.Context) ([]domain.Item, error) { return g.hops.Catalog.PutItems(ctx, items) })
}

// PatchItem changes the fields p names.
func (g *Gateway) PatchItem(ctx context.Context, id int64, p domain.ItemPatch) (domain.Item, error) {
	if g.hops.Catalog == nil {
		return domain.Item{}, errNoCatalog
	}
	return write(g, ctx, func(ctx context.Context) (domain.Item, error) { return g.hops.Catalog.PatchItem(ctx, id, p) })
}

// RetireItem takes an item out of serving for good.
func (g *Gateway) RetireItem(ctx context.Context, id int64) (domain.Item, error) {
	if g.hops.Catalog == nil {
		return domain.Item{}, errNoCatalog
	}
	return write(g, ctx, func(ctx context.Context) (domain.Item, error) { return g.hops.Catalog.RetireItem(ctx, id) })
}

// User is what GET /v1/users/{id} returns.
type User struct {
	UserID string `json:"user_id"`
	// Recent are the newest interactions, newest first.
	Recent []Interaction `json:"recent"`
	// CategoryAffinity is the share of interest per category (sums to 1),
	// or the profile's categories for a user with no history.
	CategoryAffinity map[string]float64 `json:"category_affinity"`
	Interactions     int64              `json:"interactions"`
	SeenItems        int                `json:"seen_items"`
	Exposures        int                `json:"exposures"`
	Profile          map[string]string  `json:"profile"`
}

// Interaction is one of a user's recent interactions.
type Interaction struct {
	ItemID int64   `json:"item_id"`
	Type   string  `json:"type"`
	Value  float64 `json:"value"`
	TS     int64   `json:"ts"`
}

// GetUser returns what recmesh knows of a user; an unknown user is known
// to have nothing.
func (g *Gateway) GetUser(ctx context.Context, userID string) (User, error) {
	if err := domain.ValidateUserID(userID); err != nil {
		return User{}, err
	}
	f, err := hop(ctx, g.breakers.users, g.cfg.Budgets.Write, func(ctx context.Context) (domain.UserFeatures, error) {
		return g.hops.Features.GetUserFeatures(ctx, userID, 0)
	})
	if err != nil {
		return User{}, err
	}
	u := User{UserID: userID, Recent: make([]Interaction, len(f.Recent)), CategoryAffinity: f.GenreAffinity, Interactions: f.Count,
		SeenItems: len(f.Seen), Exposures: len(f.Exposures), Profile: f.Profile}
	for i, in := range f.Recent {
		u.Recent[i] = Interaction{ItemID: in.ItemID, Type: in.Type, Value: in.Value, TS: in.TS}
	}
	if u.CategoryAffinity == nil {
		u.CategoryAffinity = map[string]float64{}
	}
	if u.Profile == nil {
		u.Profile = map[string]string{}
	}
	return u, nil
}

// PutUser replaces a user's profile attributes.
func (g *Gateway) PutUser(ctx context.Context, userID string, profile map[string]string) error {
	if g.hops.Users == nil {
		return errNoCatalog
	}
	_, err := write(g, ctx, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, g.hops.Users.PutUserProfile(ctx, userID, profile)
	})
	return err
}

// ForgetUser erases a user (a right-to-erasure request).
func (g *Gateway) ForgetUser(ctx context.Context, userID string) (featuresapi.Forgotten, error) {
	if g.hops.Users == nil {
		return featuresapi.Forgotten{}, errNoCatalog
	}
	defer g.invalidateLists(ctx, userID)
	return write(g, ctx, func(ctx context.Context) (featuresapi.Forgotten, error) { return g.hops.Users.ForgetUser(ctx, userID) })
}
