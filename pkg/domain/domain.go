// Package domain holds the types that travel between recmesh services:
// items, interactions, events, user features and candidates, plus their
// protobuf codecs. It holds no behaviour beyond validation.
package domain

import (
	"fmt"
	"math"
	"regexp"
	"time"

	"github.com/recmesh/recmesh/pkg/apierr"
)

// Item is one entry of the catalogue. Servable tells whether it may be
// recommended at a given time.
type Item struct {
	ID         int64    `json:"item_id"`
	Title      string   `json:"title"`
	Categories []string `json:"categories"`
	Tags       []string `json:"tags"`
	Year       int      `json:"year,omitempty"`
	// CreatedAt is when the item entered the catalogue; the fresh channel
	// decays by it.
	CreatedAt time.Time `json:"created_at"`
	// Available is false for an item that may not be recommended now (out
	// of stock, embargoed); it stays in the catalogue.
	Available bool `json:"available"`
	// ExpiresAt, when set, is when the item stops being servable.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// RetiredAt, when set, is when the item was deleted: it is kept for
	// history (events, exposures, GET) and never recommended again.
	RetiredAt time.Time `json:"retired_at,omitzero"`
	// Rev orders catalogue changes: every write gives the item the next
	// revision, and followers ask for the changes after the one they have.
	Rev int64 `json:"-"`
}

// Interaction is one thing a user did to an item.
type Interaction struct {
	ItemID int64
	Type   string
	Value  float64
	TS     int64 // seconds since the Unix epoch
}

// Event is an interaction reported by a client, with the user it belongs to.
type Event struct {
	UserID string  `json:"user_id"`
	ItemID int64   `json:"item_id"`
	Type   string  `json:"type"`
	Value  float64 `json:"value"`
	TS     int64   `json:"ts"`
	// RequestID is the request_id of the recommendation reply the event
	// answers; feedback is attributed to that reply's exposure of the item.
	RequestID string `json:"request_id,omitempty"`
	// EventID, when the client sets it, names the event: an event whose
	// EventID the user already has on record is not stored again, so a
	// retried event counts once.
	EventID string `json:"event_id,omitempty"`
}

// EventBatch is a batch of events sent as one: stored all or none, and at
// most once per IdempotencyKey (when set).
type EventBatch struct {
	Events         []Event
	IdempotencyKey string
}

var idempotencyKeyRE = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// ValidateIdempotencyKey accepts "" (none) or 1 to 128 of A-Z a-z 0-9 . _ : -.
func ValidateIdempotencyKey(k string) error { return validateKey("Idempotency-Key", k) }

// validateKey checks a client-chosen key (an Idempotency-Key, an event_id).
func validateKey(what, k string) error {
	if k != "" && !idempotencyKeyRE.MatchString(k) {
		return apierr.Invalid("%s must be 1 to 128 of A-Z, a-z, 0-9, '.', '_', ':', '-'", what)
	}
	return nil
}

// eventWeights are the interaction types recmesh accepts, with the weight
// each one gives to a user's interest when the event carries no value.
var eventWeights = map[string]float64{
	"impression": 0.1,
	"click":      1,
	"like":       2,
	"purchase":   3,
	"rating":     1, // a rating's weight comes from its value
	"completion": 2,
}

// MaxUserIDLen bounds user ids so a caller cannot grow keys without limit.
const MaxUserIDLen = 128

// MaxRequestIDLen bounds the request_id an event may carry.
const MaxRequestIDLen = 64

// ValidateUserID refuses empty, oversized or control-character user ids.
func ValidateUserID(id string) error {
	if id == "" {
		return apierr.Invalid("user_id is required")
	}
	if len(id) > MaxUserIDLen {
		return apierr.Invalid("user_id is longer than %d bytes", MaxUserIDLen)
	}
	for _, r := range id {
		if r < 0x20 || r == 0x7f {
			return apierr.Invalid("user_id contains a control character")
		}
	}
	return nil
}

// Validate checks an event and fills its defaults (value 1, ts now).
func (e *Event) Validate(now time.Time) error {
	if err := ValidateUserID(e.UserID); err != nil {
		return err
	}
	if e.ItemID <= 0 {
		return apierr.Invalid("item_id must be a positive integer")
	}
	if len(e.RequestID) > MaxRequestIDLen {
		return apierr.Invalid("request_id is longer than %d bytes", MaxRequestIDLen)
	}
	if err := validateKey("event_id", e.EventID); err != nil {
		return err
	}
	if _, ok := eventWeights[e.Type]; !ok {
		return apierr.Invalid("type %q is not one of impression, click, like, purchase, rating, completion", e.Type)
	}
	if math.IsNaN(e.Value) || math.IsInf(e.Value, 0) {
		return apierr.Invalid("value must be a finite number")
	}
	if e.Type == "rating" && (e.Value < 0.5 || e.Value > 5) {
		return apierr.Invalid("a rating's value must be between 0.5 and 5")
	}
	if e.Value < 0 {
		return apierr.Invalid("value must not be negative")
	}
	if e.Value == 0 {
		e.Value = 1
	}
	if e.TS == 0 {
		e.TS = now.Unix()
	}
	if e.TS < 0 || e.TS > now.Add(24*time.Hour).Unix() {
		return apierr.Invalid("ts must be seconds since the Unix epoch and not in the future")
	}
	return nil
}

// Weight is how much an interaction says about the user's interest.
func (i Interaction) Weight() float64 {
	if i.Type == "rating" {
		return i.Value / 5
	}
	return eventWeights[i.Type] * i.Value
}

