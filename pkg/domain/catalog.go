package domain

import (
	"encoding/json"
	"regexp"
	"time"
	"unicode/utf8"

	"github.com/recmesh/recmesh/pkg/apierr"
)

// Catalogue limits: what one item may hold.
const (
	MaxTitleLen      = 512
	MaxItemLabels    = 32 // categories, and tags
	MaxItemLabelLen  = 64
	MaxItemBatch     = 1000
	MaxProfileLabels = 32
	MaxProfileKeyLen = 64
	MaxProfileValLen = 256
)

// Why an item is not servable; "" means it is.
const (
	StatusUnavailable = "unavailable"
	StatusRetired     = "retired"
	StatusExpired     = "expired"
)

// Status is "" when the item may be recommended at now, else why not:
// retired (deleted), unavailable, or expired.
func (it *Item) Status(now time.Time) string {
	return StatusAt(it.LastingStatus(), MillisOf(it.ExpiresAt), now.UnixMilli())
}

// LastingStatus is why the item may not be recommended whatever the time
// (retired, then unavailable), or "".
func (it *Item) LastingStatus() string {
	switch {
	case !it.RetiredAt.IsZero():
		return StatusRetired
	case !it.Available:
		return StatusUnavailable
	}
	return ""
}

// StatusAt is the one servability rule: an item's lasting status, else
// expired once nowMs reaches expiresMs (0: no expiry). The catalogue view
// keeps the two inputs per item and applies it without the item.
func StatusAt(lasting string, expiresMs, nowMs int64) string {
	if lasting != "" {
		return lasting
	}
	if expiresMs != 0 && nowMs >= expiresMs {
		return StatusExpired
	}
	return ""
}

// Servable reports whether the item may be recommended at now.
func (it *Item) Servable(now time.Time) bool { return it.Status(now) == "" }

// Validate checks an item written through the catalogue API.
func (it *Item) Validate() error {
	if it.ID <= 0 {
		return apierr.Invalid("item_id must be a positive integer")
	}
	if it.Title == "" || len(it.Title) > MaxTitleLen || !utf8.ValidString(it.Title) {
		return apierr.Invalid("title is required, valid UTF-8 and at most %d bytes", MaxTitleLen)
	}
	if err := validateLabels("categories", it.Categories); err != nil {
		return err
	}
	if err := validateLabels("tags", it.Tags); err != nil {
		return err
	}
	if it.Year < 0 || it.Year > 9999 {
		return apierr.Invalid("year must be between 0 and 9999")
	}
	return nil
}

func validateLabels(field string, labels []string) error {
	if len(labels) > MaxItemLabels {
		return apierr.Invalid("%s holds at most %d labels", field, MaxItemLabels)
	}
	for _, l := range labels {
		if err := ValidateLabel(field, l); err != nil {
			return err
		}
	}
	return nil
}

// ValidateLabel refuses an empty, oversized or control-character category
// or tag.
func ValidateLabel(field, l string) error {
	if l == "" || len(l) > MaxItemLabelLen || !utf8.ValidString(l) {
		return apierr.Invalid("every one of %s must be 1 to %d bytes of UTF-8", field, MaxItemLabelLen)
	}
	for _, r := range l {
		if r < 0x20 || r == 0x7f || r == ',' {
			return apierr.Invalid("%s may not hold a comma or a control character", field)
		}
	}
	return nil
}

// HasCategory reports whether the item is in any of cats (empty: true).
func (it *Item) HasCategory(cats []string) bool { return hasAny(it.Categories, cats) }

// hasAny reports whether have holds any of want (empty want: true).
func hasAny(have, want []string) bool {
	if len(want) == 0 {
		return true
	}
	for _, c := range have {
		for _, w := range want {
			if c == w {
				return true
			}
		}
	}
	return false
}

// Optional is a field of a PATCH body: Set when the body names it, with
// Value its new value (the zero value for JSON null, which clears it).
type Optional[T any] struct {
	Set   bool
	Value T
}

// UnmarshalJSON implements json.Unmarshaler.
func (o *Optional[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		var zero T
		o.Value = zero
		return nil
	}
	return json.Unmarshal(b, &o.Value)
}

// ItemPatch is a PATCH /v1/items/{id} body: the fields it names change, the
// others stay (JSON merge-patch semantics; null clears expires_at).
type ItemPatch struct {
	Title      Optional[string]    `json:"title"`
	Categories Optional[[]string]  `json:"categories"`
	Tags       Optional[[]string]  `json:"tags"`
	Year       Optional[int]       `json:"year"`
	CreatedAt  Optional[time.Time] `json:"created_at"`
	Available  Optional[bool]      `json:"available"`
	ExpiresAt  Optional[time.Time] `json:"expires_at"`
}

// Apply changes it by the patch.
func (p *ItemPatch) Apply(it *Item) {
	if p.Title.Set {
		it.Title = p.Title.Value
	}
	if p.Categories.Set {
		it.Categories = p.Categories.Value
	}
	if p.Tags.Set {
		it.Tags = p.Tags.Value
	}
	if p.Year.Set {
		it.Year = p.Year.Value
	}
	if p.CreatedAt.Set && !p.CreatedAt.Value.IsZero() {
		it.CreatedAt = p.CreatedAt.Value
	}
	if p.Available.Set {
		it.Available = p.Available.Value
	}
	if p.ExpiresAt.Set {
		it.ExpiresAt = p.ExpiresAt.Value
	}
}

var profileKeyRE = regexp.MustCompile(`^[a-z0-9_.-]{1,64}$`)

// ValidateProfile checks a user's profile attributes: at most
// MaxProfileLabels, keys of lowercase letters, digits, '_', '.', '-', and
// values of at most MaxProfileValLen bytes without control characters.
func ValidateProfile(p map[string]string) error {
	if len(p) > MaxProfileLabels {
		return apierr.Invalid("a profile holds at most %d attributes", MaxProfileLabels)
	}
	for k, v := range p {
		if !profileKeyRE.MatchString(k) {
			return apierr.Invalid("attribute name %q must be 1 to %d of a-z, 0-9, '_', '.', '-'", k, MaxProfileKeyLen)
		}
		if len(v) > MaxProfileValLen || !utf8.ValidString(v) {
			return apierr.Invalid("attribute %s must be at most %d bytes of UTF-8", k, MaxProfileValLen)
		}
		for _, r := range v {
			if r < 0x20 || r == 0x7f {
				return apierr.Invalid("attribute %s contains a control character", k)
			}
		}
	}
	return nil
}

// ProfileCategoriesKey is the profile attribute whose comma-separated
// values name categories the user likes: for a user with no history it
// seeds category affinity, which the genre channel and the ranker use
// (cold start).
const ProfileCategoriesKey = "categories"

// TimeFromMillis is the time of Unix ms (0: the zero time).
func TimeFromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// MillisOf is t in Unix ms (the zero time: 0).
func MillisOf(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}
