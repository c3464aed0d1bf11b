package synth

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/recmesh/recmesh/pkg/movielens"
)

func small() Config {
	c := DefaultConfig()
	c.Items, c.Users, c.Events = 2000, 600, 30_000
	return c
}

// The directory loads as MovieLens, with the sizes asked for, the same
// bytes whatever the number of workers, and a long tail.
func TestWriteIsMovieLensAndDeterministic(t *testing.T) {
	dirs := []string{t.TempDir(), t.TempDir()}
	var sums []Summary
	for k, workers := range []int{1, 3} {
		c := small()
		c.Workers = workers
		var calls int
		s, err := Write(context.Background(), dirs[k], c, func(done, total int64) { calls++ })
		if err != nil {
			t.Fatal(err)
		}
		if calls == 0 {
			t.Error("no progress reported")
		}
		sums = append(sums, s)
	}
	for _, f := range []string{"movies.csv", "ratings.csv"} {
		a, _ := os.ReadFile(filepath.Join(dirs[0], f))
		b, _ := os.ReadFile(filepath.Join(dirs[1], f))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Fatalf("%s differs between 1 and 3 workers (%d and %d bytes)", f, len(a), len(b))
		}
	}
	ds, err := movielens.Load(dirs[0])
	if err != nil {
		t.Fatal(err)
	}
	s := sums[0]
	if len(ds.Movies) != 2000 || int64(len(ds.Ratings)) != s.Events || math.Abs(float64(s.Events)-30_000) > 300 {
		t.Fatalf("%d movies, %d ratings, summary %+v", len(ds.Movies), len(ds.Ratings), s)
	}
	type pair struct{ u, i int64 }
	seen := map[pair]bool{}
	users := map[int64]bool{}
	for _, r := range ds.Ratings {
		if seen[pair{r.UserID, r.MovieID}] {
			t.Fatalf("user %d rated %d twice", r.UserID, r.MovieID)
		}
		seen[pair{r.UserID, r.MovieID}] = true
		users[r.UserID] = true
		if r.Rating < 0.5 || r.Rating > 5 {
			t.Fatalf("rating %v", r.Rating)
		}
	}
	// Zipf(1) over 2,000 items puts about 40% of draws on the top 1%.
	if s.TopShare < 0.15 || s.TopShare > 0.8 {
		t.Errorf("top 1%% of items have %.0f%% of events: no long tail", 100*s.TopShare)
	}
	if len(users) < 500 {
		t.Errorf("only %d of 600 users have events", len(users))
	}
	if ds.Movies[0].Year < 1950 || len(ds.Movies[0].Genres) == 0 {
		t.Errorf("movie %+v", ds.Movies[0])
	}
}

// Taste shapes the events: the items users choose have larger inner
// products with them than items drawn by popularity alone, and their
// ratings rise with it.
func TestEventsFollowTaste(t *testing.T) {
	c := small()
	m := newModel(c)
	hits := make([]int32, c.Items)
	var chosen, drawn float64
	n := 0
	for u := range 200 {
		rng := rand.New(rand.NewPCG(c.Seed, uint64(u)+1))
		vec := m.userVector(rng)
		buf, k := m.user(u, nil, hits)
		for _, line := range bytes.Split(bytes.TrimSpace(buf), []byte("\n")) {
			var uid, item int
			var r float64
			var ts int64
			if _, err := fmt.Sscanf(string(line), "%d,%d,%g,%d", &uid, &item, &r, &ts); err != nil {
				t.Fatal(err)
			}
			chosen += dot(vec, m.item(item-1))
			drawn += dot(vec, m.item(m.pop.draw(rng)))
			n++
		}
		_ = k
	}
	if n == 0 || chosen/float64(n) < drawn/float64(n)+0.3 {
		t.Fatalf("mean inner product of chosen items %.3f, of popular draws %.3f", chosen/float64(n), drawn/float64(n))
	}
}

func TestConfigIsChecked(t *testing.T) {
	for _, edit := range []func(*Config){
		func(c *Config) { c.Items = 0 }, func(c *Config) { c.Events = -1 }, func(c *Config) { c.Dim = 1 },
		func(c *Config) { c.Candidates = 0 }, func(c *Config) { c.Taste = -1 },
	} {
		c := small()
		edit(&c)
		if _, err := Write(context.Background(), t.TempDir(), c, nil); err == nil {
			t.Errorf("config %+v accepted", c)
		}
	}
}

func TestAliasDrawsByWeight(t *testing.T) {
	a := newAlias([]float64{1, 0, 3})
	rng := rand.New(rand.NewPCG(1, 2))
	var got [3]int
	for range 40_000 {
		got[a.draw(rng)]++
	}
	if got[1] != 0 || math.Abs(float64(got[2])/float64(got[0])-3) > 0.2 {
		t.Fatalf("draws %v for weights 1, 0, 3", got)
	}
}

func TestAllocateCapsAndRedistributes(t *testing.T) {
	got := allocate(100, []float64{10, 1, 1, 0}, 40)
	sum := int64(0)
	for _, g := range got {
		sum += g
	}
	if got[0] != 40 || got[1] != 30 || got[2] != 30 || got[3] != 0 || sum != 100 {
		t.Fatalf("allocate: %v", got)
	}
}
