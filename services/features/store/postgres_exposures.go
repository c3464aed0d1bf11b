package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/recmesh/recmesh/pkg/domain"
)

var exposureColumns = []string{"request_id", "trace_id", "user_id", "item_id", "rank", "score", "sources",
	"model_version", "degraded", "assignments", "ts_ms"}

// AppendExposures implements ExposureLog with one COPY.
func (p *Postgres) AppendExposures(ctx context.Context, replies []domain.ShownReply) error {
	var rows [][]any
	for i := range replies {
		r := &replies[i]
		as, err := json.Marshal(assignmentMap(r))
		if err != nil {
			return err
		}
		degraded := r.Degraded
		if degraded == nil {
			degraded = []string{}
		}
		for rank, it := range r.Items {
			sources := it.Sources
			if sources == nil {
				sources = []string{}
			}
			rows = append(rows, []any{r.RequestID, r.TraceID, r.UserID, it.ItemID, int32(rank + 1), it.Score, sources,
				r.ModelVersion, degraded, string(as), r.TSMillis})
		}
	}
	if len(rows) == 0 {
		return nil
	}
	if _, err := p.pool.CopyFrom(ctx, pgx.Identifier{"exposures"}, exposureColumns, pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("copy exposures: %w", err)
	}
	return nil
}

// exposureStatsSQL computes, in one statement, what Memory.ExposureStats
// computes: the experiment's rows (x), each feedback event's one exposure
// (fb, by the Attribution rule), the clicked and liked flags per exposure,
// the counts per user and arm, and the sums per arm.
const exposureStatsSQL = `
WITH x AS (
	SELECT exposure_id, request_id, user_id, item_id, ts_ms,
		CASE WHEN assignments ? 'holdout' THEN 'holdout' ELSE assignments -> $1 ->> 1 END AS arm
	FROM exposures
	WHERE ts_ms >= $3 AND (assignments ? 'holdout' OR assignments -> $1 ->> 0 = $2)
), fb AS (
	SELECT DISTINCT ON (ev.event_id) ev.type, x.exposure_id
	FROM events ev JOIN x ON x.user_id = ev.user_id AND x.item_id = ev.item_id
	WHERE ev.type IN ('click', 'like', 'purchase', 'completion')
		AND ((ev.request_id <> '' AND x.request_id = ev.request_id)
			OR (x.ts_ms <= ev.ts * 1000 + 999 AND ev.ts * 1000 - x.ts_ms <= $4))
	ORDER BY ev.event_id, (ev.request_id <> '' AND x.request_id = ev.request_id) DESC, x.ts_ms DESC, x.exposure_id DESC
), flags AS (
	SELECT exposure_id, bool_or(type = 'click') AS clicked, bool_or(type = 'like') AS liked FROM fb GROUP BY exposure_id
), per_user AS (
	SELECT x.arm, x.user_id, count(*)::float8 AS e,
		(count(*) FILTER (WHERE f.clicked))::float8 AS c, (count(*) FILTER (WHERE f.liked))::float8 AS l
	FROM x LEFT JOIN flags f USING (exposure_id)
	GROUP BY x.arm, x.user_id
)
SELECT arm, count(*), sum(e), sum(c), sum(l), sum(e*e), sum(c*c), sum(l*l), sum(e*c), sum(e*l)
FROM per_user GROUP BY arm ORDER BY arm`

// ExposureStats implements ExposureLog.
func (p *Postgres) ExposureStats(ctx context.Context, q domain.ExposureQuery, a Attribution) ([]domain.ArmStats, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	rows, err := p.pool.Query(ctx, exposureStatsSQL, q.Layer, q.Experiment, q.SinceMillis, a.Window.Milliseconds())
	if err != nil {
		return nil, fmt.Errorf("exposure stats: %w", err)
	}
	var out []domain.ArmStats
	var s domain.ArmStats
	_, err = pgx.ForEachRow(rows, []any{&s.Arm, &s.Users, &s.Exposures, &s.Clicks, &s.Likes, &s.ExposuresSq, &s.ClicksSq,
		&s.LikesSq, &s.ExposuresClicks, &s.ExposuresLikes}, func() error {
		out = append(out, s)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("exposure stats: %w", err)
	}
	return out, nil
}

// scanNewestExposures hands each user's newest perUser exposures to fn,
// batch rows at a time, as one-item replies.
func (p *Postgres) scanNewestExposures(ctx context.Context, perUser, batch int, fn func([]domain.ShownReply) error) error {
	rows, err := p.pool.Query(ctx, `SELECT user_id, item_id, ts_ms FROM (
		SELECT user_id, item_id, ts_ms, row_number() OVER (PARTITION BY user_id ORDER BY ts_ms DESC, exposure_id DESC) AS n
		FROM exposures) e WHERE n <= $1`, perUser)
	if err != nil {
		return err
	}
	var buf []domain.ShownReply
	var r domain.ShownReply
	var item int64
	_, err = pgx.ForEachRow(rows, []any{&r.UserID, &item, &r.TSMillis}, func() error {
		buf = append(buf, domain.ShownReply{UserID: r.UserID, TSMillis: r.TSMillis, Items: []domain.ShownItem{{ItemID: item}}})
		if len(buf) < batch {
			return nil
		}
		err := fn(buf)
		buf = nil
		return err
	})
	if err == nil && len(buf) > 0 {
		err = fn(buf)
	}
	return err
}
