package mesh

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/recmesh/recmesh/client"
	"github.com/recmesh/recmesh/gateway/rest/openapitest"
	"github.com/recmesh/recmesh/services/features/featuresapi"
	"github.com/recmesh/recmesh/services/filter/filterapi"
	"github.com/recmesh/recmesh/services/ranking/rankingapi"
	"github.com/recmesh/recmesh/services/recall/recallapi"
)

// Every call the end-to-end tests make goes through validator, which
// checks it against the gateway's own /openapi.json; api is the Go client
// on top of it.
var (
	validator *openapitest.Validator
	httpc     *http.Client
	api       *client.Client
)

func startAPI() error {
	var err error
	if validator, err = openapitest.FromServer(m.URL(), nil); err != nil {
		return err
	}
	httpc = &http.Client{Transport: validator}
	api = client.New(m.URL(), client.Options{HTTPClient: httpc})
	return nil
}

// notCovered are operations the end-to-end suite does not call with
// success on purpose (none today).
var notCovered []string

// checkAPI fails the run when any reply (or accepted request) was off the
// document, or, after a full run, when some operation was never exercised.
func checkAPI() int {
	code := 0
	for _, err := range validator.Errors() {
		fmt.Fprintln(os.Stderr, "openapi:", err)
		code = 1
	}
	if f := flag.Lookup("test.run"); f != nil && f.Value.String() == "" {
		if u := validator.Uncovered(notCovered...); len(u) > 0 {
			fmt.Fprintln(os.Stderr, "openapi: operations no test exercised:", u)
			code = 1
		}
	}
	return code
}

