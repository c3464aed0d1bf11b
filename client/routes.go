package client

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// RecommendRequest asks for one page of recommendations.
type RecommendRequest struct {
	UserID string
	// N is the page size (10 when 0).
	N int
	// Categories keeps the list to these categories.
	Categories []string
	// Exclude are item ids the client shows already.
	Exclude []int64
	// Scene names the surface asking (home, detail, ...).
	Scene string
	// Cursor is the previous page's NextCursor.
	Cursor string
}

func ids(in []int64) string {
	s := make([]string, len(in))
	for i, id := range in {
		s[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(s, ",")
}

// Recommend returns one page of recommendations for a user.
func (c *Client) Recommend(ctx context.Context, r RecommendRequest) (*Recommendations, error) {
	q := url.Values{"user_id": {r.UserID}}
	if r.N > 0 {
		q.Set("n", strconv.Itoa(r.N))
	}
	for _, cat := range r.Categories {
		q.Add("category", cat)
	}
	if len(r.Exclude) > 0 {
		q.Set("exclude", ids(r.Exclude))
	}
	if r.Scene != "" {
		q.Set("scene", r.Scene)
	}
	if r.Cursor != "" {
		q.Set("cursor", r.Cursor)
	}
	var out Recommendations
	return &out, c.do(ctx, http.MethodGet, "/v1/recommendations?"+q.Encode(), nil, nil, &out)
}

// Pages pages through a user's recommendations, one page per step, until
// a page comes back without a next cursor, the caller stops, or a call
// fails (the failure is the last step).
func (c *Client) Pages(ctx context.Context, r RecommendRequest) iter.Seq2[*Recommendations, error] {
	return func(yield func(*Recommendations, error) bool) {
		for {
			page, err := c.Recommend(ctx, r)
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(page, nil) || page.NextCursor == "" {
				return
			}
			r.Cursor = page.NextCursor
		}
	}
}

// SimilarRequest asks for items similar to one item.
type SimilarRequest struct {
	// N is the list size (10 when 0).
	N int
	// UserID personalises the list when set.
	UserID string
	Scene  string
}

// Similar returns items similar to itemID.
func (c *Client) Similar(ctx context.Context, itemID int64, r SimilarRequest) (*Recommendations, error) {
	q := url.Values{}
	if r.N > 0 {
		q.Set("n", strconv.Itoa(r.N))
	}
	if r.UserID != "" {
		q.Set("user_id", r.UserID)
	}
	if r.Scene != "" {
		q.Set("scene", r.Scene)
	}
	path := itemPath(itemID) + "/similar"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var out Recommendations
	return &out, c.do(ctx, http.MethodGet, path, nil, nil, &out)
}

// SendEvents reports a batch of events, all or none, under a fresh
// idempotency key: retries of this call never store the batch twice.
func (c *Client) SendEvents(ctx context.Context, events []Event) (int, error) {
	return c.SendEventsWithKey(ctx, NewIdempotencyKey(), events)
}

// SendEventsWithKey reports a batch under the caller's idempotency key
// (1 to 128 of A-Z a-z 0-9 . _ : -), for a caller that retries on its own
// across restarts: the same key within 24 hours is stored once.
func (c *Client) SendEventsWithKey(ctx context.Context, key string, events []Event) (int, error) {
	var out struct {
		Accepted int `json:"accepted"`
	}
	h := http.Header{"Idempotency-Key": {key}}
	err := c.do(ctx, http.MethodPost, "/v1/events", map[string]any{"events": events}, h, &out)
	return out.Accepted, err
}

// Item returns one catalogue item.
func (c *Client) Item(ctx context.Context, id int64) (*Item, error) {
	var out Item
	return &out, c.do(ctx, http.MethodGet, itemPath(id), nil, nil, &out)
}

// PutItem creates or replaces an item.
func (c *Client) PutItem(ctx context.Context, in ItemInput) (*Item, error) {
	var out Item
	return &out, c.do(ctx, http.MethodPut, itemPath(in.ItemID), in, nil, &out)
}

// PutItems creates or replaces up to 1,000 items, all or none.
func (c *Client) PutItems(ctx context.Context, in []ItemInput) ([]Item, error) {
	var out struct {
		Items []Item `json:"items"`
	}
	err := c.do(ctx, http.MethodPost, "/v1/items", map[string]any{"items": in}, nil, &out)
	return out.Items, err
}

// PatchItem changes the fields p sets.
func (c *Client) PatchItem(ctx context.Context, id int64, p ItemPatch) (*Item, error) {
	var out Item
	return &out, c.do(ctx, http.MethodPatch, itemPath(id), p.body(), nil, &out)
}

// DeleteItem retires an item: kept for history, never recommended again.
func (c *Client) DeleteItem(ctx context.Context, id int64) (*Item, error) {
	var out Item
	return &out, c.do(ctx, http.MethodDelete, itemPath(id), nil, nil, &out)
}

// User returns what recmesh knows of a user.
func (c *Client) User(ctx context.Context, id string) (*User, error) {
	var out User
	return &out, c.do(ctx, http.MethodGet, userPath(id), nil, nil, &out)
}

// PutUser replaces a user's profile attributes and returns the user.
func (c *Client) PutUser(ctx context.Context, id string, profile map[string]string) (*User, error) {
	var out User
	return &out, c.do(ctx, http.MethodPut, userPath(id), map[string]any{"profile": profile}, nil, &out)
}

// DeleteUser erases a user (a right-to-erasure request).
func (c *Client) DeleteUser(ctx context.Context, id string) (Forgotten, error) {
	var out struct {
		Forgotten Forgotten `json:"forgotten"`
	}
	err := c.do(ctx, http.MethodDelete, userPath(id), nil, nil, &out)
	return out.Forgotten, err
}
