// Package storetest is the contract suite every experiment store backend runs.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/recmesh/recmesh/pkg/abtest"
	"github.com/recmesh/recmesh/services/experiment/store"
)

func sample() *abtest.Config {
	five := 5
	started := time.UnixMilli(1_700_000_000_123).UTC()
	return &abtest.Config{
		Defaults:   abtest.Params{RankingWeights: map[string]float64{"click": 1, "like": 0.5}, MaxPerGenre: &five},
		Holdout:    &abtest.Holdout{Salt: "h", Buckets: 300},
		DomainSalt: "d",
		Launches: []abtest.Launch{{Name: "cap", Salt: "l1", Buckets: 2000, Params: abtest.Params{
			FrequencyCap: &abtest.FrequencyCap{K: 3, Window: abtest.Duration(time.Hour), Cooldown: abtest.Duration(24 * time.Hour)}}}},
		Domains: []abtest.Domain{{Name: "mobile", Buckets: []abtest.Range{{Start: 900, End: 1000}, {Start: 0, End: 10}},
			Layers: []abtest.Layer{{Name: "m-rank", Salt: "s3"}}}},
		Layers: []abtest.Layer{
			{Name: "ranking", Salt: "s1", Experiments: []abtest.Experiment{{
				Name: "weights", Started: &started,
				Variants: []abtest.Variant{
					// Allocation order, not bucket order: the newest range is last.
					{Name: "a", Buckets: []abtest.Range{{Start: 500, End: 900}, {Start: 0, End: 100}}},
					{Name: "b", Buckets: []abtest.Range{{Start: 100, End: 500}}, Params: abtest.Params{RankingModel: "v7"},
						Routes: map[string]string{"ranking": "v2"}},
				},
				Overrides: map[string]string{"42": "b", "7": "a"},
			}}},
			{Name: "recall", Salt: "s2"},
		},
	}
}

func setTo(want *abtest.Config) func(*abtest.Config) error {
	return func(c *abtest.Config) error {
		c.Defaults, c.Layers, c.Holdout, c.Launches, c.Domains, c.DomainSalt = want.Defaults, want.Layers, want.Holdout, want.Launches, want.Domains, want.DomainSalt
		return nil
	}
}

// Run runs the contract against stores made by newStore; each call must
// return an empty store.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	t.Run("empty store is version 0", func(t *testing.T) {
		s := newStore(t)
		c, err := s.Load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if v, err := s.Version(ctx); err != nil || v != 0 || c.Version != 0 || len(c.Layers) != 0 {
			t.Fatalf("empty store: version %d (%v), config %+v", v, err, c)
		}
	})
	t.Run("update round-trips and is audited", func(t *testing.T) {
		s := newStore(t)
		got, err := s.Update(ctx, store.Change{Actor: "alice", Action: "set", Detail: map[string]int{"n": 1}, Apply: setTo(sample())})
		if err != nil {
			t.Fatal(err)
		}
		want := sample()
		want.Version = 1
		loaded, err := s.Load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []*abtest.Config{got, loaded} {
			if d := cmp.Diff(want, c, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("config (-want +got):\n%s", d)
			}
		}
		audit, err := s.Audit(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(audit) != 1 || audit[0].Version != 1 || audit[0].Actor != "alice" || audit[0].Action != "set" ||
			string(audit[0].Detail) != `{"n": 1}` && string(audit[0].Detail) != `{"n":1}` || audit[0].At.IsZero() {
			t.Errorf("audit = %+v", audit)
		}
	})
	t.Run("refused change writes nothing", func(t *testing.T) {
		s := newStore(t)
		if _, err := s.Update(ctx, store.Change{Actor: "a", Action: "set", Apply: setTo(sample())}); err != nil {
			t.Fatal(err)
		}
		before, _ := s.Load(ctx)
		refusals := []func(*abtest.Config) error{
			func(*abtest.Config) error { return errors.New("refused by the change itself") },
			func(c *abtest.Config) error { // overlapping ranges: refused by validation, after partial edits
				c.Layers[1].Experiments = append(c.Layers[1].Experiments, abtest.Experiment{Name: "x"})
				c.Layers[0].Experiments[0].Variants[1].Buckets = append(c.Layers[0].Experiments[0].Variants[1].Buckets, abtest.Range{Start: 50, End: 150})
				return nil
			},
			func(c *abtest.Config) error { // override naming an unknown variant
				c.Layers[0].Experiments[0].Overrides["9"] = "nope"
				return nil
			},
		}
		for i, f := range refusals {
			if _, err := s.Update(ctx, store.Change{Actor: "a", Action: fmt.Sprint("bad", i), Apply: f}); err == nil {
				t.Fatalf("refusal %d was accepted", i)
			}
		}
		after, _ := s.Load(ctx)
		if d := cmp.Diff(before, after, cmpopts.EquateEmpty()); d != "" {
			t.Errorf("a refused change was written (-before +after):\n%s", d)
		}
		if audit, _ := s.Audit(ctx, 10); len(audit) != 1 {
			t.Errorf("refused changes were audited: %+v", audit)
		}
	})
	t.Run("concurrent changes serialise", func(t *testing.T) {
		s := newStore(t)
		const n = 8
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.Update(ctx, store.Change{Actor: "a", Action: "add", Apply: func(c *abtest.Config) error {
					c.Layers = append(c.Layers, abtest.Layer{Name: fmt.Sprint("l", i), Salt: fmt.Sprint("salt", i)})
					return nil
				}})
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		c, _ := s.Load(ctx)
		if c.Version != n || len(c.Layers) != n {
			t.Errorf("after %d concurrent changes: version %d, %d layers", n, c.Version, len(c.Layers))
		}
		audit, _ := s.Audit(ctx, 100)
		if len(audit) != n || audit[0].Version != n || audit[n-1].Version != 1 {
			t.Errorf("audit has %d entries, newest version %d", len(audit), audit[0].Version)
		}
	})
	t.Run("seed only an empty store", func(t *testing.T) {
		s := newStore(t)
		if ok, err := store.Seed(ctx, s, sample(), "seed"); err != nil || !ok {
			t.Fatalf("first seed: %v %v", ok, err)
		}
		if ok, err := store.Seed(ctx, s, &abtest.Config{}, "seed"); err != nil || ok {
			t.Fatalf("second seed: %v %v", ok, err)
		}
		if c, _ := s.Load(ctx); c.Version != 1 || len(c.Layers) != 2 {
			t.Errorf("after seeding: %+v", c)
		}
	})
}
