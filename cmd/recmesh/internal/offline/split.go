package offline

import (
	"cmp"
	"math"
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

// PastItems are the items of the user's training part, oldest first: what
// they have seen.
func (s UserSplit) PastItems() []int64 {
	ids := make([]int64, len(s.past))
	for i, e := range s.past {
		ids[i] = e.ItemID
	}
	return ids
}

// Future is the user's held-out part.
func (s UserSplit) Future() []domain.Event { return s.future }

// Tested reports whether the user can be scored: they have a history to
// recommend from and something held out to predict.
func (s UserSplit) Tested() bool { return len(s.past) > 0 && len(s.future) > 0 }

// timeOrder is the order every split sees a user's history in: by user,
// then time; events of one user in the same second are ordered by item id
// (then type and value), so a split depends on the data only.
func timeOrder(a, b domain.Event) int {
	return cmp.Or(strings.Compare(a.UserID, b.UserID), cmp.Compare(a.TS, b.TS), cmp.Compare(a.ItemID, b.ItemID),
		strings.Compare(a.Type, b.Type), cmp.Compare(a.Value, b.Value))
}

// HeldOut is how many of a user's n interactions a per-user split holds
// out: the newest ⌈share·n⌉, or none below minEvents.
func HeldOut(n int, share float64, minEvents int) int {
	if n < minEvents {
		return 0
	}
	return min(n, int(math.Ceil(float64(n)*share-1e-9)))
}

// SplitByUser orders each user's events by time (see timeOrder) and holds
// out the newest share of them (HeldOut). Users with fewer than minEvents
// keep everything in the past. The splits are sorted by user, so they are
// deterministic.
//
// It works in place, since a large event log must not be held twice: it
// reorders events so that every user's past comes first, then every
// future, and the splits (and past, all the pasts in one slice) are views
// of them.
func SplitByUser(events []domain.Event, share float64, minEvents int) (splits []UserSplit, past []domain.Event) {
	return splitAt(events, func(user []domain.Event) int { return len(user) - HeldOut(len(user), share, minEvents) })
}

// SplitByTime holds out every event at or after cutoff (Unix seconds), for
// every user at once: the future of everyone, as serving predicts it. It
// works in place, as SplitByUser does.
func SplitByTime(events []domain.Event, cutoff int64) (splits []UserSplit, past []domain.Event) {
	return splitAt(events, func(user []domain.Event) int {
		i, _ := slices.BinarySearchFunc(user, cutoff, func(e domain.Event, t int64) int { return cmp.Compare(e.TS, t) })
		return i
	})
}

// TimeQuantile is the time at or after which share of the events lie: the
// global split's default cut-off.
func TimeQuantile(events []domain.Event, share float64) int64 {
	if len(events) == 0 {
		return 0
	}
	ts := make([]int64, len(events))
	for i, e := range events {
		ts[i] = e.TS
	}
	slices.Sort(ts)
	return ts[min(len(ts)-1, int(float64(len(ts))*(1-share)))]
}

// splitAt sorts events by timeOrder and cuts each user's history where
// cut (given the user's events in order) says: before it is the past.
func splitAt(events []domain.Event, cut func(user []domain.Event) int) (splits []UserSplit, past []domain.Event) {
	slices.SortFunc(events, timeOrder)
	type span struct{ lo, cut, hi int }
	var spans []span
	futures := 0
	for lo := 0; lo < len(events); {
		hi := lo + 1
		for hi < len(events) && events[hi].UserID == events[lo].UserID {
			hi++
		}
		c := lo + cut(events[lo:hi])
		spans = append(spans, span{lo, c, hi})
		futures += hi - c
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
