package store

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/recmesh/recmesh/pkg/apierr"
	"github.com/recmesh/recmesh/pkg/domain"
)

// AppendExposures adds the replies' items to each user's exposure set
// (trimmed to the newest MaxUserExposures) in one MULTI/EXEC pipeline. The
// filter reads that set as well as the seen set (see filterapi.Apply).
func (r *RealTime) AppendExposures(ctx context.Context, replies []domain.ShownReply) error {
	users := map[string]bool{}
	_, err := r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for i := range replies {
			rep := &replies[i]
			if len(rep.Items) == 0 {
				continue
			}
			zs := make([]redis.Z, len(rep.Items))
			for j, it := range rep.Items {
				zs[j] = redis.Z{Score: float64(rep.TSMillis), Member: fmt.Sprintf("%d:%d", it.ItemID, rep.TSMillis)}
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
		return fmt.Errorf("redis exposures of %d replies: %w", len(replies), err)
	}
	return nil
}

// ExposureStats implements ExposureLog: Redis keeps no exposure log, only
// what serving reads, so results need the PostgreSQL or memory store.
func (r *RealTime) ExposureStats(context.Context, domain.ExposureQuery, Attribution) ([]domain.ArmStats, error) {
	return nil, apierr.New(apierr.KindUnavailable, "the redis features store keeps no exposure log; results need -store postgres:// or memory:")
}
