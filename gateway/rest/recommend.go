package rest

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/recmesh/recmesh/gateway"
	"github.com/recmesh/recmesh/pkg/apierr"
	"github.com/recmesh/recmesh/pkg/domain"
)

// intParam reads an optional integer query parameter.
func intParam(q url.Values, name string, def int) (int, error) {
	s := q.Get(name)
	if s == "" {
		return def, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, apierr.Invalid("%s must be an integer", name)
	}
	return v, nil
}

// listParam reads a list given as repeated parameters, comma-separated
// values, or both (category=a&category=b, category=a,b).
func listParam(q url.Values, name string) []string {
	var out []string
	for _, v := range q[name] {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

func idsParam(q url.Values, name string) ([]int64, error) {
	list := listParam(q, name)
	if len(list) > gateway.MaxExclude {
		return nil, apierr.Invalid("%s holds at most %d item ids", name, gateway.MaxExclude)
	}
	out := make([]int64, len(list))
	for i, s := range list {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id <= 0 {
			return nil, apierr.Invalid("%s must be positive item ids, comma-separated", name)
		}
		out[i] = id
	}
	return out, nil
}

func (a *API) handleRecommend(_ http.ResponseWriter, r *http.Request) (any, error) {
	q := r.URL.Query()
	n, err := intParam(q, "n", 10)
	if err != nil {
		return nil, apierr.Invalid("n must be an integer between 1 and %d", gateway.MaxN)
	}
	exclude, err := idsParam(q, "exclude")
	if err != nil {
		return nil, err
	}
	ctx := requestContext(r)
	rep, err := a.g.Recommend(ctx, gateway.Query{UserID: q.Get("user_id"), N: n, Categories: listParam(q, "category"),
		Exclude: exclude, Scene: q.Get("scene"), Cursor: q.Get("cursor")})
	if err != nil {
		return nil, err
	}
	return &rep, nil
}

// requestContext is r's context, marked as a preview when r asks for one
// (PreviewHeader): its reply is not logged as an exposure.
func requestContext(r *http.Request) context.Context {
	if r.Header.Get(PreviewHeader) == "1" {
		return gateway.Preview(r.Context())
	}
	return r.Context()
}

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, apierr.Invalid("item id must be a positive integer")
	}
	return id, nil
}

func (a *API) handleSimilar(_ http.ResponseWriter, r *http.Request) (any, error) {
	id, err := pathID(r)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	n, err := intParam(q, "n", 10)
	if err != nil {
		return nil, apierr.Invalid("n must be an integer between 1 and %d", gateway.MaxN)
	}
	ctx := requestContext(r)
	rep, err := a.g.Similar(ctx, gateway.SimilarQuery{ItemID: id, N: n, UserID: q.Get("user_id"), Scene: q.Get("scene")})
	if err != nil {
		return nil, err
	}
	return &rep, nil
}

// EventsRequest is the body of POST /v1/events.
type EventsRequest struct {
	Events []domain.Event `json:"events"`
}

// EventsReply is the answer to POST /v1/events.
type EventsReply struct {
	Accepted int `json:"accepted"`
}

// IdempotencyHeader names an event batch: a retried batch with the same key
// (within 24 hours) is stored once and answered as the first time.
const IdempotencyHeader = "Idempotency-Key"

func (a *API) handleEvents(w http.ResponseWriter, r *http.Request) (any, error) {
	body, err := apierr.ReadBody(w, r, int64(a.cfg.MaxBodyBytes))
	if err != nil {
		return nil, err
	}
	req, err := decodeEvents(body)
	if err != nil {
		return nil, err
	}
	key := r.Header.Get(IdempotencyHeader)
	if err := domain.ValidateIdempotencyKey(key); err != nil {
		return nil, err
	}
	// Business errors are 4xx; anything else becomes 503 with Retry-After,
	// so the client retries: nothing is dropped silently.
	n, err := a.g.IngestEvents(r.Context(), domain.EventBatch{Events: req.Events, IdempotencyKey: key})
	if err != nil {
		return nil, err
	}
	return EventsReply{Accepted: n}, nil
}

// decodeEvents parses a POST /v1/events body strictly: one JSON object,
// no unknown fields. Validation of each event is the features service's.
func decodeEvents(body []byte) (EventsRequest, error) {
	var req EventsRequest
	if err := apierr.DecodeStrict(body, &req, "events batch"); err != nil {
		return EventsRequest{}, err
	}
	return req, nil
}
