package experiment_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/recmesh/recmesh/pkg/abtest"
	"github.com/recmesh/recmesh/services/experiment/store"
)

func domainOwner(c *abtest.Config, b int) string {
	for _, d := range c.Domains {
		for _, r := range d.Buckets {
			if b >= r.Start && b < r.End {
				return d.Name
			}
		}
	}
	return ""
}

// Ramping a domain moves a user between domains only when their own
// domain bucket changed owner.
func TestDomainRampsNeverReshuffle(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s store.Store) {
		c := newSeededAdmin(t, s)
		c.ok("POST", "/admin/v1/domains", `{"name":"mobile","traffic":2000}`)
		c.ok("POST", "/admin/v1/domains", `{"name":"tv","traffic":1000}`)
		c.ok("POST", "/admin/v1/layers", `{"name":"m-rank","salt":"m-rank-salt","domain":"mobile"}`)
		c.ok("POST", "/admin/v1/layers/m-rank/experiments", `{"name":"m","traffic":10000,"variants":[{"name":"x","share":50},{"name":"y","share":50}]}`)
		prev, _ := s.Load(context.Background())
		for _, st := range []struct{ domain, body string }{
			{"mobile", `{"size":3500}`}, {"tv", `{"size":200}`}, {"mobile", `{"size":500}`}, {"tv", `{"size":4000}`},
		} {
			next := c.ok("PATCH", "/admin/v1/domains/"+st.domain, st.body)
			pa, _ := abtest.NewAssigner(prev)
			na, _ := abtest.NewAssigner(next)
			changed, moved := 0, 0
			for u := range 20000 {
				user := fmt.Sprint(u)
				b := abtest.Bucket(next.DomainSaltOrDefault(), user)
				bucketMoved := domainOwner(prev, b) != domainOwner(next, b)
				if bucketMoved {
					moved++
				}
				if pa.Assign(user).Domain != na.Assign(user).Domain || fmt.Sprint(pa.Assign(user).Assignments) != fmt.Sprint(na.Assign(user).Assignments) {
					changed++
					if !bucketMoved {
						t.Fatalf("%s %s: user %s changed though domain bucket %d kept its owner", st.domain, st.body, user, b)
					}
				}
			}
			if changed == 0 || changed != moved {
				t.Errorf("%s %s: %d users changed, %d had their domain bucket moved", st.domain, st.body, changed, moved)
			}
			prev = next
		}
		if status, _ := c.do("POST", "/admin/v1/layers", token, `{"name":"ranking","salt":"other","domain":"tv"}`); status != http.StatusConflict {
			t.Errorf("a layer name repeated in a domain: %d, want 409", status)
		}
		if status, _ := c.do("PATCH", "/admin/v1/domains/tv", token, `{"size":9600}`); status != http.StatusConflict {
			t.Errorf("a domain larger than the free space: %d, want 409", status)
		}
	})
}

func TestHoldoutAndLaunchesThroughTheAdminAPI(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s store.Store) {
		c := newSeededAdmin(t, s)
		cfg := c.ok("PUT", "/admin/v1/holdout", `{"traffic":500}`)
		if cfg.Holdout == nil || cfg.Holdout.Buckets != 500 || cfg.Holdout.Salt != "holdout" {
			t.Fatalf("holdout = %+v", cfg.Holdout)
		}
		cfg = c.ok("POST", "/admin/v1/launches", `{"name":"cap","traffic":1000,"params":{"frequency_cap":{"k":3,"window":"1h","cooldown":"24h"}}}`)
		if len(cfg.Launches) != 1 || cfg.Launches[0].Params.FrequencyCap.K != 3 {
			t.Fatalf("launches = %+v", cfg.Launches)
		}
		cfg = c.ok("PATCH", "/admin/v1/launches/cap", `{"traffic":10000}`)
		if cfg.Launches[0].Buckets != 10000 {
			t.Errorf("ramped launch = %+v", cfg.Launches[0])
		}
		for _, bad := range []struct{ method, path, body string }{
			{"PUT", "/admin/v1/holdout", `{"traffic":-1}`},
			{"POST", "/admin/v1/launches", `{"name":"x","traffic":10,"params":{"recall_quotas":{"nope":1}}}`},
			{"POST", "/admin/v1/launches", `{"name":"y","traffic":10,"params":{"frequency_cap":{"k":2,"window":"0s","cooldown":"1h"}}}`},
			{"PATCH", "/admin/v1/launches/cap", `{}`},
			{"POST", "/admin/v1/layers", `{"name":"holdout","salt":"zz"}`},
		} {
			if status, b := c.do(bad.method, bad.path, token, bad.body); status < 400 || status > 409 {
				t.Errorf("%s %s %s: %d %s, want a 4xx", bad.method, bad.path, bad.body, status, b)
			}
		}
		cfg = c.ok("DELETE", "/admin/v1/launches/cap", "")
		if len(cfg.Launches) != 0 {
			t.Errorf("launch not deleted: %+v", cfg.Launches)
		}
		entries, err := s.Audit(context.Background(), 10)
		if err != nil || len(entries) < 4 || entries[0].Action != "delete_launch" {
			t.Errorf("audit = %+v, %v", entries, err)
		}
	})
}
