// Package filter is the filter service: it drops candidates a user must not
// see and reports how many each rule dropped.
package filter

import (
	"context"
	"sync/atomic"

	"github.com/recmesh/recmesh/pkg/apierr"
	"github.com/recmesh/recmesh/pkg/domain"
)

// The rule names, as reported in Response.Dropped.
const (
	RuleDuplicate = "duplicate"
	RuleSeen      = "seen"
	RuleBlocked   = "blocked"
	RuleGenreCap  = "genre_cap"
)

// Request asks to filter one user's candidates.
type Request struct {
	UserID     string
	Candidates []domain.Candidate
	// Seen holds the items the user already interacted with.
	Seen []int64
	// MaxPerGenre caps kept candidates per genre; 0 means the service default.
	MaxPerGenre int
}

// Response carries the kept candidates, in their original order.
type Response struct {
	Kept    []domain.Candidate
	Dropped map[string]int
}

// Service is the filter service's business interface.
type Service interface {
	Filter(ctx context.Context, req Request) (Response, error)
}

// MaxCandidates bounds a request.
const MaxCandidates = 5000

// Filterer is the filter service. Its blocklist can be replaced while it serves.
type Filterer struct {
	blocked     atomic.Pointer[map[int64]struct{}]
	maxPerGenre int
}

// New returns a filter with the given default genre cap and blocklist.
func New(defaultMaxPerGenre int, blocked []int64) *Filterer {
	f := &Filterer{maxPerGenre: defaultMaxPerGenre}
	f.SetBlocklist(blocked)
	return f
}

// SetBlocklist atomically replaces the blocked items.
func (f *Filterer) SetBlocklist(ids []int64) {
	m := make(map[int64]struct{}, len(ids))
	for _, id := range ids {
		m[id] = struct{}{}
	}
	f.blocked.Store(&m)
}

// Filter applies, in order: duplicate, seen, blocked, then the genre cap
// (an item is dropped when any of its genres is already full).
func (f *Filterer) Filter(_ context.Context, req Request) (Response, error) {
	if len(req.Candidates) > MaxCandidates {
		return Response{}, apierr.TooLarge("at most %d candidates, got %d", MaxCandidates, len(req.Candidates))
	}
	if req.MaxPerGenre < 0 {
		return Response{}, apierr.Invalid("max_per_genre must not be negative")
	}
	capPerGenre := req.MaxPerGenre
	if capPerGenre == 0 {
		capPerGenre = f.maxPerGenre
	}
	return Apply(req.Candidates, req.Seen, *f.blocked.Load(), capPerGenre), nil
}

// Apply runs the rules; capPerGenre ≤ 0 means no cap. The gateway's
// degraded-mode filter uses it with no cap, so the rules exist once.
func Apply(cands []domain.Candidate, seen []int64, blocked map[int64]struct{}, capPerGenre int) Response {
	seenSet := make(map[int64]struct{}, len(seen))
	for _, id := range seen {
		seenSet[id] = struct{}{}
	}
	resp := Response{Kept: make([]domain.Candidate, 0, len(cands)), Dropped: map[string]int{}}
	kept := make(map[int64]struct{}, len(cands))
	perGenre := map[string]int{}
	for _, c := range cands {
		rule := ""
		if _, dup := kept[c.ID]; dup {
			rule = RuleDuplicate
		} else if _, s := seenSet[c.ID]; s {
			rule = RuleSeen
		} else if _, b := blocked[c.ID]; b {
			rule = RuleBlocked
		} else if capPerGenre > 0 {
			for _, g := range c.Genres {
				if perGenre[g] >= capPerGenre {
					rule = RuleGenreCap
					break
				}
			}
		}
		if rule != "" {
			resp.Dropped[rule]++
			continue
		}
		for _, g := range c.Genres {
			perGenre[g]++
		}
		kept[c.ID] = struct{}{}
		resp.Kept = append(resp.Kept, c)
	}
	return resp
}
