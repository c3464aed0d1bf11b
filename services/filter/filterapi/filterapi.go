// Package filterapi is the filter service's contract: its interface,
// request and reply types, gRPC client, codecs, and the rules themselves
// (Apply), which the gateway's degraded-mode filter runs too.
package filterapi

import (
	"context"

	"github.com/recmesh/recmesh/pkg/domain"
)

// Name is the service's name in the registry.
const Name = "filter"

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
