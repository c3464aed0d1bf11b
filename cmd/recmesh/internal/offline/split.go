package offline

import (
	"cmp"
	"slices"
	"strings"

	"github.com/recmesh/recmesh/pkg/domain"
)

// UserSplit is one user's history in time order, cut in two: Past (what
// training may see) and Future (what is predicted). Every past event is no
// later than every future one.
type UserSplit struct {
	User         string
	past, future []domain.Event
}

// Past is the user's training part.
func (s UserSplit) Past() []domain.Event { return s.past }

// Future is the user's held-out part.
func (s UserSplit) Future() []domain.Event { return s.future }

// SplitByUser orders each user's events by time and holds out the newest
// futureShare of them. Users with fewer than minEvents keep everything in
// the past. The splits are sorted by user, so they are deterministic.
//
// It works in place, since a large event log must not be held twice: it
// reorders events so that every user's past comes first, then every
// future, and the splits (and past, all the pasts in one slice) are views
// of them.
func SplitByUser(events []domain.Event, futureShare float64, minEvents int) (splits []UserSplit, past []domain.Event) {
	slices.SortFunc(events, func(a, b domain.Event) int {
		return cmp.Or(strings.Compare(a.UserID, b.UserID), cmp.Compare(a.TS, b.TS), cmp.Compare(a.ItemID, b.ItemID),
			strings.Compare(a.Type, b.Type), cmp.Compare(a.Value, b.Value))
	})
	type span struct{ lo, cut, hi int }
	var spans []span
	futures := 0
	for lo := 0; lo < len(events); {
		hi := lo + 1
		for hi < len(events) && events[hi].UserID == events[lo].UserID {
			hi++
		}
		n := hi - lo
		cut := n
		if n >= minEvents {
			cut = int(float64(n) * (1 - futureShare))
		}
		// Events sharing the cut's timestamp stay together in the past, so
		// the past never holds an event later than the future's first.
		for cut < n && cut > 0 && events[lo+cut].TS == events[lo+cut-1].TS {
			cut++
		}
		spans = append(spans, span{lo, lo + cut, hi})
		futures += n - cut
		lo = hi
	}
	// Pasts to the front, futures (through a buffer) behind them.
	held := make([]domain.Event, 0, futures)
	w := 0
	for _, sp := range spans {
		held = append(held, events[sp.cut:sp.hi]...)
		w += copy(events[w:], events[sp.lo:sp.cut])
	}
	copy(events[w:], held)
	splits = make([]UserSplit, len(spans))
	p, f := 0, w
	for i, sp := range spans {
		np, nf := sp.cut-sp.lo, sp.hi-sp.cut
		splits[i] = UserSplit{User: events[p].UserID, past: events[p : p+np : p+np], future: events[f : f+nf : f+nf]}
		if np == 0 {
			splits[i].User = events[f].UserID
		}
		p, f = p+np, f+nf
	}
	return splits, events[:w:w]
}

// RecentFirst returns up to limit of events as interactions, newest first:
// the order the features service serves them in.
func RecentFirst(events []domain.Event, limit int) []domain.Interaction {
	out := make([]domain.Interaction, 0, min(limit, len(events)))
	for i := len(events) - 1; i >= 0 && len(out) < limit; i-- {
		e := events[i]
		out = append(out, domain.Interaction{ItemID: e.ItemID, Type: e.Type, Value: e.Value, TS: e.TS})
	}
	return out
}
