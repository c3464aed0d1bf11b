package redislists

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recmesh/recmesh/pkg/depstest"
	"github.com/recmesh/recmesh/pkg/listcache/listcachetest"
)

func TestRedisStore(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: depstest.Env(t, "RECMESH_REDIS_ADDR")})
	defer func() { _ = rdb.Close() }()
	prefix := fmt.Sprintf("test:%d:", time.Now().UnixNano())
	listcachetest.Contract(t, NewRedis(rdb, prefix))
	keys, _ := rdb.Keys(context.Background(), prefix+"*").Result()
	if len(keys) > 0 {
		_ = rdb.Del(context.Background(), keys...).Err()
	}
}
