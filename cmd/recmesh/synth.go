package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/recmesh/recmesh/cmd/recmesh/internal/synth"
)

// runSynth writes a synthetic MovieLens directory:
// `recmesh synth -items 1000000 -users 1000000 -events 50000000 -out var/synth-1m`.
func runSynth(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := synth.DefaultConfig()
	var out string
	var events, seed int
	f := newFlags("synth", stderr)
	f.Int(&c.Items, "items", c.Items, "items in the catalogue (movies.csv)")
	f.Int(&c.Users, "users", c.Users, "users")
	f.Int(&events, "events", int(c.Events), "ratings to write (ratings.csv); a user rates an item once, so a user asked for more than there are items rates them all")
	f.String(&out, "out", "", "the directory to write (created if missing; its movies.csv, ratings.csv and README.txt are replaced)")
	f.Int(&c.Dim, "dim", c.Dim, "latent dimensions of taste: users and items are vectors of this rank, and events follow their inner products")
	f.Float(&c.ItemSkew, "item-skew", c.ItemSkew, "Zipf exponent of item popularity (0: uniform; 1: the top 1% of items takes a large share)")
	f.Float(&c.UserSkew, "user-skew", c.UserSkew, "Zipf exponent of user activity")
	f.Int(&c.Candidates, "candidates", c.Candidates, "items drawn by popularity that each event chooses among by taste")
	f.Float(&c.Taste, "taste", c.Taste, "weight of the user-item inner product in that choice (0: popularity alone)")
	f.Duration(&c.Span, "span", c.Span, "the time the ratings' timestamps spread over, from 2020-01-01")
	f.Int(&seed, "seed", int(c.Seed), "the seed; the same flags and seed write the same files")
	f.Int(&c.Workers, "workers", 0, "generating goroutines (0: one per core); the output does not depend on it")
	if err := f.Parse(args); err != nil {
		return err
	}
	if out == "" {
		return fmt.Errorf("synth: -out is required")
	}
	c.Events, c.Seed = int64(events), uint64(seed)
	last := time.Now()
	s, err := synth.Write(ctx, out, c, func(done, total int64) {
		if time.Since(last) >= 2*time.Second || done >= total {
			last = time.Now()
			progress(stderr, "synth", "events", done, total)
		}
	})
	if err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	fmt.Fprintf(stdout, "synth: %d items, %d users, %d events in %s (%s); the top 1%% of items have %.1f%% of the events\n",
		s.Items, s.Users, s.Events, out, s.Elapsed.Round(time.Millisecond), 100*s.TopShare)
	return nil
}
