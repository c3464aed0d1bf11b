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
	// how many events were accepted. An invalid event rejects the batch. A
	// batch whose idempotency key was accepted in the last 24 hours is not
	// stored again; the first answer is returned.
	IngestEvents(ctx context.Context, b domain.EventBatch) (int, error)
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

// Catalog is the catalogue's write side and its change feed.
type Catalog interface {
	// PutItems creates or replaces up to domain.MaxItemBatch items, all or
	// none, and returns them as stored (with created_at and revision).
	PutItems(ctx context.Context, items []domain.Item) ([]domain.Item, error)
	// PatchItem changes the fields the patch names.
	PatchItem(ctx context.Context, id int64, p domain.ItemPatch) (domain.Item, error)
	// RetireItem takes an item out of serving for good; it stays in the
	// catalogue for history.
	RetireItem(ctx context.Context, id int64) (domain.Item, error)
	// ItemChanges returns the items changed after revision since, in
	// revision order, at most limit (0: the server's page).
	ItemChanges(ctx context.Context, since int64, limit int) (ItemChanges, error)
}

// ItemChanges is a page of the catalogue's change feed.
type ItemChanges struct {
	Items []domain.Item
	// Next is the revision to ask after next time.
	Next int64
}

// Users manages what recmesh keeps of a user besides events.
type Users interface {
	// PutUserProfile replaces the user's profile attributes.
	PutUserProfile(ctx context.Context, userID string, profile map[string]string) error
	// ForgetUser erases the user's events, exposures, profile and
	// real-time state.
	ForgetUser(ctx context.Context, userID string) (Forgotten, error)
}

// Forgotten counts what ForgetUser erased.
type Forgotten struct {
	Events    int64 `json:"events"`
	Exposures int64 `json:"exposures"`
}

// ItemChangesRequest asks for the changes after Since.
type ItemChangesRequest struct {
	Since int64
	Limit int
}

// ProfileRequest sets one user's profile.
type ProfileRequest struct {
	UserID  string
	Profile map[string]string
}

// PatchRequest patches one item.
type PatchRequest struct {
	ID    int64
	Patch domain.ItemPatch
}

// MaxExposureBatch bounds the replies of one LogExposures call.
const MaxExposureBatch = 1000

// GetUserFeaturesRequest asks for one user's features.
type GetUserFeaturesRequest struct {
	UserID      string
	RecentLimit int
}