// waitFor polls cond every 20 ms for up to 15 s and returns how long it took.
func waitFor(t *testing.T, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > 15*time.Second {
			t.Fatalf("%s: not after 15s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(start)
}

var probes atomic.Int64

// served asks r's list for a user who has never been shown anything (each
// ask a new one: shown items count as seen), and reports whether id is in
// it, with its sources.
func served(t *testing.T, r client.RecommendRequest, id int64) (bool, []string) {
	t.Helper()
	r.UserID = fmt.Sprintf("%s-probe-%d", r.UserID, probes.Add(1))
	page, err := api.Recommend(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	it, ok := page.Find(id)
	return ok, it.Sources
}

func ptr[T any](v T) *T { return &v }

// A new item is served by the fresh and category channels within seconds
// of its PUT, with no training; every catalogue change reaches serving.
func TestCatalogueLifecycle(t *testing.T) {
	ctx := context.Background()
	cat := fmt.Sprintf("e2e-new-%d", time.Now().UnixNano())
	const id = 900001
	ask := client.RecommendRequest{UserID: "1", N: 10, Categories: []string{cat}}
	put := time.Now()
	it, err := api.PutItem(ctx, client.ItemInput{ItemID: id, Title: "A brand new film", Categories: []string{cat}, Tags: []string{"new"}})
	if err != nil {
		t.Fatal(err)
	}
	if !it.Available || it.CreatedAt.IsZero() || it.CreatedAt.Before(put.Add(-time.Second)) {
		t.Errorf("stored item = %+v, want available with created_at now", it)
	}
	var sources []string
	took := waitFor(t, "the new item served", func() bool {
		var ok bool
		ok, sources = served(t, ask, id)
		return ok
	})
	t.Logf("PUT to served by the fresh channel: %v (polled every 20ms for %v)", time.Since(put), took)
	if !slices.Contains(sources, "fresh") || !slices.Contains(sources, "category") {
		t.Errorf("new item's sources %v, want fresh and category", sources)
	}
	if _, err := api.PatchItem(ctx, id, client.ItemPatch{Available: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "an unavailable item dropped", func() bool { ok, _ := served(t, ask, id); return !ok })
	exp := time.Now().Add(1500 * time.Millisecond)
	if _, err := api.PatchItem(ctx, id, client.ItemPatch{Available: ptr(true), ExpiresAt: &exp}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "an available item served again", func() bool { ok, _ := served(t, ask, id); return ok || time.Now().After(exp) })
	waitFor(t, "an expired item dropped", func() bool { ok, _ := served(t, ask, id); return !ok })
	cleared, err := api.PatchItem(ctx, id, client.ItemPatch{ClearExpiry: true})
	if err != nil || !cleared.ExpiresAt.IsZero() {
		t.Fatalf("clearing the expiry: %+v, %v", cleared, err)
	}
	waitFor(t, "an unexpired item served again", func() bool { ok, _ := served(t, ask, id); return ok })
	gone, err := api.DeleteItem(ctx, id)
	if err != nil || gone.RetiredAt.IsZero() {
		t.Fatalf("DELETE = %+v, %v", gone, err)
	}
	waitFor(t, "a retired item dropped", func() bool { ok, _ := served(t, ask, id); return !ok })
	if kept, err := api.Item(ctx, id); err != nil || kept.RetiredAt.IsZero() || kept.Title != "A brand new film" {
		t.Errorf("a retired item is kept for history: %+v, %v", kept, err)
	}
	// A batch is all or none.
	_, err = api.PutItems(ctx, []client.ItemInput{{ItemID: 900002, Title: "ok"}, {ItemID: 900003}})
	if !client.IsCode(err, "invalid_argument") {
		t.Errorf("a batch with an untitled item: %v, want invalid_argument", err)
	}
	if _, err := api.Item(ctx, 900002); !client.IsCode(err, "not_found") {
		t.Errorf("the valid item of a refused batch was stored: %v", err)
	}
	items, err := api.PutItems(ctx, []client.ItemInput{{ItemID: 900002, Title: "two", Categories: []string{cat}}, {ItemID: 900003, Title: "three"}})
	if err != nil || len(items) != 2 || items[1].ItemID != 900003 {
		t.Fatalf("a good batch: %+v, %v", items, err)
	}
}

// An item taken out of serving stays out whatever hop fails: each
// fallback path applies the catalogue.
func TestCatalogueHoldsOnEveryFallback(t *testing.T) {
	ctx := context.Background()
	ask := client.RecommendRequest{UserID: "e2e-fallback-user", N: 20}
	top, err := api.Recommend(ctx, ask)
	if err != nil || len(top.Items) == 0 {
		t.Fatalf("cold-start list: %+v, %v", top, err)
	}
	id := top.Items[0].ItemID // a popular item: in the gateway's cached popular list too
	if _, err := api.PatchItem(ctx, id, client.ItemPatch{Available: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = api.PatchItem(ctx, id, client.ItemPatch{Available: ptr(true)}) })
	patched := time.Now()
	waitFor(t, "the unavailable item dropped", func() bool { ok, _ := served(t, ask, id); return !ok })
	// Every view (recall's, filter's, the gateway's) must hold the change
	// before features stops, or a stopped features would freeze one of
	// them before it: each must have synced since the PATCH.
	for _, url := range []string{m.AdminURL(recallapi.Name), m.AdminURL(filterapi.Name), m.URL()} {
		waitFor(t, "the catalogue view of "+url+" synced", func() bool {
			age, ok := metricValue(t, url+"/metrics", "recmesh_catalog_age_seconds")
			return ok && age >= 0 && age < time.Since(patched).Seconds()
		})
	}
	all := []string{featuresapi.Name, recallapi.Name, filterapi.Name, rankingapi.Name}
	for _, down := range [][]string{{featuresapi.Name}, {recallapi.Name}, {filterapi.Name}, {rankingapi.Name}, all} {
		t.Run(fmt.Sprint(down), func(t *testing.T) {
			for _, s := range down {
				if err := m.StopService(ctx, s); err != nil {
					t.Fatal(err)
				}
			}
			probe := ask
			probe.UserID = fmt.Sprintf("%s-%d", ask.UserID, probes.Add(1))
			page, err := api.Recommend(ctx, probe)
			for _, s := range down {
				if err := m.StartService(ctx, s); err != nil {
					t.Fatal(err)
				}
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Degraded) != len(down) || len(page.Items) == 0 {
				t.Errorf("with %v stopped: degraded %v and %d items", down, page.Degraded, len(page.Items))
			}
			for _, it := range page.Items {
				if it.ItemID == id {
					t.Errorf("with %v stopped, the unavailable item %d was served", down, id)
				}
			}
			waitFor(t, "recovery", func() bool {
				p, err := api.Recommend(ctx, ask)
				return err == nil && len(p.Degraded) == 0
			})
		})
	}
}

// Pages of one session never repeat an item, across a model reload.
func TestPaginationNeverRepeats(t *testing.T) {
	ctx := context.Background()
	seen := map[int64]bool{}
	exclude := []int64{1, 50}
	pages := 0
	for page, err := range api.Pages(ctx, client.RecommendRequest{UserID: "7", N: 10, Exclude: exclude, Scene: "home"}) {
		if err != nil {
			t.Fatal(err)
		}
		if page.Scene != "home" || len(page.Items) != 10 {
			t.Fatalf("page %d: scene %q, %d items", pages, page.Scene, len(page.Items))
		}
		for _, it := range page.Items {
			if seen[it.ItemID] || slices.Contains(exclude, it.ItemID) {
				t.Fatalf("page %d shows item %d again (or an excluded one)", pages, it.ItemID)
			}
			seen[it.ItemID] = true
		}
		pages++
		if pages == 2 {
			version := time.Now().Add(time.Hour).UTC().Format("v20060102T150405Z") // after the trained one
			republish(t, version)
			waitForVersion(t, version)
		}
		if pages == 5 {
			break
		}
	}
	if pages != 5 {
		t.Errorf("paged %d times, want 5", pages)
	}
	if _, err := api.Recommend(ctx, client.RecommendRequest{UserID: "8", Cursor: "garbage"}); !client.IsCode(err, "invalid_argument") {
		t.Errorf("a bad cursor: %v", err)
	}
}

func TestSimilarItems(t *testing.T) {
	ctx := context.Background()
	sim, err := api.Similar(ctx, 1, client.SimilarRequest{N: 10})
	if err != nil || sim.ItemID != 1 || len(sim.Items) != 10 {
		t.Fatalf("similar to 1: %+v, %v", sim, err)
	}
	neighbours := 0
	for _, it := range sim.Items {
		if it.ItemID == 1 {
			t.Error("an item is similar to itself")
		}
		if slices.Contains(it.Sources, "item_cf") || slices.Contains(it.Sources, "embedding") {
			neighbours++
		}
	}
	if neighbours < 5 {
		t.Errorf("only %d of 10 similar items are item-CF or embedding neighbours: %+v", neighbours, sim.Items)
	}
	rated := map[int64]bool{}
	for _, r := range dataset.Ratings {
		if r.UserID == 1 {
			rated[r.MovieID] = true
		}
	}
	mine, err := api.Similar(ctx, 1, client.SimilarRequest{N: 10, UserID: "1"})
	if err != nil || mine.UserID != "1" || len(mine.Items) == 0 {
		t.Fatalf("personalised similar: %+v, %v", mine, err)
	}
	for _, it := range mine.Items {
		if rated[it.ItemID] {
			t.Errorf("personalised similar items include %d, which user 1 rated", it.ItemID)
		}
	}
	if _, err := api.Similar(ctx, 987654321, client.SimilarRequest{}); !client.IsCode(err, "not_found") {
		t.Errorf("similar to an unknown item: %v", err)
	}
}

// A user's profile seeds cold start; a retried batch counts once; and
// DELETE forgets everything of theirs.
func TestUsersProfileAndErasure(t *testing.T) {
	ctx := context.Background()
	user := fmt.Sprintf("e2e-erase-%d", time.Now().UnixNano())
	u, err := api.PutUser(ctx, user, map[string]string{"categories": "Horror", "country": "DE"})
	if err != nil || u.Profile["country"] != "DE" || u.CategoryAffinity["Horror"] != 1 {
		t.Fatalf("PUT user: %+v, %v", u, err)
	}
	cold, err := api.Recommend(ctx, client.RecommendRequest{UserID: user, N: 10})
	if err != nil {
		t.Fatal(err)
	}
	horror := 0
	for _, it := range cold.Items {
		if item, err := api.Item(ctx, it.ItemID); err == nil && slices.Contains(item.Categories, "Horror") {
			horror++
		}
	}
	if horror == 0 {
		t.Errorf("a new user whose profile likes Horror got no Horror: %+v", cold.Items)
	}
	events := []client.Event{{UserID: user, ItemID: 1, Type: "click"}, {UserID: user, ItemID: 2, Type: "like"}}
	for range 2 { // the same batch twice, as a client retrying after a lost answer
		if n, err := api.SendEventsWithKey(ctx, "erase-batch-"+user[len(user)-8:], events); err != nil || n != 2 {
			t.Fatalf("send: %d, %v", n, err)
		}
	}
	waitFor(t, "exposures and events recorded", func() bool {
		u, err := api.User(ctx, user)
		return err == nil && u.Interactions == 2 && u.Exposures > 0
	})
	u, _ = api.User(ctx, user)
	if u.Interactions != 2 || len(u.Recent) != 2 || u.Recent[0].ItemID != 2 {
		t.Errorf("user after a retried batch = %+v, want 2 interactions (once)", u)
	}
	f, err := api.DeleteUser(ctx, user)
	if err != nil || f.Events != 2 || f.Exposures == 0 {
		t.Fatalf("DELETE user = %+v, %v", f, err)
	}
	u, err = api.User(ctx, user)
	if err != nil || u.Interactions != 0 || len(u.Recent) != 0 || u.Exposures != 0 || u.SeenItems != 0 || len(u.Profile) != 0 || len(u.CategoryAffinity) != 0 {
		t.Errorf("after erasure: %+v, %v; want nothing", u, err)
	}
}

// The Go client surfaces an API error with its status and code (its
// retries are tested in the client module).
func TestClientAgainstTheGateway(t *testing.T) {
	ctx := context.Background()
	_, err := api.Recommend(ctx, client.RecommendRequest{UserID: "1", N: 1000})
	var e *client.Error
	if !errors.As(err, &e) || e.Status != 400 || e.Code != "invalid_argument" {
		t.Errorf("n=1000: %v", err)
	}
	if _, err := api.Item(ctx, 1); err != nil {
		t.Error(err)
	}
}

// metricValue reads an unlabelled sample of name from a /metrics page.
func metricValue(t *testing.T, url, name string) (float64, bool) {
	t.Helper()
	resp, err := httpc.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return f, err == nil
		}
	}
	return 0, false
}
