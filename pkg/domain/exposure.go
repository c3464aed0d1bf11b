package domain

import (
	"github.com/recmesh/recmesh/pkg/abtest"
	"github.com/recmesh/recmesh/pkg/apierr"
)

// ShownReply is one recommendation reply as the exposure log receives it:
// the reply's context and its items in the order shown. The log stores one
// row per item (rank = position + 1).
type ShownReply struct {
	RequestID    string
	TraceID      string
	UserID       string
	TSMillis     int64
	ModelVersion string
	Degraded     []string
	// Assignments are the user's variants in every layer, as the reply
	// carried them.
	Assignments []abtest.Assignment
	Items       []ShownItem
}

// ShownItem is one item of a reply, with the score and sources it was shown with.
type ShownItem struct {
	ItemID  int64
	Score   float64
	Sources []string
}

// Rows is the number of exposure rows the reply makes.
func (r *ShownReply) Rows() int { return len(r.Items) }

// Exposure is one time an item was shown to a user, as frequency caps need it.
type Exposure struct {
	ItemID   int64
	TSMillis int64
}

// FeedbackTypes are the event types attributed to exposures.
var FeedbackTypes = []string{"click", "like", "purchase", "completion"}

// IsFeedback reports whether an event of type t is attributed to an exposure.
func IsFeedback(t string) bool {
	for _, f := range FeedbackTypes {
		if f == t {
			return true
		}
	}
	return false
}

// ExposureQuery asks for one experiment's per-arm statistics.
type ExposureQuery struct {
	Layer, Experiment string
	// SinceMillis drops exposures before it (Unix milliseconds); 0 keeps all.
	SinceMillis int64
}

// Validate checks the query names an experiment.
func (q ExposureQuery) Validate() error {
	if q.Layer == "" || q.Experiment == "" {
		return apierr.Invalid("an exposure query needs a layer and an experiment")
	}
	if q.SinceMillis < 0 {
		return apierr.Invalid("since must not be negative")
	}
	return nil
}

// HoldoutArm is the arm name of the global holdout in exposure statistics.
const HoldoutArm = abtest.HoldoutLayer

// ArmStats are one arm's sums over its users: for each user u, e_u
// exposures, c_u exposures with an attributed click and l_u with an
// attributed like. They are enough for user-level (delta-method) intervals.
type ArmStats struct {
	Arm             string
	Users           int64
	Exposures       float64
	Clicks          float64
	Likes           float64
	ExposuresSq     float64
	ClicksSq        float64
	LikesSq         float64
	ExposuresClicks float64
	ExposuresLikes  float64
}

// AddUser folds one user's counts into the sums.
func (a *ArmStats) AddUser(e, c, l float64) {
	a.Users++
	a.Exposures += e
	a.Clicks += c
	a.Likes += l
	a.ExposuresSq += e * e
	a.ClicksSq += c * c
	a.LikesSq += l * l
	a.ExposuresClicks += e * c
	a.ExposuresLikes += e * l
}
