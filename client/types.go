package client

import "time"

// Item is a catalogue item as the API returns it.
type Item struct {
	ItemID     int64     `json:"item_id"`
	Title      string    `json:"title"`
	Categories []string  `json:"categories"`
	Tags       []string  `json:"tags"`
	Year       int       `json:"year,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	Available  bool      `json:"available"`
	ExpiresAt  time.Time `json:"expires_at,omitzero"`
	RetiredAt  time.Time `json:"retired_at,omitzero"`
}

// ItemInput is an item to create or replace. Available nil means true;
// a zero CreatedAt keeps the stored one (or takes the time of the put).
type ItemInput struct {
	ItemID     int64      `json:"item_id"`
	Title      string     `json:"title"`
	Categories []string   `json:"categories,omitempty"`
	Tags       []string   `json:"tags,omitempty"`
	Year       int        `json:"year,omitempty"`
	CreatedAt  time.Time  `json:"created_at,omitzero"`
	Available  *bool      `json:"available,omitempty"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
}

// ItemPatch changes the fields it sets; ClearExpiry removes the expiry.
type ItemPatch struct {
	Title       *string
	Categories  *[]string
	Tags        *[]string
	Year        *int
	CreatedAt   *time.Time
	Available   *bool
	ExpiresAt   *time.Time
	ClearExpiry bool
}

// body is the patch as a JSON merge patch.
func (p ItemPatch) body() map[string]any {
	m := map[string]any{}
	set := func(k string, ok bool, v any) {
		if ok {
			m[k] = v
		}
	}
	set("title", p.Title != nil, p.Title)
	set("categories", p.Categories != nil, p.Categories)
	set("tags", p.Tags != nil, p.Tags)
	set("year", p.Year != nil, p.Year)
	set("created_at", p.CreatedAt != nil, p.CreatedAt)
	set("available", p.Available != nil, p.Available)
	set("expires_at", p.ExpiresAt != nil, p.ExpiresAt)
	if p.ClearExpiry {
		m["expires_at"] = nil
	}
	return m
}

// Recommended is one item of a list.
type Recommended struct {
	ItemID  int64    `json:"item_id"`
	Title   string   `json:"title"`
	Score   float64  `json:"score"`
	Sources []string `json:"sources"`
}

// Assignment is the variant a user got in one experiment layer.
type Assignment struct {
	Layer      string `json:"layer"`
	Experiment string `json:"experiment"`
	Variant    string `json:"variant"`
}

// Recommendations is a page of recommendations, or of similar items.
type Recommendations struct {
	RequestID    string        `json:"request_id"`
	TraceID      string        `json:"trace_id"`
	UserID       string        `json:"user_id"`
	ItemID       int64         `json:"item_id,omitempty"`
	Scene        string        `json:"scene,omitempty"`
	ModelVersion string        `json:"model_version,omitempty"`
	Items        []Recommended `json:"items"`
	Experiments  []Assignment  `json:"experiments"`
	Degraded     []string      `json:"degraded"`
	NextCursor   string        `json:"next_cursor,omitempty"`
}

// Find returns the item of the page with id, if the page holds it.
func (r *Recommendations) Find(id int64) (Recommended, bool) {
	for _, it := range r.Items {
		if it.ItemID == id {
			return it, true
		}
	}
	return Recommended{}, false
}

// Event is one interaction to report.
type Event struct {
	UserID    string  `json:"user_id"`
	ItemID    int64   `json:"item_id"`
	Type      string  `json:"type"`
	Value     float64 `json:"value,omitempty"`
	TS        int64   `json:"ts,omitempty"`
	RequestID string  `json:"request_id,omitempty"`
	// EventID names the event: a retried event with the same id counts once.
	EventID string `json:"event_id,omitempty"`
}

// Interaction is one of a user's recent interactions.
type Interaction struct {
	ItemID int64   `json:"item_id"`
	Type   string  `json:"type"`
	Value  float64 `json:"value"`
	TS     int64   `json:"ts"`
}

// User is what recmesh knows of a user.
type User struct {
	UserID           string             `json:"user_id"`
	Recent           []Interaction      `json:"recent"`
	CategoryAffinity map[string]float64 `json:"category_affinity"`
	Interactions     int64              `json:"interactions"`
	SeenItems        int                `json:"seen_items"`
	Exposures        int                `json:"exposures"`
	Profile          map[string]string  `json:"profile"`
}

// Forgotten counts what erasing a user deleted.
type Forgotten struct {
	Events    int64 `json:"events"`
	Exposures int64 `json:"exposures"`
}
