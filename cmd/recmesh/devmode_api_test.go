package main

// Dev-mode checks of the catalogue and user API on PostgreSQL and Redis,
// through the Go client, every call validated against /openapi.json.

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/recmesh/recmesh/client"
	"github.com/recmesh/recmesh/gateway/rest/openapitest"
)

// apiClient is a client of the dev gateway whose every call is validated
// against its /openapi.json; a mismatch fails t when it ends.
func (d *devMesh) apiClient(t *testing.T) *client.Client {
	t.Helper()
	v, err := openapitest.FromServer(d.gateway, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, err := range v.Errors() {
			t.Error("openapi:", err)
		}
	})
	return client.New(d.gateway, client.Options{HTTPClient: &http.Client{Transport: v}})
}

var devProbes int

// devServed asks for category cat as a user never shown anything.
func devServed(t *testing.T, c *client.Client, cat string, id int64) (bool, []string) {
	t.Helper()
	devProbes++
	page, err := c.Recommend(context.Background(), client.RecommendRequest{UserID: fmt.Sprint("dev-probe-", devProbes), Categories: []string{cat}})
	if err != nil {
		t.Fatal(err)
	}
	it, ok := page.Find(id)
	return ok, it.Sources
}

func devWait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after 20s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (d *devMesh) checkCatalogue(t *testing.T) {
	c := d.apiClient(t)
	ctx := context.Background()
	cat := fmt.Sprintf("dev-new-%d", time.Now().UnixNano())
	const id = 910001
	start := time.Now()
	if _, err := c.PutItem(ctx, client.ItemInput{ItemID: id, Title: "Dev new film", Categories: []string{cat}}); err != nil {
		t.Fatal(err)
	}
	var sources []string
	devWait(t, "the new item served", func() bool { ok, s := devServed(t, c, cat, id); sources = s; return ok })
	t.Logf("PUT to served by the fresh channel (dev mode, PostgreSQL): %v", time.Since(start))
	if !slices.Contains(sources, "fresh") {
		t.Errorf("sources %v lack fresh", sources)
	}
	if _, err := c.DeleteItem(ctx, id); err != nil {
		t.Fatal(err)
	}
	devWait(t, "the retired item dropped", func() bool { ok, _ := devServed(t, c, cat, id); return !ok })
	var retired bool
	if err := d.pg.QueryRow(ctx, `SELECT retired_at IS NOT NULL FROM items WHERE item_id = $1`, id).Scan(&retired); err != nil || !retired {
		t.Errorf("PostgreSQL has item %d retired = %v (%v)", id, retired, err)
	}
}

// A right-to-erasure request leaves nothing of the user in PostgreSQL or
// Redis.
func (d *devMesh) checkErasure(t *testing.T) {
	c := d.apiClient(t)
	ctx := context.Background()
	user := fmt.Sprintf("dev-erase-%d", time.Now().UnixNano())
	if _, err := c.PutUser(ctx, user, map[string]string{"categories": "Comedy"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SendEvents(ctx, []client.Event{{UserID: user, ItemID: 1, Type: "click"}, {UserID: user, ItemID: 2, Type: "like"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Recommend(ctx, client.RecommendRequest{UserID: user}); err != nil {
		t.Fatal(err)
	}
	rows := func() (events, exposures, users int) {
		_ = d.pg.QueryRow(ctx, `SELECT (SELECT count(*) FROM events WHERE user_id = $1), (SELECT count(*) FROM exposures WHERE user_id = $1),
			(SELECT count(*) FROM users WHERE user_id = $1)`, user).Scan(&events, &exposures, &users)
		return
	}
	devWait(t, "exposures written", func() bool { _, x, _ := rows(); return x > 0 })
	keys := func() []string {
		var out []string
		iter := d.rdb.Scan(ctx, 0, d.prefix+"*"+user+"*", 100).Iterator()
		for iter.Next(ctx) {
			out = append(out, iter.Val())
		}
		return out
	}
	if len(keys()) == 0 {
		t.Fatal("the user has no Redis keys before erasure; the check below would prove nothing")
	}
	f, err := c.DeleteUser(ctx, user)
	if err != nil || f.Events != 2 || f.Exposures == 0 {
		t.Fatalf("DELETE user = %+v, %v", f, err)
	}
	if e, x, u := rows(); e+x+u != 0 {
		t.Errorf("after erasure PostgreSQL holds %d events, %d exposures, %d user rows of %s", e, x, u, user)
	}
	if k := keys(); len(k) != 0 {
		t.Errorf("after erasure Redis holds %v", k)
	}
	u, err := c.User(ctx, user)
	if err != nil || u.Interactions != 0 || len(u.Profile) != 0 || u.Exposures != 0 {
		t.Errorf("after erasure GET user = %+v, %v", u, err)
	}
}
