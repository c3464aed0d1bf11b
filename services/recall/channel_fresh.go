package recall

import (
	"context"
	"math"
	"time"

	"github.com/recmesh/recmesh/pkg/domain"
)

// fresh recalls the newest servable items of the live catalogue, at most
// Options.FreshMaxAge old, scored 2^(-age / FreshHalfLife) in (0, 1]: an
// item put a moment ago is servable at once, before any training has seen
// it. It recalls nothing without a catalogue view.
type fresh struct{}

func (fresh) Recall(_ context.Context, in *Input, n int) []Scored {
	return newestScored(in, "", n, in.Now.Add(-in.Opts.FreshMaxAge))
}

// newestScored collects up to n admitted items of category ("" for all)
// from the live catalogue, newest first, none created before oldest, with
// their fresh scores.
func newestScored(in *Input, category string, n int, oldest time.Time) []Scored {
	var out []Scored
	in.Live.Newest(category, func(it *domain.Item) bool {
		if it.CreatedAt.Before(oldest) {
			return false
		}
		if in.admitsItem(it) {
			out = append(out, Scored{it.ID, freshScore(in, it)})
		}
		return len(out) < n
	})
	return out
}

func freshScore(in *Input, it *domain.Item) float64 {
	age := max(in.Now.Sub(it.CreatedAt), 0)
	return math.Exp2(-age.Hours() / in.Opts.FreshHalfLife.Hours())
}
