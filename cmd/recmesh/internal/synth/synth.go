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
	"strconv"
	"sync"
	"sync/atomic"
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

// model is the latent structure events are drawn from.
type model struct {
	cfg   Config
	items []float32 // Items × Dim
	pop   *alias    // item index by popularity
	// userEvents is how many events each user asks for.
	userEvents []int64
}

func newModel(cfg Config) *model {
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
	m := &model{cfg: cfg, items: make([]float32, cfg.Items*cfg.Dim)}
	scale := 1 / math.Pow(float64(cfg.Dim), 0.25) // inner products of unit variance
	for i := range m.items {
		m.items[i] = float32(rng.NormFloat64() * scale)
	}
	m.pop = newAlias(zipf(cfg.Items, cfg.ItemSkew, rng))
	// No user rates more than 200 times the mean (MovieLens 25M's most
	// active user rated about 200 times its mean), nor every item.
	limit := min(float64(cfg.Items), max(1, 200*float64(cfg.Events)/float64(cfg.Users)))
	m.userEvents = allocate(float64(cfg.Events), zipf(cfg.Users, cfg.UserSkew, rng), limit)
	return m
}

// allocate shares total out in proportion to weights, none above limit:
// what a capped share leaves goes to the others, in proportion.
func allocate(total float64, weights []float64, limit float64) []int64 {
	out := make([]int64, len(weights))
	capped := make([]bool, len(weights))
	for range 100 {
		free, left := 0.0, total
		for u, w := range weights {
			if capped[u] {
				left -= limit
			} else {
				free += w
			}
		}
		more := false
		for u, w := range weights {
			if !capped[u] && free > 0 && left*w/free > limit {
				capped[u], more = true, true
			}
		}
		if more {
			continue
		}
		for u, w := range weights {
			if capped[u] {
				out[u] = int64(limit)
			} else if free > 0 {
				out[u] = int64(math.Round(max(0, left) * w / free))
			}
		}
		break
	}
	return out
}

// zipf is n weights 1/rank^s, ranks in a random order.
func zipf(n int, s float64, rng *rand.Rand) []float64 {
	w := make([]float64, n)
	for i, r := range rng.Perm(n) {
		w[i] = 1 / math.Pow(float64(r+1), s)
	}
	return w
}

func (m *model) item(i int) []float32 { return m.items[i*m.cfg.Dim : (i+1)*m.cfg.Dim] }

// userVector is user u's taste, from the user's own generator.
func (m *model) userVector(rng *rand.Rand) []float32 {
	v := make([]float32, m.cfg.Dim)
	scale := 1 / math.Pow(float64(m.cfg.Dim), 0.25)
	for k := range v {
		v[k] = float32(rng.NormFloat64() * scale)
	}
	return v
}

func dot(a, b []float32) float64 {
	s := float32(0)
	for k := range a {
		s += a[k] * b[k]
	}
	return float64(s)
}

// genres are item i's genres: the names of its two largest components.
func (m *model) genres(i int) string {
	v := m.item(i)
	a, b := 0, 1
	if v[b] > v[a] {
		a, b = b, a
	}
	for k := 2; k < len(v); k++ {
		switch {
		case v[k] > v[a]:
			a, b = k, a
		case v[k] > v[b]:
			b = k
		}
	}
	ga, gb := Genres[a%len(Genres)], Genres[b%len(Genres)]
	if ga == gb {
		return ga
	}
	return ga + "|" + gb
}

// user appends user u's ratings (userId,movieId,rating,timestamp lines,
// oldest first) to buf, and counts each item's events in hits (atomically:
// users are generated in parallel).
func (m *model) user(u int, buf []byte, hits []int32) ([]byte, int64) {
	rng := rand.New(rand.NewPCG(m.cfg.Seed, uint64(u)+1))
	vec := m.userVector(rng)
	n := int(m.userEvents[u])
	if n == 0 {
		return buf, 0
	}
	// The user's active period: a random start, and up to the rest of the span.
	span := m.cfg.Span.Seconds()
	start := rng.Float64() * span
	length := rng.Float64() * (span - start)
	ts := make([]int64, n)
	for k := range ts {
		ts[k] = m.cfg.Start.Unix() + int64(start+rng.Float64()*length)
	}
	slices.Sort(ts)
	rated := make(map[int32]struct{}, n)
	weights := make([]float64, m.cfg.Candidates)
	cands := make([]int32, m.cfg.Candidates)
	written := int64(0)
	for k := 0; k < n; k++ {
		// Draw candidates by popularity, choose one by taste (a softmax
		// over the inner products). A user who has rated most of the
		// popular items falls through to a uniform draw.
		item, dotv := int32(-1), 0.0
		for try := 0; try < 20 && item < 0; try++ {
			total := 0.0
			for c := range cands {
				if try < 10 {
					cands[c] = int32(m.pop.draw(rng))
				} else {
					cands[c] = int32(rng.IntN(m.cfg.Items))
				}
				if _, dup := rated[cands[c]]; dup {
					weights[c] = 0
					continue
				}
				weights[c] = math.Exp(m.cfg.Taste * dot(vec, m.item(int(cands[c]))))
				total += weights[c]
			}
			if total == 0 {
				continue
			}
			x := rng.Float64() * total
			for c := range cands {
				if x -= weights[c]; x <= 0 && weights[c] > 0 {
					item = cands[c]
					break
				}
			}
			if item < 0 { // rounding left x above 0: the last candidate with weight
				for c := len(cands) - 1; c >= 0; c-- {
					if weights[c] > 0 {
						item = cands[c]
						break
					}
				}
			}
			dotv = dot(vec, m.item(int(item)))
		}
		if item < 0 {
			continue
		}
		rated[item] = struct{}{}
		atomic.AddInt32(&hits[item], 1)
		// Ratings in half stars, centred on 3.5, rising with taste.
		r := math.Round((3.5+0.8*dotv+0.5*rng.NormFloat64())*2) / 2
		r = min(5, max(0.5, r))
		buf = strconv.AppendInt(buf, int64(u)+1, 10)
		buf = append(buf, ',')
		buf = strconv.AppendInt(buf, int64(item)+1, 10)
		buf = append(buf, ',')
		buf = strconv.AppendFloat(buf, r, 'f', 1, 64)
		buf = append(buf, ',')
		buf = strconv.AppendInt(buf, ts[k], 10)
		buf = append(buf, '\n')
		written++
	}
	return buf, written
}

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
