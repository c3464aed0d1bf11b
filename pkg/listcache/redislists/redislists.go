// Package redislists is the list cache's shared level in Redis (a
// listcache.Store), kept apart so the gateway links no store driver: the
// binary that runs it opens this store and hands it over.
package redislists

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/pkg/listcache"
	"github.com/recmesh/recmesh/pkg/storeurl"
	pb "github.com/recmesh/recmesh/proto/recmesh/v1"
)

// Redis is the listcache.Store in Redis: one hash per user, prefix+"lists:{user}",
// with a field per key for the list ("l:"+key, a RankedList) and one for
// the items served from it ("s:"+key, ServedItems), so invalidating a user
// is one DEL, and the braces keep a user's lists on one Redis Cluster
// slot. An invalidated user's hash keeps one field, "inv", the
// invalidation's time in Unix milliseconds, for listcache.MarkTTL: Put
// refuses lists built before it. (Replicas compare their own clocks
// there, so their skew bounds what the mark catches.) Invalidations are announced on the channel prefix+"lists:invalidate".
type Redis struct {
	rdb    redis.UniversalClient
	prefix string
}

// NewRedis returns the store over rdb, its keys under prefix ("rm:" by default).
func NewRedis(rdb redis.UniversalClient, prefix string) *Redis {
	return &Redis{rdb: rdb, prefix: prefix}
}

func (r *Redis) key(user string) string { return r.prefix + "lists:{" + user + "}" }
func (r *Redis) channel() string        { return r.prefix + "lists:invalidate" }

// Get implements listcache.Store.
func (r *Redis) Get(ctx context.Context, user, key string) (listcache.List, []int64, bool, error) {
	vals, err := r.rdb.HMGet(ctx, r.key(user), "l:"+key, "s:"+key).Result()
	if err != nil || vals[0] == nil {
		return listcache.List{}, nil, false, err
	}
	var rl pb.RankedList
	if err := rl.UnmarshalVT([]byte(vals[0].(string))); err != nil {
		return listcache.List{}, nil, false, fmt.Errorf("list of %s: %w", user, err)
	}
	items, err := domain.CandidatesFromPB(rl.Candidates)
	if err != nil {
		return listcache.List{}, nil, false, fmt.Errorf("list of %s: %w", user, err)
	}
	var served pb.ServedItems
	if s, ok := vals[1].(string); ok {
		if err := served.UnmarshalVT([]byte(s)); err != nil {
			return listcache.List{}, nil, false, fmt.Errorf("served items of %s: %w", user, err)
		}
	}
	return listcache.List{Items: items, ModelVersion: rl.ModelVersion, Versions: rl.Versions, Scene: rl.Scene, Categories: rl.Categories,
		Built: time.UnixMilli(rl.BuiltUnixMs)}, served.ItemIds, true, nil
}

// Put implements listcache.Store. The hash's TTL is the newest list's: a user's
// lists are all built within a few pages of each other.
func (r *Redis) Put(ctx context.Context, user, key string, l listcache.List, ttl time.Duration) error {
	b, err := (&pb.RankedList{Candidates: domain.CandidatesToPB(l.Items, true), ModelVersion: l.ModelVersion, Versions: l.Versions,
		Scene: l.Scene, Categories: l.Categories, BuiltUnixMs: l.Built.UnixMilli()}).MarshalVT()
	if err != nil {
		return err
	}
	return putScript.Run(ctx, r.rdb, []string{r.key(user)}, "l:"+key, "s:"+key, b, l.Built.UnixMilli(), ttl.Milliseconds()).Err()
}

// putScript: KEYS[1] the user's hash; ARGV the list's field, its served
// field, the list, when it was built (ms) and its TTL (ms). The hash's TTL
// is the newest list's, or the mark's if that is longer.
var putScript = redis.NewScript(`
local inv = redis.call('HGET', KEYS[1], 'inv')
if inv and tonumber(inv) >= tonumber(ARGV[4]) then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HDEL', KEYS[1], ARGV[2])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[5]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
end
return 1`)

// Served implements listcache.Store: only while the list is there, so a write that
// arrives after an invalidation does not bring a user's hash back.
func (r *Redis) Served(ctx context.Context, user, key string, served []int64) error {
	b, err := (&pb.ServedItems{ItemIds: served}).MarshalVT()
	if err != nil {
		return err
	}
	return servedScript.Run(ctx, r.rdb, []string{r.key(user)}, "l:"+key, "s:"+key, b).Err()
}

var servedScript = redis.NewScript(`
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
  redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
end
return 0`)

// Invalidate implements listcache.Store.
func (r *Redis) Invalidate(ctx context.Context, user string) error {
	k := r.key(user)
	_, err := r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, k)
		p.HSet(ctx, k, "inv", time.Now().UnixMilli())
		p.PExpire(ctx, k, listcache.MarkTTL)
		p.Publish(ctx, r.channel(), user)
		return nil
	})
	return err
}

// Invalidations implements listcache.Store. A replica that loses its subscription
// (Redis restarted) resubscribes; it may miss announcements meanwhile, for
// which lists' TTLs are the bound.
func (r *Redis) Invalidations(ctx context.Context) (<-chan string, error) {
	sub := r.rdb.Subscribe(ctx, r.channel())
	out := make(chan string, 256)
	go func() {
		defer close(out)
		defer func() { _ = sub.Close() }()
		msgs := sub.Channel()
		for {
			select {
			case <-ctx.Done():
				return
			case m, ok := <-msgs:
				if !ok {
					return
				}
				select {
				case out <- m.Payload:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, nil
}

// Open opens the store a redis:// URL names; its prefix query
// parameter overrides the key prefix ("rm:"). It does not wait for Redis:
// see Ping.
func Open(dsn string) (*Redis, func(), error) {
	o, prefix, err := storeurl.RedisOptions(dsn, "rm:")
	if err != nil {
		return nil, nil, fmt.Errorf("list cache: %w", err)
	}
	rdb := redis.NewClient(o)
	return NewRedis(rdb, prefix), func() { _ = rdb.Close() }, nil
}

// Ping reports whether Redis answers.
func (r *Redis) Ping(ctx context.Context) error { return r.rdb.Ping(ctx).Err() }
