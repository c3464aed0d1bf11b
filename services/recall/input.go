package recall

import (
	"time"

	"github.com/recmesh/recmesh/pkg/catalog"
	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/services/recall/recallapi"
)

// Input is what a channel is given for one request: the trained index, a
// reader of the live catalogue, the request, and the admission rule every
// channel applies while it collects, so its quota is spent on items that
// can be served.
type Input struct {
	Index *Index
	// Live reads the live catalogue (new items, statuses and changed
	// metadata) under one read lock for the whole request; a zero Reader
	// (recall follows no catalogue) reads nothing, and the index alone is
	// served.
	Live catalog.Reader
	Req  recallapi.Request
	Now  time.Time
	Opts *Options

	nowMs   int64
	exclude map[int64]bool
}

func newInput(idx *Index, live catalog.Reader, req recallapi.Request, now time.Time, o *Options) *Input {
	in := &Input{Index: idx, Live: live, Req: req, Now: now, Opts: o, nowMs: now.UnixMilli()}
	if n := len(req.Exclude) + len(req.Seeds) + len(req.Seen); n > 0 {
		in.exclude = make(map[int64]bool, n)
		for _, id := range req.Exclude {
			in.exclude[id] = true
		}
		for _, id := range req.Seen {
			in.exclude[id] = true
		}
		for _, id := range req.Seeds {
			in.exclude[id] = true // similar items never include the item itself
		}
	}
	return in
}

// Admits reports whether id may be a candidate: known, not excluded,
// servable now, and in one of the requested categories.
func (in *Input) Admits(id int64) bool {
	if in.exclude[id] {
		return false
	}
	if known, ok := in.Live.Admits(id, in.nowMs, in.Req.Categories); known {
		return ok
	}
	it, ok := in.Index.Items[id]
	return ok && it.HasCategory(in.Req.Categories)
}

// admitsItem is Admits for an item of the live catalogue in hand (no view
// lookup, so it may run inside catalog.Reader.Newest).
func (in *Input) admitsItem(it *domain.Item) bool {
	return !in.exclude[it.ID] && it.Servable(in.Now) && it.HasCategory(in.Req.Categories)
}

// topAdmitted returns the n highest scores of admitted items, ties broken
// by id: it sorts first and judges only as far down as it must.
func (in *Input) topAdmitted(scores map[int64]float64, n int) []Scored {
	all := topN(scores, len(scores))
	out := all[:0]
	for _, s := range all {
		if len(out) == n {
			break
		}
		if in.Admits(s.ID) {
			out = append(out, s)
		}
	}
	return out
}

// Options tune the channels that read the live catalogue.
type Options struct {
	// FreshHalfLife halves a new item's fresh score every period of age.
	FreshHalfLife time.Duration
	// FreshMaxAge is the oldest an item may be for the fresh channel.
	FreshMaxAge time.Duration
}

// DefaultOptions are the defaults listed in the README.
func DefaultOptions() Options {
	return Options{FreshHalfLife: 48 * time.Hour, FreshMaxAge: 30 * 24 * time.Hour}
}

// candidate turns an item into a candidate with no sources yet: the live
// catalogue's metadata when it knows the item, the index's popularity (0
// for an item newer than the index).
func (in *Input) candidate(id int64) (domain.Candidate, bool) {
	info, inIndex := in.Index.Items[id]
	pop := 0.0
	if inIndex {
		pop = info.Popularity
	}
	if c, ok := in.Live.Candidate(id, pop); ok {
		return c, true
	}
	if !inIndex {
		return domain.Candidate{}, false
	}
	return domain.CandidateOf(&info.Item, pop), true
}
