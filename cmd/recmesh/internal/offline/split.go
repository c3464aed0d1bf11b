package offline

import (
	"cmp"
	"slices"

	"github.com/recmesh/recmesh/pkg/domain"
)

// UserSplit is one user's history in time order, cut in two: Events[:Cut]
// is the past (what training may see) and Events[Cut:] the future (what is
// predicted). Every past event is no later than every future one.
type UserSplit struct {
	User   string
	Events []domain.Event
	Cut    int
}

// Past is the user's training part.
func (s UserSplit) Past() []domain.Event { return s.Events[:s.Cut] }

// Future is the user's held-out part.
func (s UserSplit) Future() []domain.Event { return s.Events[s.Cut:] }

// SplitByUser orders each user's events by time and holds out the newest
// futureShare of them. Users with fewer than minEvents keep everything in
// the past. The result is sorted by user, so it is deterministic.
func SplitByUser(events []domain.Event, futureShare float64, minEvents int) []UserSplit {
	byUser := map[string][]domain.Event{}
	for _, e := range events {
		byUser[e.UserID] = append(byUser[e.UserID], e)
	}
	out := make([]UserSplit, 0, len(byUser))
	for u, evs := range byUser {
		slices.SortStableFunc(evs, func(a, b domain.Event) int { return cmp.Compare(a.TS, b.TS) })
		cut := len(evs)
		if len(evs) >= minEvents {
			cut = int(float64(len(evs)) * (1 - futureShare))
		}
		// Events sharing the cut's timestamp stay together in the past, so
		// the past never holds an event later than the future's first.
		for cut < len(evs) && cut > 0 && evs[cut].TS == evs[cut-1].TS {
			cut++
		}
		out = append(out, UserSplit{User: u, Events: evs, Cut: cut})
	}
	slices.SortFunc(out, func(a, b UserSplit) int { return cmp.Compare(a.User, b.User) })
	return out
}

// PastEvents concatenates every user's past.
func PastEvents(splits []UserSplit) []domain.Event {
	var out []domain.Event
	for _, s := range splits {
		out = append(out, s.Past()...)
	}
	return out
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