// UserFeatures is what the features service knows about a user.
type UserFeatures struct {
	UserID string
	// Recent holds the newest interactions first.
	Recent []Interaction
	// GenreAffinity is the user's share of interest per genre, summing to 1.
	GenreAffinity map[string]float64
	// Seen holds every item the user has interacted with.
	Seen []int64
	// Count is the number of interactions on record.
	Count int64
	// Exposures are the user's newest exposures, newest first, for
	// frequency caps.
	Exposures []Exposure
	// Profile holds the user's profile attributes (PUT /v1/users/{id}).
	Profile map[string]string
}

// The recall channels. Their names are used in quotas and replies.
const (
	ChannelItemCF    = "item_cf"
	ChannelEmbedding = "embedding"
	ChannelGenre     = "genre"
	ChannelPopular   = "popular"
	// ChannelFresh recalls new items of the live catalogue, by age.
	ChannelFresh = "fresh"
	// ChannelCategory recalls the categories a request asks for.
	ChannelCategory = "category"
)

// The signals recall attaches to every candidate (Candidate.Signals),
// whichever channel produced it: what ranking compares candidates of
// different channels by.
const (
	// SignalCF is the item-CF score over the user's newest interactions.
	SignalCF = "cf"
	// SignalCFMax is the largest single item-CF similarity to one of them.
	SignalCFMax = "cf_max"
	// SignalCFLinks counts those of them the item is a neighbour of.
	SignalCFLinks = "cf_links"
	// SignalEmbedding is the inner product of the item's vector with the user's.
	SignalEmbedding = "emb"
	// SignalGenreRecency is 0.9^k, where k is how many interactions ago
	// the user last touched one of the item's genres (0 if never among
	// their newest).
	SignalGenreRecency = "genre_recency"
	// SignalCFRank and SignalEmbeddingRank are the candidate's place
	// among the request's candidates by SignalCF and by SignalEmbedding,
	// as 1/log2(2+place) (1 for the first; 0 without a CF score or a user
	// vector): a scale every user shares, where the scores' own grow with
	// the user's history.
	SignalCFRank        = "cf_rank"
	SignalEmbeddingRank = "emb_rank"
)

// Source is a recall channel that produced a candidate, with its score there.
type Source struct {
	Channel string
	Score   float64
}

// Candidate is an item on its way through recall, filter and ranking:
// only what serving needs of it (a catalogue Item carries much more), as
// up to 500 of them are copied at every hop.
type Candidate struct {
	ID         int64
	Title      string
	Categories []string
	Year       int
	// Popularity is the item's time-decayed popularity.
	Popularity float64
	// Sources are the channels that produced the item, each once.
	Sources []Source
	// Signals are what recall knows of the item for this user whether or
	// not a channel produced it (its item-CF score, its inner product with
	// the user's vector, ...), by name: the ranking model's inputs.
	Signals Signals
	// Score is the ranking score; zero before ranking.
	Score float64
}

// CandidateOf is it as a candidate with no sources yet.
func CandidateOf(it *Item, popularity float64) Candidate {
	return Candidate{ID: it.ID, Title: it.Title, Categories: it.Categories, Year: it.Year, Popularity: popularity}
}

// HasCategory reports whether the candidate is in any of cats (empty: true).
func (c *Candidate) HasCategory(cats []string) bool { return hasAny(c.Categories, cats) }

// SourceScore is the candidate's score in channel, or 0 if the channel did
// not produce it. A candidate has at most a handful of sources, so a slice
// scan beats a map.
func (c *Candidate) SourceScore(channel string) float64 {
	for _, s := range c.Sources {
		if s.Channel == channel {
			return s.Score
		}
	}
	return 0
}

// Signals are named numbers. A batch's candidates share one Names slice
// (recall sets the same signals on all of them), and their Values are
// views of one array: a batch of 500 costs one allocation, not 500.
type Signals struct {
	Names  []string
	Values []float32
}

// Signal is the candidate's signal name, or 0 if recall set none.
func (c *Candidate) Signal(name string) float64 {
	for k, n := range c.Signals.Names {
		if n == name {
			return float64(c.Signals.Values[k])
		}
	}
	return 0
}

// HasSource reports whether channel produced the candidate.
func (c *Candidate) HasSource(channel string) bool {
	for _, s := range c.Sources {
		if s.Channel == channel {
			return true
		}
	}
	return false
}

// SetSource records channel's score for the candidate.
func (c *Candidate) SetSource(channel string, score float64) {
	for i := range c.Sources {
		if c.Sources[i].Channel == channel {
			c.Sources[i].Score = score
			return
		}
	}
	c.Sources = append(c.Sources, Source{channel, score})
}

// SelectByID returns the candidates of from with the given ids, in ids'
// order. It lets a client rebuild a reply that carries only ids from the
// candidates it sent; an id it did not send is an error.
func SelectByID(from []Candidate, ids []int64) ([]Candidate, error) {
	pos := make(map[int64]int, len(from))
	for i := len(from) - 1; i >= 0; i-- {
		pos[from[i].ID] = i // the first occurrence wins
	}
	out := make([]Candidate, len(ids))
	for i, id := range ids {
		p, ok := pos[id]
		if !ok {
			return nil, fmt.Errorf("item %d was not among the %d candidates sent", id, len(from))
		}
		out[i] = from[p]
	}
	return out, nil
}

// Names keeps one string per distinct name (a category, a channel), so
// that the many items naming it share its bytes: the index holds each
// name once, and a batch's vocabulary (CandidatesToPB) matches names by
// their address before it reads them.
type Names map[string]string

// Share returns names with each replaced by the one string kept for it
// (a new slice; names itself is left alone).
func (n Names) Share(names []string) []string {
	if len(names) == 0 {
		return names
	}
	out := make([]string, len(names))
	for k, s := range names {
		kept, ok := n[s]
		if !ok {
			n[s], kept = s, s
		}
		out[k] = kept
	}
	return out
}
