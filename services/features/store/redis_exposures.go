package store

import (
	"context"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/recmesh/recmesh/pkg/apierr"
	"github.com/recmesh/recmesh/pkg/domain"
)

// AppendExposures adds the replies' items to each user's exposure set
// (trimmed to the newest MaxUserExposures), members "item:ts" scored by
// ts. The filter reads that set as well as the seen set (see
// filterapi.Apply). Plain pipelines of exposureChunk replies, not one
// MULTI/EXEC: a transaction of a whole batch held Redis for about 10 ms
// under load, and every user's history read waited behind it (each
// user's ZADD and trim need no atomicity with other users').
func (r *RealTime) AppendExposures(ctx context.Context, replies []domain.ShownReply) error {
	for len(replies) > 0 {
		batch := replies[:min(len(replies), exposureChunk)]
		replies = replies[len(batch):]
		users := map[string]bool{}
		_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i := range batch {
				rep := &batch[i]
				if len(rep.Items) == 0 {
					continue
				}
				zs := make([]redis.Z, len(rep.Items))
				for j, it := range rep.Items {
					zs[j] = redis.Z{Score: float64(rep.TSMillis), Member: strconv.FormatInt(it.ItemID, 10) + ":" + strconv.FormatInt(rep.TSMillis, 10)}
				}
				p.ZAdd(ctx, r.key("exposed", rep.UserID), zs...)
				users[rep.UserID] = true
			}
			for u := range users {
				p.ZRemRangeByRank(ctx, r.key("exposed", u), 0, -MaxUserExposures-1)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("redis exposures of %d replies: %w", len(batch), err)
		}
	}
	return nil
}

// exposureChunk is how many replies one pipeline of AppendExposures carries.
const exposureChunk = 50

// ExposureStats implements ExposureLog: Redis keeps no exposure log, only
// what serving reads, so results need the PostgreSQL or memory store.
func (r *RealTime) ExposureStats(context.Context, domain.ExposureQuery, Attribution) ([]domain.ArmStats, error) {
	return nil, apierr.New(apierr.KindUnavailable, "the redis features store keeps no exposure log; results need -store postgres:// or memory:")
}
