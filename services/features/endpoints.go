package features

import (
	"context"

	"github.com/go-kit/kit/endpoint"

	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/pkg/kitendpoint"
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

// MakeEndpoints wires the endpoints to s.
func MakeEndpoints(s Service) Endpoints {
	return Endpoints{
		GetUserFeatures: kitendpoint.Make(func(ctx context.Context, r GetUserFeaturesRequest) (domain.UserFeatures, error) {
			return s.GetUserFeatures(ctx, r.UserID, r.RecentLimit)
		}),
		IngestEvents: kitendpoint.Make(s.IngestEvents),
		GetItem:      kitendpoint.Make(s.GetItem),
	}
}
