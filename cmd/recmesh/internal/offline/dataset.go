// Package offline holds recmesh's offline jobs: turning a MovieLens
// directory into catalogue items and events, and training the model
// artifacts the services load.
package offline

import (
	"strconv"

	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/pkg/movielens"
)

// Items converts MovieLens movies to catalogue items.
func Items(ds *movielens.Dataset) []domain.Item {
	out := make([]domain.Item, len(ds.Movies))
	for i, m := range ds.Movies {
		out[i] = domain.Item{ID: m.ID, Title: m.Title, Genres: m.Genres, Year: m.Year}
	}
	return out
}

// Events converts MovieLens ratings to rating events; user ids become strings.
func Events(ds *movielens.Dataset) []domain.Event {
	out := make([]domain.Event, len(ds.Ratings))
	for i, r := range ds.Ratings {
		out[i] = domain.Event{UserID: strconv.FormatInt(r.UserID, 10), ItemID: r.MovieID, Type: "rating", Value: r.Rating, TS: r.TS}
	}
	return out
}
