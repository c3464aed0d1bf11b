// Package filterapi is the filter service's contract: its interface,
// request and reply types, gRPC client, codecs, and the rules themselves
// (Apply), which the gateway's degraded-mode filter runs too.
package filterapi

import (
	"context"
	"slices"
	"time"

	"github.com/recmesh/recmesh/pkg/catalog"
	"github.com/recmesh/recmesh/pkg/domain"
)

// Name is the service's name in the registry.
const Name = "filter"

// The rule names, as reported in Response.Dropped.
const (
	RuleDuplicate    = "duplicate"
	RuleSeen         = "seen"
	RuleFrequencyCap = "frequency_cap"
	RuleBlocked      = "blocked"
	RuleGenreCap     = "genre_cap"
	// RuleExcluded drops the ids a request excludes (exclude=, earlier pages).
	RuleExcluded = "excluded"
	// RuleCategory drops items outside the requested categories.
	RuleCategory = "category"
	// The catalogue's rules are named after the item's status:
	// domain.StatusUnavailable, StatusRetired and StatusExpired.
)

// Request asks to filter one user's candidates.
type Request struct {
	UserID     string
	Candidates []domain.Candidate
	// Seen holds the items the user already interacted with.
	Seen []int64
	// MaxPerGenre caps kept candidates per genre; 0 means the service default.
	MaxPerGenre int
	// Exposure is what the user was shown and the cap that applies.
	Exposure Exposure
	// Categories keeps only items of these categories (any); empty: all.
	Categories []string
	// Exclude are dropped.
	Exclude []int64
}

// Exposure is what the exposure rules need: the user's newest exposures
// and clicks, the variant's frequency cap, and the time.
type Exposure struct {
	// Shown are the user's newest exposures (any order).
	Shown []domain.Exposure
	// Clicks are the user's newest clicks, as (item, time) pairs.
	Clicks []domain.Exposure
	// Cap is the variant's frequency cap; K = 0 means none, and then
	// every shown item counts as seen.
	Cap FrequencyCap
	// NowMillis is when caps are evaluated (Unix ms); 0 means now.
	NowMillis int64
}

// FrequencyCap hides an item shown K times within Window without a click
// for Cooldown after the K-th of those exposures. K = 0 switches it off.
type FrequencyCap struct {
	K                int
	Window, Cooldown time.Duration
}

// Hidden returns the items the exposure rules drop, each with its rule:
// without a cap every shown item is seen (RuleSeen); with one, only an
// item shown K times within Window since its last click is dropped
// (RuleFrequencyCap), until Cooldown has passed since the K-th exposure.
func (e Exposure) Hidden() map[int64]string {
	if e.Cap.K <= 0 {
		out := make(map[int64]string, len(e.Shown))
		for _, x := range e.Shown {
			out[x.ItemID] = RuleSeen
		}
		return out
	}
	now := e.NowMillis
	if now == 0 {
		now = time.Now().UnixMilli()
	}
	out := map[int64]string{}
	lastClick := map[int64]int64{}
	for _, c := range e.Clicks {
		lastClick[c.ItemID] = max(lastClick[c.ItemID], c.TSMillis)
	}
	times := map[int64][]int64{}
	for _, x := range e.Shown {
		if x.TSMillis > lastClick[x.ItemID] {
			times[x.ItemID] = append(times[x.ItemID], x.TSMillis)
		}
	}
	k, window, cooldown := e.Cap.K, e.Cap.Window.Milliseconds(), e.Cap.Cooldown.Milliseconds()
	for item, ts := range times {
		if len(ts) < k {
			continue
		}
		slices.Sort(ts)
		for i := k - 1; i < len(ts); i++ {
			if ts[i]-ts[i-k+1] <= window && now-ts[i] < cooldown {
				out[item] = RuleFrequencyCap
				break
			}
		}
	}
	return out
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

// Bounds of a request.
const (
	MaxCandidates = 5000
	MaxExclude    = 1000
	MaxCategories = 20
)

// Rules are what Apply checks besides the candidates themselves.
type Rules struct {
	// Exclude are dropped first (RuleExcluded).
	Exclude []int64
	// Unservable maps the items the catalogue says may not be served to why
	// (domain.StatusRetired, StatusUnavailable, StatusExpired); see
	// Unservable.
	Unservable map[int64]string
	// Categories keeps only items of these categories; empty keeps all.
	Categories []string
	// Seen are the items the user interacted with.
	Seen []int64
	// Hidden are the exposure rules' drops (Exposure.Hidden).
	Hidden map[int64]string
	// Blocked are dropped for everyone.
	Blocked map[int64]struct{}
	// CapPerGenre caps kept candidates per category; ≤ 0 means none.
	CapPerGenre int
}

// Unservable asks view which of cands may not be served at now, and why;
// a nil view knows of none.
func Unservable(view *catalog.View, cands []domain.Candidate, now time.Time) map[int64]string {
	out := map[int64]string{}
	if view == nil {
		return out
	}
	ids := make([]int64, len(cands))
	for i := range cands {
		ids[i] = cands[i].ID
	}
	view.Statuses(ids, now, func(id int64, status string) { out[id] = status })
	return out
}

// Apply runs the rules, in order: duplicate, excluded, the catalogue
// (unservable), category, seen, the exposure rules (hidden), blocked, then
// the genre cap. The filter service and the gateway's degraded-mode filter
// both run it, so the rules exist once.
func Apply(cands []domain.Candidate, r Rules) Response {
	// Seen and Exclude run to thousands of ids, cands to hundreds: mark
	// the candidates they name instead of building sets of them.
	const excludedBit, seenBit, keptBit = 1, 2, 4
	flags := make(map[int64]uint8, len(cands))
	for i := range cands {
		flags[cands[i].ID] = 0
	}
	mark := func(ids []int64, bit uint8) {
		for _, id := range ids {
			if f, ok := flags[id]; ok {
				flags[id] = f | bit
			}
		}
	}
	mark(r.Exclude, excludedBit)
	mark(r.Seen, seenBit)
	resp := Response{Kept: make([]domain.Candidate, 0, len(cands)), Dropped: map[string]int{}}
	perGenre := map[string]int{}
	for _, c := range cands {
		rule, f := "", flags[c.ID]
		if f&keptBit != 0 {
			rule = RuleDuplicate
		} else if f&excludedBit != 0 {
			rule = RuleExcluded
		} else if s, ok := r.Unservable[c.ID]; ok {
			rule = s
		} else if !c.HasCategory(r.Categories) {
			rule = RuleCategory
		} else if f&seenBit != 0 {
			rule = RuleSeen
		} else if h, ok := r.Hidden[c.ID]; ok {
			rule = h
		} else if _, b := r.Blocked[c.ID]; b {
			rule = RuleBlocked
		} else if r.CapPerGenre > 0 {
			for _, g := range c.Categories {
				if perGenre[g] >= r.CapPerGenre {
					rule = RuleGenreCap
					break
				}
			}
		}
		if rule != "" {
			resp.Dropped[rule]++
			continue
		}
		for _, g := range c.Categories {
			perGenre[g]++
		}
		flags[c.ID] = f | keptBit
		resp.Kept = append(resp.Kept, c)
	}
	return resp
}
