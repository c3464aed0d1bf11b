// Package movielens parses the MovieLens CSV format (movies.csv and
// ratings.csv, as in ml-latest-small). Every error names the file and line.
package movielens

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/recmesh/recmesh/pkg/domain"
)

// Movie is one row of movies.csv.
type Movie struct {
	ID     int64
	Title  string
	Genres []string
	Year   int
}

// Rating is one row of ratings.csv.
type Rating struct {
	UserID  int64
	MovieID int64
	Rating  float64
	TS      int64
}

// Dataset is a parsed MovieLens directory.
type Dataset struct {
	Movies  []Movie
	Ratings []Rating
}

var yearRE = regexp.MustCompile(`\((\d{4})\)\s*$`)

// ReadMovies parses movies.csv: movieId,title,genres with a header row.
func ReadMovies(r io.Reader, name string) ([]Movie, error) {
	var out []Movie
	err := readCSV(r, name, []string{"movieId", "title", "genres"}, func(line int, rec []string) error {
		id, err := strconv.ParseInt(rec[0], 10, 64)
		if err != nil || id <= 0 {
			return fmt.Errorf("%s:%d: movieId %q is not a positive integer", name, line, rec[0])
		}
		m := Movie{ID: id, Title: strings.TrimSpace(rec[1])}
		if g := yearRE.FindStringSubmatch(m.Title); g != nil {
			m.Year, _ = strconv.Atoi(g[1])
		}
		if rec[2] != "(no genres listed)" && rec[2] != "" {
			m.Genres = strings.Split(rec[2], "|")
		}
		out = append(out, m)
		return nil
	})
	return out, err
}

func readCSV(r io.Reader, name string, header []string, row func(line int, rec []string) error) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = len(header)
	cr.ReuseRecord = true
	first, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: empty file", name)
	}
	if err != nil {
		return fmt.Errorf("%s: header: %w", name, err)
	}
	for i, h := range header {
		if strings.TrimPrefix(first[i], "\ufeff") != h {
			return fmt.Errorf("%s:1: header is %q, want %q", name, strings.Join(first, ","), strings.Join(header, ","))
		}
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		line, _ := cr.FieldPos(0) // only valid after a successful Read
		if err := row(line, rec); err != nil {
			return err
		}
	}
}

// Load reads movies.csv and ratings.csv from dir. Ratings of movies missing
// from movies.csv are refused, as is a dataset without ratings.
func Load(dir string) (*Dataset, error) {
	var ds Dataset
	for _, f := range []struct {
		file string
		read func(io.Reader, string) error
	}{
		{"movies.csv", func(r io.Reader, n string) (err error) { ds.Movies, err = ReadMovies(r, n); return }},
		{"ratings.csv", func(r io.Reader, n string) (err error) { ds.Ratings, err = ReadRatings(r, n); return }},
	} {
		path := filepath.Join(dir, f.file)
		fh, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("movielens: %w", err)
		}
		err = f.read(fh, path)
		_ = fh.Close()
		if err != nil {
			return nil, fmt.Errorf("movielens: %w", err)
		}
	}
	if len(ds.Movies) == 0 || len(ds.Ratings) == 0 {
		return nil, fmt.Errorf("movielens: %s has %d movies and %d ratings; both must be non-empty", dir, len(ds.Movies), len(ds.Ratings))
	}
	known := make(map[int64]bool, len(ds.Movies))
	for _, m := range ds.Movies {
		known[m.ID] = true
	}
	for i, r := range ds.Ratings {
		if !known[r.MovieID] {
			return nil, fmt.Errorf("movielens: ratings.csv row %d rates movie %d, which movies.csv lacks", i+2, r.MovieID)
		}
	}
	return &ds, nil
}

// Items converts the movies to catalogue items, all available. MovieLens
// has no creation date, so an item's created_at is its first rating (when
// it entered the catalogue, as far as the data tells), or 1 January of its
// year when it has none.
func (ds *Dataset) Items() []domain.Item {
	first := make(map[int64]int64, len(ds.Movies))
	for _, r := range ds.Ratings {
		if t, ok := first[r.MovieID]; !ok || r.TS < t {
			first[r.MovieID] = r.TS
		}
	}
	out := make([]domain.Item, len(ds.Movies))
	for i, m := range ds.Movies {
		created := time.Date(max(m.Year, 1970), 1, 1, 0, 0, 0, 0, time.UTC)
		if ts, ok := first[m.ID]; ok {
			created = time.Unix(ts, 0).UTC()
		}
		out[i] = domain.Item{ID: m.ID, Title: m.Title, Categories: m.Genres, Year: m.Year, Available: true, CreatedAt: created}
	}
	return out
}

// Events converts the ratings to rating events; user ids become strings,
// one per user, shared by their events (50M ratings of 1M users would
// otherwise be 50M small strings).
func (ds *Dataset) Events() []domain.Event { return ds.EventsBetween(0, len(ds.Ratings)) }

// EventsBetween converts ratings [lo, hi) as Events does, so that a large
// dataset can be loaded a slice at a time.
func (ds *Dataset) EventsBetween(lo, hi int) []domain.Event {
	out := make([]domain.Event, hi-lo)
	names := map[int64]string{}
	for i, r := range ds.Ratings[lo:hi] {
		name, ok := names[r.UserID]
		if !ok {
			name = strconv.FormatInt(r.UserID, 10)
			names[r.UserID] = name
		}
		out[i] = domain.Event{UserID: name, ItemID: r.MovieID, Type: "rating", Value: r.Rating, TS: r.TS}
	}
	return out
}
