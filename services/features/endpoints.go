package features

import (
	"context"

	"github.com/go-kit/kit/endpoint"

	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/pkg/kitendpoint"
	"github.com/recmesh/recmesh/services/features/featuresapi"
)

// Endpoints are the features service's go-kit endpoints.
type Endpoints struct {
	GetUserFeatures endpoint.Endpoint
	IngestEvents    endpoint.Endpoint
	GetItem         endpoint.Endpoint
	LogExposures    endpoint.Endpoint
	ExposureStats   endpoint.Endpoint
}

// MakeEndpoints wires the endpoints to s.
func MakeEndpoints(s interface {
	featuresapi.Service
	featuresapi.Exposures
}) Endpoints {
	return Endpoints{
		GetUserFeatures: kitendpoint.Make(func(ctx context.Context, r featuresapi.GetUserFeaturesRequest) (domain.UserFeatures, error) {
			return s.GetUserFeatures(ctx, r.UserID, r.RecentLimit)
		}),
		IngestEvents:  kitendpoint.Make(s.IngestEvents),
		GetItem:       kitendpoint.Make(s.GetItem),
		LogExposures:  kitendpoint.Make(s.LogExposures),
		ExposureStats: kitendpoint.Make(s.ExposureStats),
	}
}
