// Package synth writes a synthetic catalogue and its ratings as a
// MovieLens directory (movies.csv, ratings.csv), at any scale: what
// `recmesh synth` runs, so serving and training can be measured on a
// million items without a dataset the project cannot ship.
//
// The data has the two structures real feedback has:
//   - a long tail: item popularity and user activity follow Zipf laws (a
//     few items take most events, most items few), over a random order of
//     ids, so an id says nothing about popularity;
//   - taste of low rank: every user and item has a latent vector of Dim
//     dimensions; an event picks, among a few items drawn by popularity,
//     one with probability rising with the user's inner product with it,
//     and its rating rises with that product. An item's genres are the
//     names of its two largest latent components, so genres carry taste.
//
// Output depends only on Config (not on Workers): every user's events come
// from a generator seeded with (Seed, user).
package synth

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"
)

// Config describes the data.
type Config struct {
	Items, Users int
	// Events is the number of ratings asked for; a user rates an item
	// once, so a user asked for more events than there are items rates
	// every item (Summary.Events is what was written).
	Events int64
	// Dim is the latent rank of taste.
	Dim int
	// ItemSkew and UserSkew are the Zipf exponents of item popularity and
	// user activity.
	ItemSkew, UserSkew float64
	// Candidates is how many items, drawn by popularity, an event chooses
	// among by taste; Taste is the weight of the inner product in that
	// choice (0: popularity alone).
	Candidates int
	Taste      float64
	// Start and Span bound the timestamps.
	Start time.Time
	Span  time.Duration
	Seed  uint64
	// Workers generate users in parallel (default: every core).
	Workers int
}

// DefaultConfig is a small catalogue; `recmesh synth` sets the sizes.
func DefaultConfig() Config {
	return Config{Items: 10_000, Users: 10_000, Events: 1_000_000, Dim: 16, ItemSkew: 1.0, UserSkew: 0.8,
		Candidates: 8, Taste: 2, Start: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), Span: 2 * 365 * 24 * time.Hour, Seed: 1}
}

// Validate reports what is wrong with c.
func (c Config) Validate() error {
	switch {
	case c.Items <= 0 || c.Users <= 0 || c.Events <= 0:
		return errors.New("items, users and events must be positive")
	case c.Items > math.MaxInt32:
		return fmt.Errorf("at most %d items", math.MaxInt32)
	case c.Dim < 2 || c.Dim > 256:
		return errors.New("dim must be within 2..256")
	case c.ItemSkew < 0 || c.UserSkew < 0 || c.Taste < 0:
		return errors.New("skews and taste must not be negative")
	case c.Candidates < 1:
		return errors.New("candidates must be at least 1")
	case c.Span <= 0:
		return errors.New("span must be positive")
	}
	return nil
}

// Summary is what was written.
type Summary struct {
	Items, Users int
	Events       int64
	// TopShare is the share of events on the most popular 1% of items.
	TopShare float64
	Elapsed  time.Duration
}

// Genres are the names genres take, one per latent dimension (cycled).
var Genres = []string{"Action", "Adventure", "Animation", "Children", "Comedy", "Crime", "Documentary", "Drama",
	"Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western", "IMAX"}

// Write generates the data into dir (created if needed): movies.csv,
// ratings.csv and a README.txt naming the Config. progress, when not nil,
// is called with the events written so far and the events asked for.
func Write(ctx context.Context, dir string, cfg Config, progress func(done, total int64)) (Summary, error) {
	if err := cfg.Validate(); err != nil {
		return Summary{}, err
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.NumCPU()
	}
	begin := time.Now()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Summary{}, err
	}
	m := newModel(cfg)
	if err := m.writeMovies(filepath.Join(dir, "movies.csv")); err != nil {
		return Summary{}, err
	}
	events, hits, err := m.writeRatings(ctx, filepath.Join(dir, "ratings.csv"), progress)
	if err != nil {
		return Summary{}, err
	}
	s := Summary{Items: cfg.Items, Users: cfg.Users, Events: events, TopShare: topShare(hits, events), Elapsed: time.Since(begin)}
	readme := fmt.Sprintf("Synthetic ratings written by `recmesh synth` (MovieLens format).\n\n"+
		"items %d, users %d, events %d, latent dimensions %d, item skew %.2f, user skew %.2f,\n"+
		"candidates per event %d, taste %.2f, seed %d, from %s over %s.\n"+
		"The most popular 1%% of items have %.1f%% of the events.\n",
		cfg.Items, cfg.Users, events, cfg.Dim, cfg.ItemSkew, cfg.UserSkew, cfg.Candidates, cfg.Taste, cfg.Seed,
		cfg.Start.Format(time.DateOnly), cfg.Span, 100*s.TopShare)
	return s, os.WriteFile(filepath.Join(dir, "README.txt"), []byte(readme), 0o644)
}

func (m *model) writeMovies(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewPCG(m.cfg.Seed, 0x7ea7))
	fmt.Fprintln(w, "movieId,title,genres")
	for i := range m.cfg.Items {
		fmt.Fprintf(w, "%d,Synthetic item %d (%d),%s\n", i+1, i+1, 1950+rng.IntN(76), m.genres(i))
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// chunk is how many users one task generates.
const chunk = 256

// writeRatings generates users in chunks on cfg.Workers goroutines and
// writes the chunks in user order.
func (m *model) writeRatings(ctx context.Context, path string, progress func(done, total int64)) (int64, []int32, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, nil, err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 4<<20)
	if _, err := w.WriteString("userId,movieId,rating,timestamp\n"); err != nil {
		return 0, nil, err
	}
	type result struct {
		buf    []byte
		events int64
	}
	tasks := (m.cfg.Users + chunk - 1) / chunk
	// Each task has its own channel, read in order; at most 2×Workers
	// tasks are handed out and not yet written, which bounds the memory.
	outs := make([]chan result, tasks)
	for t := range outs {
		outs[t] = make(chan result, 1)
	}
	next, ahead := make(chan int), make(chan struct{}, 2*m.cfg.Workers)
	hits := make([]int32, m.cfg.Items)
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // before wg.Wait: it stops the feeder, which ends the workers
	for range m.cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range next {
				var r result
				for u := t * chunk; u < min((t+1)*chunk, m.cfg.Users); u++ {
					var n int64
					r.buf, n = m.user(u, r.buf, hits)
					r.events += n
				}
				outs[t] <- r
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(next)
		for t := range tasks {
			select {
			case ahead <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case next <- t:
			case <-ctx.Done():
				return
			}
		}
	}()
	var events int64
	for t := range tasks {
		var r result
		select {
		case r = <-outs[t]:
		case <-ctx.Done():
			return 0, nil, ctx.Err()
		}
		<-ahead
		if _, err := w.Write(r.buf); err != nil {
			return 0, nil, err
		}
		events += r.events
		if progress != nil {
			progress(events, m.cfg.Events)
		}
	}
	if err := w.Flush(); err != nil {
		return 0, nil, err
	}
	return events, hits, f.Close()
}

// topShare is the share of events on the most popular 1% of items.
func topShare(hits []int32, events int64) float64 {
	if events == 0 {
		return 0
	}
	h := slices.Clone(hits)
	slices.Sort(h)
	top := max(1, len(h)/100)
	s := int64(0)
	for _, x := range h[len(h)-top:] {
		s += int64(x)
	}
	return float64(s) / float64(events)
}
