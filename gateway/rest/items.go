package rest

import (
	"net/http"
	"time"

	"github.com/recmesh/recmesh/pkg/apierr"
	"github.com/recmesh/recmesh/pkg/domain"
)

// ItemInput is a catalogue item as PUT /v1/items/{id} and POST /v1/items
// take it: available defaults to true, created_at to the first put.
type ItemInput struct {
	ItemID     int64      `json:"item_id"`
	Title      string     `json:"title"`
	Categories []string   `json:"categories"`
	Tags       []string   `json:"tags"`
	Year       int        `json:"year"`
	CreatedAt  time.Time  `json:"created_at"`
	Available  *bool      `json:"available"`
	ExpiresAt  *time.Time `json:"expires_at"`
}

func (in *ItemInput) item() domain.Item {
	it := domain.Item{ID: in.ItemID, Title: in.Title, Categories: in.Categories, Tags: in.Tags, Year: in.Year,
		CreatedAt: in.CreatedAt.UTC(), Available: in.Available == nil || *in.Available}
	if in.ExpiresAt != nil {
		it.ExpiresAt = in.ExpiresAt.UTC()
	}
	return it
}

// ItemsRequest is the body of POST /v1/items, and ItemsReply its answer.
type ItemsRequest struct {
	Items []ItemInput `json:"items"`
}

// ItemsReply lists stored items.
type ItemsReply struct {
	Items []domain.Item `json:"items"`
}

// replied is an item as replies carry it: lists are [] rather than null.
func replied(it domain.Item) domain.Item {
	if it.Categories == nil {
		it.Categories = []string{}
	}
	if it.Tags == nil {
		it.Tags = []string{}
	}
	return it
}

// itemOut is the reply of a call that returns one item.
func itemOut(it domain.Item, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return replied(it), nil
}

func (a *API) handleItem(_ http.ResponseWriter, r *http.Request) (any, error) {
	id, err := pathID(r)
	if err != nil {
		return nil, err
	}
	return itemOut(a.g.GetItem(r.Context(), id))
}

func (a *API) handlePutItem(w http.ResponseWriter, r *http.Request) (any, error) {
	id, err := pathID(r)
	if err != nil {
		return nil, err
	}
	var in ItemInput
	if err := a.decode(w, r, &in, "item"); err != nil {
		return nil, err
	}
	if in.ItemID != 0 && in.ItemID != id {
		return nil, apierr.Invalid("the body's item_id %d is not the path's %d", in.ItemID, id)
	}
	in.ItemID = id
	items, err := a.g.PutItems(r.Context(), []domain.Item{in.item()})
	if err != nil {
		return nil, err
	}
	return replied(items[0]), nil
}

func (a *API) handlePostItems(w http.ResponseWriter, r *http.Request) (any, error) {
	var req ItemsRequest
	if err := a.decode(w, r, &req, "items batch"); err != nil {
		return nil, err
	}
	items := make([]domain.Item, len(req.Items))
	for i := range req.Items {
		items[i] = req.Items[i].item()
	}
	stored, err := a.g.PutItems(r.Context(), items)
	if err != nil {
		return nil, err
	}
	for i := range stored {
		stored[i] = replied(stored[i])
	}
	return ItemsReply{Items: stored}, nil
}

func (a *API) handlePatchItem(w http.ResponseWriter, r *http.Request) (any, error) {
	id, err := pathID(r)
	if err != nil {
		return nil, err
	}
	var p domain.ItemPatch
	if err := a.decode(w, r, &p, "item patch"); err != nil {
		return nil, err
	}
	return itemOut(a.g.PatchItem(r.Context(), id, p))
}

func (a *API) handleDeleteItem(_ http.ResponseWriter, r *http.Request) (any, error) {
	id, err := pathID(r)
	if err != nil {
		return nil, err
	}
	return itemOut(a.g.RetireItem(r.Context(), id))
}

// decode reads a bounded body into v strictly (one JSON value, no unknown fields).
func (a *API) decode(w http.ResponseWriter, r *http.Request, v any, what string) error {
	body, err := apierr.ReadBody(w, r, int64(a.cfg.MaxBodyBytes))
	if err != nil {
		return err
	}
	return apierr.DecodeStrict(body, v, what)
}
