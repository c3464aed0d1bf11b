// Package featuresapi is the features service's contract: its interface,
// request and reply types, gRPC client and codecs. Callers import this
// package only; the stores behind the service (PostgreSQL, Redis) live in
// package features and never reach a caller's build.
package featuresapi

import (
	"context"

	"github.com/recmesh/recmesh/pkg/domain"
)

// Name is the service's name in the registry.
const Name = "features"

// Service is the features service's business interface.
type Service interface {
	// GetUserFeatures returns what is known of the user; an unknown user gets
	// empty features, which sends the request down the cold-start path.
	GetUserFeatures(ctx context.Context, userID string, recentLimit int) (domain.UserFeatures, error)
	// IngestEvents validates the whole batch, stores it durably, and returns
	// how many events were accepted. An invalid event rejects the batch.
	IngestEvents(ctx context.Context, events []domain.Event) (int, error)
	// GetItem returns a catalogue item or a not_found error.
	GetItem(ctx context.Context, id int64) (domain.Item, error)
}

// Exposures is the features service's exposure log (it owns the log
// because it owns the event log and the seen set: exposures mark items seen
// and feedback is attributed to them in one database).
type Exposures interface {
	// LogExposures appends the replies' items to the log, one row per item,
	// marks them seen, and returns the rows written.
	LogExposures(ctx context.Context, replies []domain.ShownReply) (int, error)
	// ExposureStats aggregates one experiment's exposures and the feedback
	// attributed to them, per arm, at the user level.
	ExposureStats(ctx context.Context, q domain.ExposureQuery) ([]domain.ArmStats, error)
}

// MaxExposureBatch bounds the replies of one LogExposures call.
const MaxExposureBatch = 1000

// GetUserFeaturesRequest asks for one user's features.
type GetUserFeaturesRequest struct {
	UserID      string
	RecentLimit int
}
