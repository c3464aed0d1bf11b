package store

import (
	"context"
	"time"

	"github.com/recmesh/recmesh/pkg/domain"
)

// ExposureLog is the exposure log: one row per item a reply showed, with
// the reply's request, trace, model version, degraded hops and every
// layer's variant. Memory and Postgres keep it (Durable writes it to
// PostgreSQL, then to Redis); the real-time state alone keeps only what
// serving needs: each user's newest exposures (History.Exposures), which
// the filter treats as seen, or caps by frequency when a variant asks.
type ExposureLog interface {
	// AppendExposures stores the replies' rows, all or none, and adds
	// them to each user's newest exposures.
	AppendExposures(ctx context.Context, replies []domain.ShownReply) error
	// ExposureStats aggregates the experiment's exposures, and the
	// feedback attributed to them, per arm at the user level (see
	// Attribution). The holdout, if any users were in it, is one more arm.
	ExposureStats(ctx context.Context, q domain.ExposureQuery, a Attribution) ([]domain.ArmStats, error)
}

// Attribution is the rule that ties a feedback event (click, like,
// purchase, completion) to one exposure, among the exposures of the
// experiment being read:
//
//  1. an event with a request_id goes to the exposure of its item in that
//     reply (of the same user);
//  2. otherwise, or when that reply's exposure is not in the log, to the
//     user's latest exposure of the item at or before the event, if it is
//     at most Window older than the event.
//
// An exposure counts as clicked (liked) when at least one click (like) is
// attributed to it, so CTR never exceeds 1.
type Attribution struct {
	Window time.Duration
}

// DefaultAttributionWindow is how far back an event without a request_id
// looks for the exposure it answers.
const DefaultAttributionWindow = 24 * time.Hour

// MaxUserExposures bounds the newest exposures kept per user
// (History.Exposures): the filter's exposure rules look this far back
// (100 replies of 10 items).
const MaxUserExposures = 1000

// armOf is the arm an exposure row belongs to in the experiment q reads,
// or "" when the row belongs to none of its arms.
func armOf(as map[string][2]string, q domain.ExposureQuery) string {
	if _, ok := as[domain.HoldoutArm]; ok {
		return domain.HoldoutArm
	}
	if a, ok := as[q.Layer]; ok && a[0] == q.Experiment {
		return a[1]
	}
	return ""
}
