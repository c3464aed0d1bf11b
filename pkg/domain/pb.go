package domain

import (
	pb "github.com/recmesh/recmesh/proto/recmesh/v1"
)

// InteractionsToPB encodes interactions.
func InteractionsToPB(in []Interaction) []*pb.Interaction {
	out := make([]*pb.Interaction, len(in))
	for i, x := range in {
		out[i] = &pb.Interaction{ItemId: x.ItemID, Type: x.Type, Value: x.Value, TsUnix: x.TS}
	}
	return out
}

// InteractionsFromPB decodes interactions.
func InteractionsFromPB(in []*pb.Interaction) []Interaction {
	out := make([]Interaction, len(in))
	for i, x := range in {
		out[i] = Interaction{ItemID: x.GetItemId(), Type: x.GetType(), Value: x.GetValue(), TS: x.GetTsUnix()}
	}
	return out
}

// CandidatesToPB encodes candidates.
func CandidatesToPB(in []Candidate) []*pb.Candidate {
	out := make([]*pb.Candidate, len(in))
	for i, c := range in {
		out[i] = &pb.Candidate{
			ItemId: c.ID, Title: c.Title, Genres: c.Genres, Year: int32(c.Year),
			Popularity: c.Popularity, Sources: c.Sources, Score: c.Score,
		}
	}
	return out
}

// CandidatesFromPB decodes candidates.
func CandidatesFromPB(in []*pb.Candidate) []Candidate {
	out := make([]Candidate, len(in))
	for i, c := range in {
		out[i] = Candidate{
			Item:       Item{ID: c.GetItemId(), Title: c.GetTitle(), Genres: c.GetGenres(), Year: int(c.GetYear())},
			Popularity: c.GetPopularity(), Sources: c.GetSources(), Score: c.GetScore(),
		}
	}
	return out
}

// UserFeaturesToPB encodes user features.
func UserFeaturesToPB(f UserFeatures) *pb.UserFeatures {
	return &pb.UserFeatures{
		UserId: f.UserID, Recent: InteractionsToPB(f.Recent), GenreAffinity: f.GenreAffinity,
		SeenItemIds: f.Seen, InteractionCount: f.Count,
	}
}

// UserFeaturesFromPB decodes user features.
func UserFeaturesFromPB(f *pb.UserFeatures) UserFeatures {
	return UserFeatures{
		UserID: f.GetUserId(), Recent: InteractionsFromPB(f.GetRecent()), GenreAffinity: f.GetGenreAffinity(),
		Seen: f.GetSeenItemIds(), Count: f.GetInteractionCount(),
	}
}

// ItemToPB encodes an item.
func ItemToPB(it Item) *pb.Item {
	return &pb.Item{ItemId: it.ID, Title: it.Title, Genres: it.Genres, Year: int32(it.Year)}
}

// ItemFromPB decodes an item.
func ItemFromPB(it *pb.Item) Item {
	return Item{ID: it.GetItemId(), Title: it.GetTitle(), Genres: it.GetGenres(), Year: int(it.GetYear())}
}

// EventsToPB encodes events.
func EventsToPB(in []Event) []*pb.Event {
	out := make([]*pb.Event, len(in))
	for i, e := range in {
		out[i] = &pb.Event{UserId: e.UserID, ItemId: e.ItemID, Type: e.Type, Value: e.Value, TsUnix: e.TS}
	}
	return out
}

// EventsFromPB decodes events.
func EventsFromPB(in []*pb.Event) []Event {
	out := make([]Event, len(in))
	for i, e := range in {
		out[i] = Event{UserID: e.GetUserId(), ItemID: e.GetItemId(), Type: e.GetType(), Value: e.GetValue(), TS: e.GetTsUnix()}
	}
	return out
}
