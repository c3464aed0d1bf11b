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
	PutItems        endpoint.Endpoint
	PatchItem       endpoint.Endpoint
	RetireItem      endpoint.Endpoint
	ItemChanges     endpoint.Endpoint
	PutUserProfile  endpoint.Endpoint
	ForgetUser      endpoint.Endpoint
}

// MakeEndpoints wires the endpoints to s.
func MakeEndpoints(s interface {
	featuresapi.Service
	featuresapi.Exposures
	featuresapi.Catalog
	featuresapi.Users
}) Endpoints {
	return Endpoints{
		GetUserFeatures: kitendpoint.Make(func(ctx context.Context, r featuresapi.GetUserFeaturesRequest) (domain.UserFeatures, error) {
			return s.GetUserFeatures(ctx, r.UserID, r.RecentLimit)
		}),
		IngestEvents:  kitendpoint.Make(s.IngestEvents),
		GetItem:       kitendpoint.Make(s.GetItem),
		LogExposures:  kitendpoint.Make(s.LogExposures),
		ExposureStats: kitendpoint.Make(s.ExposureStats),
		PutItems:      kitendpoint.Make(s.PutItems),
		PatchItem: kitendpoint.Make(func(ctx context.Context, r featuresapi.PatchRequest) (domain.Item, error) {
			return s.PatchItem(ctx, r.ID, r.Patch)
		}),
		RetireItem: kitendpoint.Make(s.RetireItem),
		ItemChanges: kitendpoint.Make(func(ctx context.Context, r featuresapi.ItemChangesRequest) (featuresapi.ItemChanges, error) {
			return s.ItemChanges(ctx, r.Since, r.Limit)
		}),
		PutUserProfile: kitendpoint.Make(func(ctx context.Context, r featuresapi.ProfileRequest) (struct{}, error) {
			return struct{}{}, s.PutUserProfile(ctx, r.UserID, r.Profile)
		}),
		ForgetUser: kitendpoint.Make(s.ForgetUser),
	}
}
