// Package features is the features service: it owns the catalogue and the
// users' interactions, and derives the features the other hops use (recent
// items, genre affinity, the seen set).
package features

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/recmesh/recmesh/pkg/apierr"
	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/services/features/featuresapi"
	"github.com/recmesh/recmesh/services/features/store"
)

// Options tune the service.
type Options struct {
	// RecentLimit is the default number of recent interactions returned.
	RecentLimit int
	// AffinityWindow is how many recent interactions genre affinity is computed over.
	AffinityWindow int
	// SeenCap bounds the seen set returned for the filter.
	SeenCap int
	// MaxBatch bounds an ingest batch.
	MaxBatch int
	// Attribution ties feedback to exposures in ExposureStats.
	Attribution store.Attribution
}

// DefaultOptions are the defaults of the features service.
func DefaultOptions() Options {
	return Options{RecentLimit: 50, AffinityWindow: 200, SeenCap: 10000, MaxBatch: 1000,
		Attribution: store.Attribution{Window: store.DefaultAttributionWindow}}
}

// Service is the features service: the featuresapi contract and its exposure log.
type Service struct {
	store store.Store
	opts  Options
	now   func() time.Time
	// genres cache items' categories for the affinity (see itemGenres).
	genres *otter.Cache[int64, cachedGenres]
}

// cachedGenres are an item's categories as read at a time.
type cachedGenres struct {
	categories []string
	read       time.Time
}

// genresTTL is how long an item's categories are reused for the affinity
// before the store is asked again. A change made through this instance is
// seen at once; through another, within genresTTL.
const genresTTL = 10 * time.Second

// maxCachedGenres bounds the cache (about 100 bytes an item).
const maxCachedGenres = 200_000

var (
	_ featuresapi.Service   = (*Service)(nil)
	_ featuresapi.Exposures = (*Service)(nil)
)

// New returns the features service over st.
func New(st store.Store, opts Options) *Service {
	return &Service{store: st, opts: opts, now: time.Now,
		genres: otter.Must(&otter.Options[int64, cachedGenres]{MaximumSize: maxCachedGenres})}
}

func (s *Service) GetUserFeatures(ctx context.Context, userID string, recentLimit int) (domain.UserFeatures, error) {
	if err := domain.ValidateUserID(userID); err != nil {
		return domain.UserFeatures{}, err
	}
	if recentLimit <= 0 {
		recentLimit = s.opts.RecentLimit
	}
	if recentLimit > 1000 {
		return domain.UserFeatures{}, apierr.Invalid("recent_limit must be at most 1000")
	}
	h, err := s.store.History(ctx, userID, max(recentLimit, s.opts.AffinityWindow), s.opts.SeenCap)
	if err != nil {
		return domain.UserFeatures{}, fmt.Errorf("history of %s: %w", userID, err)
	}
	window := h.Recent
	if len(window) > s.opts.AffinityWindow {
		window = window[:s.opts.AffinityWindow]
	}
	aff, err := s.genreAffinity(ctx, window)
	if err != nil {
		return domain.UserFeatures{}, err
	}
	if len(aff) == 0 {
		aff = profileAffinity(h.Profile) // cold start
	}
	recent := h.Recent
	if len(recent) > recentLimit {
		recent = recent[:recentLimit]
	}
	return domain.UserFeatures{UserID: userID, Recent: recent, GenreAffinity: aff, Seen: h.Seen, Count: h.Count, Exposures: h.Exposures,
		Profile: h.Profile}, nil
}

// genreAffinity spreads each interaction's weight over its item's genres and
// normalises the result to sum to 1.
func (s *Service) genreAffinity(ctx context.Context, window []domain.Interaction) (map[string]float64, error) {
	if len(window) == 0 {
		return nil, nil
	}
	items, err := s.itemGenres(ctx, window)
	if err != nil {
		return nil, fmt.Errorf("items for affinity: %w", err)
	}
	return GenreAffinity(window, items), nil
}

