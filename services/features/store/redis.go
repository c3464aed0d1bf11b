package store

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/recmesh/recmesh/pkg/domain"
)

// RealTime is the features service's real-time state in Redis. It is
// derived from the event log, never the other way round: PostgreSQL makes an
// event durable first, Apply then updates Redis, and Replay can rebuild
// Redis from the log at any time. The keys are
//
//	<prefix>recent:<user>  list of "item type value ts", newest first, capped
//	<prefix>seen:<user>    set of item ids
//	<prefix>count:<user>   number of the user's events
//	<prefix>exposed:<user> sorted set of "item:ms" exposures scored by time (ms),
//	                       the newest MaxUserExposures, for frequency caps
//	<prefix>item:<id>      a catalogue item, as JSON
//	<prefix>profile:<user> hash of the user's profile attributes
//
// It implements Store, so it passes the same contract as the other backends
// and can serve alone where losing the state on a Redis failure is
// acceptable; in dev and production it sits behind Durable.
type RealTime struct {
	rdb  redis.UniversalClient
	opts RealTimeOptions
}

// RealTimeOptions tune the real-time state.
type RealTimeOptions struct {
	// Prefix namespaces every key.
	Prefix string
	// RecentCap bounds each user's recent list.
	RecentCap int
}

// DefaultRealTimeOptions keep 200 recent items per user under "rm:".
func DefaultRealTimeOptions() RealTimeOptions {
	return RealTimeOptions{Prefix: "rm:", RecentCap: 200}
}

// NewRealTime returns the real-time state in rdb.
func NewRealTime(rdb redis.UniversalClient, o RealTimeOptions) *RealTime {
	return &RealTime{rdb: rdb, opts: o}
}

func (r *RealTime) key(parts ...string) string { return r.opts.Prefix + strings.Join(parts, ":") }

// Apply folds events, in order, into the state with one MULTI/EXEC pipeline.
func (r *RealTime) Apply(ctx context.Context, events []domain.Event) error {
	if len(events) == 0 {
		return nil
	}
	users := map[string]bool{}
	_, err := r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for _, e := range events {
			entry := fmt.Sprintf("%d %s %g %d", e.ItemID, e.Type, e.Value, e.TS)
			id := strconv.FormatInt(e.ItemID, 10)
			p.LPush(ctx, r.key("recent", e.UserID), entry)
			p.SAdd(ctx, r.key("seen", e.UserID), id)
			p.Incr(ctx, r.key("count", e.UserID))
			users[e.UserID] = true
		}
		for u := range users {
			p.LTrim(ctx, r.key("recent", u), 0, int64(r.opts.RecentCap-1))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("redis apply %d events: %w", len(events), err)
	}
	return nil
}

// Recent returns up to n of the user's newest interactions, in arrival order.
func (r *RealTime) Recent(ctx context.Context, user string, n int) ([]domain.Interaction, error) {
	entries, err := r.rdb.LRange(ctx, r.key("recent", user), 0, int64(n-1)).Result()
	if err != nil {
		return nil, fmt.Errorf("redis recent of %s: %w", user, err)
	}
	return parseRecent(user, entries)
}

func parseRecent(user string, entries []string) ([]domain.Interaction, error) {
	out := make([]domain.Interaction, 0, len(entries))
	for _, s := range entries {
		in, err := parseEntry(s)
		if err != nil {
			return nil, fmt.Errorf("redis recent of %s: bad entry %q: %w", user, s, err)
		}
		out = append(out, in)
	}
	return out, nil
}

// parseEntry reads one "item type value ts" list entry.
func parseEntry(s string) (domain.Interaction, error) {
	var in domain.Interaction
	f := strings.Fields(s)
	if len(f) != 4 {
		return in, fmt.Errorf("want 4 fields, got %d", len(f))
	}
	var err1, err2, err3 error
	in.ItemID, err1 = strconv.ParseInt(f[0], 10, 64)
	in.Type = f[1]
	in.Value, err2 = strconv.ParseFloat(f[2], 64)
	in.TS, err3 = strconv.ParseInt(f[3], 10, 64)
	return in, errors.Join(err1, err2, err3)
}

