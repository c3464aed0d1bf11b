package abtest

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// overlapConfig has every part of the overlapping design: a 5% holdout, two
// launches, the default domain's layers and a 20% domain of its own.
func overlapConfig() *Config {
	c := twoLayerConfig()
	started := time.UnixMilli(1_700_000_000_123).UTC()
	c.Layers[0].Experiments[0].Started = &started
	c.Holdout = &Holdout{Salt: "hold", Buckets: 500}
	c.Launches = []Launch{
		{Name: "cap", Salt: "l-cap", Buckets: 10000, Params: Params{FrequencyCap: &FrequencyCap{K: 3, Window: Duration(time.Hour), Cooldown: Duration(24 * time.Hour)}}},
		{Name: "genre", Salt: "l-genre", Buckets: 3000, Params: Params{MaxPerGenre: intp(5)}},
	}
	c.Domains = []Domain{{Name: "mobile", Buckets: []Range{{0, 2000}}, Layers: []Layer{
		{Name: "m-ranking", Salt: "m-rk", Experiments: []Experiment{{Name: "m", Variants: []Variant{{Name: "x", Buckets: []Range{{0, 10000}}}}}}},
	}}}
	return c
}

func TestOverlapConfigRoundTripsAndValidates(t *testing.T) {
	c := overlapConfig()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(c, ConfigFromPB(c.ToPB())); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	bad := map[string]func(*Config){
		"layer named holdout":       func(c *Config) { c.Layers[0].Name = HoldoutLayer },
		"layer name across domains": func(c *Config) { c.Domains[0].Layers[0].Name = "ranking" },
		"salt shared with launch":   func(c *Config) { c.Launches[0].Salt = "rk" },
		"holdout too big":           func(c *Config) { c.Holdout.Buckets = NumBuckets + 1 },
		"launch repeated":           func(c *Config) { c.Launches[1].Name = "cap" },
		"domains overlap": func(c *Config) {
			c.Domains = append(c.Domains, Domain{Name: "tv", Buckets: []Range{{1000, 3000}}})
		},
	}
	for name, f := range bad {
		c := overlapConfig()
		f(c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestAssignHoldoutLaunchesAndDomains(t *testing.T) {
	c := overlapConfig()
	a, err := NewAssigner(c)
	if err != nil {
		t.Fatal(err)
	}
	const n = 100000
	held, genre, mobile := 0, 0, 0
	for u := range n {
		user := fmt.Sprint("u", u)
		r := a.Assign(user)
		switch {
		case r.HeldOut:
			held++
			if len(r.Assignments) != 1 || r.Assignments[0] != HoldoutAssignment || r.Routes != nil || len(r.Launches) != 0 ||
				!cmp.Equal(r.Params, c.Defaults) {
				t.Fatalf("held-out %s got %+v", user, r)
			}
			continue
		case r.Params.FrequencyCap == nil || r.Launches[0] != "cap":
			t.Fatalf("%s is not held out but missed the 100%% launch: %+v", user, r)
		}
		if len(r.Launches) == 2 {
			genre++
			if *r.Params.MaxPerGenre != 5 && !(r.Domain == "" && r.Assignments[1].Variant == "b") {
				t.Fatalf("%s: launch params not applied: %+v", user, r.Params)
			}
		}
		if r.Domain == "mobile" {
			mobile++
			if len(r.Assignments) != 1 || r.Assignments[0].Layer != "m-ranking" {
				t.Fatalf("%s in the mobile domain got %+v", user, r.Assignments)
			}
		} else if len(r.Assignments) == 0 || r.Assignments[0].Layer != "ranking" {
			t.Fatalf("%s in the default domain got %+v", user, r.Assignments)
		}
	}
	for name, got := range map[string]struct{ got, want float64 }{
		"holdout": {float64(held) / n, 0.05},
		"genre":   {float64(genre) / float64(n-held), 0.3},
		"mobile":  {float64(mobile) / float64(n-held), 0.2},
	} {
		if math.Abs(got.got-got.want) > 0.01 {
			t.Errorf("%s share %.4f, want %.2f ± 0.01", name, got.got, got.want)
		}
	}
}

// Ramping the holdout or a launch changes a user's assignment only when
// their own bucket crossed the ramp: nobody else is reshuffled.
func TestHoldoutAndLaunchRampsNeverReshuffle(t *testing.T) {
	for _, part := range []struct {
		name  string
		salt  string
		set   func(c *Config, buckets int)
		steps []int
	}{
		{"holdout", "hold", func(c *Config, b int) { c.Holdout.Buckets = b }, []int{500, 1500, 200, 0, 800}},
		{"launch", "l-genre", func(c *Config, b int) { c.Launches[1].Buckets = b }, []int{3000, 6000, 1000, 10000}},
	} {
		t.Run(part.name, func(t *testing.T) {
			prev := overlapConfig()
			part.set(prev, part.steps[0])
			for _, step := range part.steps[1:] {
				next := overlapConfig()
				part.set(next, step)
				pa, _ := NewAssigner(prev)
				na, _ := NewAssigner(next)
				lo, hi := min(step, bucketsOf(prev, part.name)), max(step, bucketsOf(prev, part.name))
				changed, moved := 0, 0
				for u := range 20000 {
					user := fmt.Sprint(u)
					b := Bucket(part.salt, user)
					crossed := b >= lo && b < hi
					if crossed {
						moved++
					}
					if !cmp.Equal(pa.Assign(user), na.Assign(user)) {
						changed++
						if !crossed {
							t.Fatalf("%s → %d: user %s changed though bucket %d did not cross", part.name, step, user, b)
						}
					}
				}
				if changed == 0 || changed > moved {
					t.Errorf("%s → %d: %d users changed, %d crossed", part.name, step, changed, moved)
				}
				prev = next
			}
		})
	}
}

func bucketsOf(c *Config, part string) int {
	if part == "holdout" {
		return c.Holdout.Buckets
	}
	return c.Launches[1].Buckets
}