// itemGenres are the window's items with their categories (only), from
// the cache where it has them fresh, and otherwise from the store in one
// call: every request reads up to AffinityWindow items, and in Redis each
// is a JSON document to decode.
func (s *Service) itemGenres(ctx context.Context, window []domain.Interaction) (map[int64]domain.Item, error) {
	now := s.now()
	out := make(map[int64]domain.Item, len(window))
	var missing []int64
	for _, in := range window {
		if _, done := out[in.ItemID]; done {
			continue
		}
		if g, ok := s.genres.GetIfPresent(in.ItemID); ok && now.Sub(g.read) < genresTTL {
			out[in.ItemID] = domain.Item{ID: in.ItemID, Categories: g.categories}
		} else {
			missing = append(missing, in.ItemID)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	slices.Sort(missing)
	items, err := s.store.Items(ctx, slices.Compact(missing))
	if err != nil {
		return nil, err
	}
	for id, it := range items {
		s.genres.Set(id, cachedGenres{categories: it.Categories, read: now})
		out[id] = domain.Item{ID: id, Categories: it.Categories}
	}
	return out, nil
}

// forgetGenres drops items from the genres cache after a change.
func (s *Service) forgetGenres(ids ...int64) {
	for _, id := range ids {
		s.genres.Invalidate(id)
	}
}

// GenreAffinity is the user's share of interest per genre over interactions.
// Items missing from items are skipped. It is exported so that offline
// training derives the feature exactly as the service does.
func GenreAffinity(interactions []domain.Interaction, items map[int64]domain.Item) map[string]float64 {
	aff := map[string]float64{}
	total := 0.0
	for _, in := range interactions {
		it, ok := items[in.ItemID]
		if !ok || len(it.Categories) == 0 {
			continue
		}
		w := in.Weight() / float64(len(it.Categories))
		for _, g := range it.Categories {
			aff[g] += w
			total += w
		}
	}
	if total == 0 {
		return nil
	}
	for g := range aff {
		aff[g] /= total
	}
	return aff
}

func (s *Service) IngestEvents(ctx context.Context, b domain.EventBatch) (int, error) {
	events := b.Events
	if err := domain.ValidateIdempotencyKey(b.IdempotencyKey); err != nil {
		return 0, err
	}
	if len(events) == 0 {
		return 0, apierr.Invalid("the batch holds no events")
	}
	if len(events) > s.opts.MaxBatch {
		return 0, apierr.TooLarge("a batch holds at most %d events, got %d", s.opts.MaxBatch, len(events))
	}
	now := s.now()
	for i := range events {
		if err := events[i].Validate(now); err != nil {
			e, _ := apierr.As(err)
			return 0, &apierr.Error{Kind: e.Kind, Message: fmt.Sprintf("events[%d]: %s", i, e.Message)}
		}
	}
	if b.IdempotencyKey != "" {
		ie, err := capability[store.IdempotentEvents](s, "idempotency keys")
		if err != nil {
			return 0, err
		}
		a, err := ie.AppendEventsOnce(ctx, b.IdempotencyKey, events)
		if err != nil {
			return 0, fmt.Errorf("append %d events: %w", len(events), err)
		}
		return a.Accepted, nil
	}
	if _, err := s.store.AppendEvents(ctx, events); err != nil {
		return 0, fmt.Errorf("append %d events: %w", len(events), err)
	}
	return len(events), nil
}

func (s *Service) GetItem(ctx context.Context, id int64) (domain.Item, error) {
	if id <= 0 {
		return domain.Item{}, apierr.Invalid("item_id must be a positive integer")
	}
	items, err := s.store.Items(ctx, []int64{id})
	if err != nil {
		return domain.Item{}, fmt.Errorf("item %d: %w", id, err)
	}
	it, ok := items[id]
	if !ok {
		return domain.Item{}, apierr.NotFound("item %d does not exist", id)
	}
	return it, nil
}

// capability is the service's store as T (its exposure log, catalogue,
// users, idempotent events), or an unavailable error naming what the
// backend lacks (the Redis-alone store keeps none of them).
func capability[T any](s *Service, lacks string) (T, error) {
	v, ok := s.store.(T)
	if !ok {
		return v, apierr.New(apierr.KindUnavailable, "this features store keeps no %s", lacks)
	}
	return v, nil
}

// LogExposures implements featuresapi.Exposures.
func (s *Service) LogExposures(ctx context.Context, replies []domain.ShownReply) (int, error) {
	if len(replies) > featuresapi.MaxExposureBatch {
		return 0, apierr.TooLarge("an exposure batch holds at most %d replies, got %d", featuresapi.MaxExposureBatch, len(replies))
	}
	rows := 0
	for i := range replies {
		if err := domain.ValidateUserID(replies[i].UserID); err != nil {
			e, _ := apierr.As(err)
			return 0, &apierr.Error{Kind: e.Kind, Message: fmt.Sprintf("replies[%d]: %s", i, e.Message)}
		}
		rows += replies[i].Rows()
	}
	l, err := capability[store.ExposureLog](s, "exposure log")
	if err != nil {
		return 0, err
	}
	if err := l.AppendExposures(ctx, replies); err != nil {
		return 0, fmt.Errorf("append %d exposure rows: %w", rows, err)
	}
	return rows, nil
}

// ExposureStats implements featuresapi.Exposures.
func (s *Service) ExposureStats(ctx context.Context, q domain.ExposureQuery) ([]domain.ArmStats, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	l, err := capability[store.ExposureLog](s, "exposure log")
	if err != nil {
		return nil, err
	}
	return l.ExposureStats(ctx, q, s.opts.Attribution)
}
