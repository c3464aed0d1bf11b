package features

import (
	"context"

	"github.com/go-kit/kit/endpoint"

	"github.com/recmesh/recmesh/pkg/apierr"

	"github.com/recmesh/recmesh/pkg/domain"
)

// Endpoints are the features service's go-kit endpoints.
type Endpoints struct {
	GetUserFeatures endpoint.Endpoint
	IngestEvents    endpoint.Endpoint
	GetItem         endpoint.Endpoint
}

// GetUserFeaturesRequest asks for one user's features.
type GetUserFeaturesRequest struct {
	UserID      string
	RecentLimit int
}

// GetUserFeaturesResponse carries the features or a business error.
type GetUserFeaturesResponse struct {
	Features domain.UserFeatures
	Err      error
}

// Failed implements endpoint.Failer.
func (r GetUserFeaturesResponse) Failed() error { return r.Err }

// IngestEventsRequest carries a batch of events.
type IngestEventsRequest struct{ Events []domain.Event }

// IngestEventsResponse says how many events were stored.
type IngestEventsResponse struct {
	Accepted int
	Err      error
}

// Failed implements endpoint.Failer.
func (r IngestEventsResponse) Failed() error { return r.Err }

// GetItemRequest asks for one item.
type GetItemRequest struct{ ID int64 }

// GetItemResponse carries the item or a business error.
type GetItemResponse struct {
	Item domain.Item
	Err  error
}

// Failed implements endpoint.Failer.
func (r GetItemResponse) Failed() error { return r.Err }

// MakeEndpoints wires the endpoints to s. Business errors travel in the
// response; only infrastructure errors are returned as errors.
func MakeEndpoints(s Service) Endpoints {
	return Endpoints{
		GetUserFeatures: func(ctx context.Context, req any) (any, error) {
			r := req.(GetUserFeaturesRequest)
			f, err := s.GetUserFeatures(ctx, r.UserID, r.RecentLimit)
			return GetUserFeaturesResponse{Features: f, Err: err}, apierr.Infra(err)
		},
		IngestEvents: func(ctx context.Context, req any) (any, error) {
			n, err := s.IngestEvents(ctx, req.(IngestEventsRequest).Events)
			return IngestEventsResponse{Accepted: n, Err: err}, apierr.Infra(err)
		},
		GetItem: func(ctx context.Context, req any) (any, error) {
			it, err := s.GetItem(ctx, req.(GetItemRequest).ID)
			return GetItemResponse{Item: it, Err: err}, apierr.Infra(err)
		},
	}
}