// History reads the user's state in one round trip: the capped recent list
// (sorted newest first, so late-arriving events land in place), up to
// seenCap seen items and the event count.
func (r *RealTime) History(ctx context.Context, user string, recentLimit, seenCap int) (History, error) {
	p := r.rdb.Pipeline()
	recent := p.LRange(ctx, r.key("recent", user), 0, -1)
	seen := p.SRandMemberN(ctx, r.key("seen", user), int64(seenCap))
	count := p.Get(ctx, r.key("count", user))
	// Members are "item:ts", so the scores (ts again) need not travel.
	exposed := p.ZRevRange(ctx, r.key("exposed", user), 0, MaxUserExposures-1)
	profile := p.HGetAll(ctx, r.key("profile", user))
	if _, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return History{}, fmt.Errorf("redis history of %s: %w", user, err)
	}
	in, err := parseRecent(user, recent.Val())
	if err != nil {
		return History{}, err
	}
	slices.SortStableFunc(in, func(a, b domain.Interaction) int { return cmp.Compare(b.TS, a.TS) })
	h := History{Recent: in[:min(len(in), recentLimit)]}
	if prof := profile.Val(); len(prof) > 0 {
		h.Profile = prof
	}
	for _, m := range seen.Val() {
		id, err := strconv.ParseInt(m, 10, 64)
		if err != nil {
			return History{}, fmt.Errorf("redis seen of %s: bad member %q", user, m)
		}
		h.Seen = append(h.Seen, id)
	}
	if c := count.Val(); c != "" {
		if h.Count, err = strconv.ParseInt(c, 10, 64); err != nil {
			return History{}, fmt.Errorf("redis count of %s: %q", user, c)
		}
	}
	h.Exposures = make([]domain.Exposure, 0, len(exposed.Val()))
	for _, m := range exposed.Val() {
		item, at, _ := strings.Cut(m, ":")
		id, err := strconv.ParseInt(item, 10, 64)
		ts, err2 := strconv.ParseInt(at, 10, 64)
		if err != nil || err2 != nil {
			return History{}, fmt.Errorf("redis exposures of %s: bad member %q", user, m)
		}
		h.Exposures = append(h.Exposures, domain.Exposure{ItemID: id, TSMillis: ts})
	}
	return h, nil
}

// Seen returns the items the user has interacted with.
func (r *RealTime) Seen(ctx context.Context, user string) ([]int64, error) {
	members, err := r.rdb.SMembers(ctx, r.key("seen", user)).Result()
	if err != nil {
		return nil, fmt.Errorf("redis seen of %s: %w", user, err)
	}
	out := make([]int64, 0, len(members))
	for _, m := range members {
		id, err := strconv.ParseInt(m, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("redis seen of %s: bad member %q", user, m)
		}
		out = append(out, id)
	}
	return out, nil
}

// AppendEvents implements Store: Apply, less the events whose EventID is
// on record. Redis alone keeps a user's event ids for IdempotencyWindow
// after their last named event (a hash per user, set with HSETNX); with
// PostgreSQL behind it (Durable), the record decides instead.
func (r *RealTime) AppendEvents(ctx context.Context, events []domain.Event) ([]domain.Event, error) {
	fresh := events
	var claims []*redis.BoolCmd
	p := r.rdb.Pipeline()
	for _, e := range events {
		if e.EventID != "" {
			k := r.key("eventids", e.UserID)
			claims = append(claims, p.HSetNX(ctx, k, e.EventID, e.TS))
			p.Expire(ctx, k, IdempotencyWindow)
		}
	}
	if len(claims) > 0 {
		if _, err := p.Exec(ctx); err != nil {
			return nil, fmt.Errorf("redis event ids: %w", err)
		}
		fresh = make([]domain.Event, 0, len(events))
		for _, e := range events {
			if e.EventID != "" {
				claimed := claims[0].Val()
				claims = claims[1:]
				if !claimed {
					continue
				}
			}
			fresh = append(fresh, e)
		}
	}
	return fresh, r.Apply(ctx, fresh)
}

// PutItems implements Store, writing every item in one MSET.
func (r *RealTime) PutItems(ctx context.Context, items []domain.Item) error {
	if len(items) == 0 {
		return nil
	}
	pairs := make([]any, 0, 2*len(items))
	for _, it := range items {
		b, err := json.Marshal(it)
		if err != nil {
			return err
		}
		pairs = append(pairs, r.key("item", strconv.FormatInt(it.ID, 10)), b)
	}
	if err := r.rdb.MSet(ctx, pairs...).Err(); err != nil {
		return fmt.Errorf("redis put %d items: %w", len(items), err)
	}
	return nil
}

// Items implements Store with one MGET.
func (r *RealTime) Items(ctx context.Context, ids []int64) (map[int64]domain.Item, error) {
	out := make(map[int64]domain.Item, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = r.key("item", strconv.FormatInt(id, 10))
	}
	vals, err := r.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("redis items: %w", err)
	}
	for i, v := range vals {
		s, ok := v.(string)
		if !ok {
			continue // absent
		}
		var it domain.Item
		if err := json.Unmarshal([]byte(s), &it); err != nil {
			return nil, fmt.Errorf("redis item %d: %w", ids[i], err)
		}
		out[it.ID] = it
	}
	return out, nil
}

// Reset deletes every key under the prefix.
func (r *RealTime) Reset(ctx context.Context) error {
	iter := r.rdb.Scan(ctx, 0, r.opts.Prefix+"*", 1000).Iterator()
	var batch []string
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == 1000 {
			if err := r.rdb.Unlink(ctx, batch...).Err(); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if err := iter.Err(); err != nil {
		return err
	}
	if len(batch) > 0 {
		return r.rdb.Unlink(ctx, batch...).Err()
	}
	return nil
}
