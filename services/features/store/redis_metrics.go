package store

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recmesh/recmesh/pkg/storeurl"
)

// redisHook times every Redis command and pipeline into storeurl.Metrics.
// redis.Nil (a missing key) is an answer, not an error.
type redisHook struct{ m *storeurl.Metrics }

func redisErr(err error) error {
	if errors.Is(err, redis.Nil) {
		return nil
	}
	return err
}

func (h redisHook) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		start := time.Now()
		c, err := next(ctx, network, addr)
		h.m.Observe("redis", "dial", start, err)
		return c, err
	}
}

func (h redisHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		start := time.Now()
		err := next(ctx, cmd)
		h.m.Observe("redis", cmd.Name(), start, redisErr(err))
		return err
	}
}

func (h redisHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		start := time.Now()
		err := next(ctx, cmds)
		h.m.Observe("redis", "pipeline", start, redisErr(err))
		return err
	}
}
