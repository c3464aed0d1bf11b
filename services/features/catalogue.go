package features

import (
	"context"
	"fmt"
	"time"

	"github.com/recmesh/recmesh/pkg/apierr"
	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/services/features/featuresapi"
	"github.com/recmesh/recmesh/services/features/store"
)

var _ featuresapi.Catalog = (*Service)(nil)

// PutItems implements featuresapi.Catalog: it validates every item (the
// first bad one refuses the batch), stores them all or none, and returns
// them as stored.
func (s *Service) PutItems(ctx context.Context, items []domain.Item) ([]domain.Item, error) {
	if len(items) == 0 {
		return nil, apierr.Invalid("the batch holds no items")
	}
	if len(items) > domain.MaxItemBatch {
		return nil, apierr.TooLarge("a batch holds at most %d items, got %d", domain.MaxItemBatch, len(items))
	}
	ids := make([]int64, len(items))
	dup := make(map[int64]bool, len(items))
	for i := range items {
		if err := items[i].Validate(); err != nil {
			e, _ := apierr.As(err)
			return nil, &apierr.Error{Kind: e.Kind, Message: fmt.Sprintf("items[%d]: %s", i, e.Message)}
		}
		if dup[items[i].ID] {
			return nil, apierr.Invalid("items[%d]: item %d is in the batch twice", i, items[i].ID)
		}
		dup[items[i].ID] = true
		items[i].RetiredAt, items[i].Rev = time.Time{}, 0 // a put brings a retired item back
		ids[i] = items[i].ID
	}
	if _, err := capability[store.Catalogue](s, "catalogue revisions"); err != nil {
		return nil, err
	}
	defer s.forgetGenres(ids...) // also when the put failed half way
	if err := s.store.PutItems(ctx, items); err != nil {
		return nil, fmt.Errorf("put %d items: %w", len(items), err)
	}
	stored, err := s.store.Items(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("read back %d items: %w", len(ids), err)
	}
	out := make([]domain.Item, len(ids))
	for i, id := range ids {
		out[i] = stored[id]
	}
	return out, nil
}

// PatchItem implements featuresapi.Catalog.
func (s *Service) PatchItem(ctx context.Context, id int64, p domain.ItemPatch) (domain.Item, error) {
	return s.update(ctx, id, func(it *domain.Item) error {
		p.Apply(it)
		return it.Validate()
	})
}

// RetireItem implements featuresapi.Catalog. Retiring a retired item
// keeps its first retirement time.
func (s *Service) RetireItem(ctx context.Context, id int64) (domain.Item, error) {
	now := s.now().UTC().Truncate(time.Millisecond)
	return s.update(ctx, id, func(it *domain.Item) error {
		if it.RetiredAt.IsZero() {
			it.RetiredAt = now
		}
		return nil
	})
}

func (s *Service) update(ctx context.Context, id int64, f func(*domain.Item) error) (domain.Item, error) {
	if id <= 0 {
		return domain.Item{}, apierr.Invalid("item_id must be a positive integer")
	}
	c, err := capability[store.Catalogue](s, "catalogue revisions")
	if err != nil {
		return domain.Item{}, err
	}
	defer s.forgetGenres(id)
	return c.UpdateItem(ctx, id, f)
}

// ItemChanges implements featuresapi.Catalog.
func (s *Service) ItemChanges(ctx context.Context, since int64, limit int) (featuresapi.ItemChanges, error) {
	if since < 0 || limit < 0 {
		return featuresapi.ItemChanges{}, apierr.Invalid("since and limit must not be negative")
	}
	if limit == 0 || limit > store.ItemChangesLimit {
		limit = store.ItemChangesLimit
	}
	c, err := capability[store.Catalogue](s, "catalogue revisions")
	if err != nil {
		return featuresapi.ItemChanges{}, err
	}
	items, err := c.ItemChanges(ctx, since, limit)
	if err != nil {
		return featuresapi.ItemChanges{}, err
	}
	next := since
	if n := len(items); n > 0 {
		next = items[n-1].Rev
	}
	return featuresapi.ItemChanges{Items: items, Next: next}, nil
}
