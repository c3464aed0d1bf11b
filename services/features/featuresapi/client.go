package featuresapi

import (
	"context"

	"github.com/go-kit/kit/endpoint"

	"github.com/recmesh/recmesh/pkg/balancer"
	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/pkg/kitgrpc"
	pb "github.com/recmesh/recmesh/proto/recmesh/v1"
)

// Client is a Service that calls a remote features service, so callers get a
// plain Service with discovery and balancing inside.
type Client struct {
	getUserFeatures, ingestEvents, getItem endpoint.Endpoint
}

var _ Service = (*Client)(nil)

// NewClient returns a client that picks instances with p; mw wraps each method.
func NewClient(p *balancer.Picker, mw kitgrpc.MiddlewareFor) *Client {
	const svc = "recmesh.v1.FeaturesService"
	return &Client{
		getUserFeatures: kitgrpc.ClientEndpoint[pb.GetUserFeaturesRequest, pb.GetUserFeaturesResponse](p, Name, svc, "GetUserFeatures", mw),
		ingestEvents:    kitgrpc.ClientEndpoint[pb.IngestEventsRequest, pb.IngestEventsResponse](p, Name, svc, "IngestEvents", mw),
		getItem:         kitgrpc.ClientEndpoint[pb.GetItemRequest, pb.GetItemResponse](p, Name, svc, "GetItem", mw),
	}
}

// GetUserFeatures implements Service.
func (c *Client) GetUserFeatures(ctx context.Context, userID string, recentLimit int) (domain.UserFeatures, error) {
	r, err := kitgrpc.Call[pb.GetUserFeaturesResponse](ctx, c.getUserFeatures, GetUserFeaturesRequestToPB(GetUserFeaturesRequest{userID, recentLimit}))
	if err != nil {
		return domain.UserFeatures{}, err
	}
	return UserFeaturesFromPB(r), nil
}

// IngestEvents implements Service.
func (c *Client) IngestEvents(ctx context.Context, events []domain.Event) (int, error) {
	r, err := kitgrpc.Call[pb.IngestEventsResponse](ctx, c.ingestEvents, EventsToPB(events))
	if err != nil {
		return 0, err
	}
	return AcceptedFromPB(r), nil
}

// GetItem implements Service.
func (c *Client) GetItem(ctx context.Context, id int64) (domain.Item, error) {
	r, err := kitgrpc.Call[pb.GetItemResponse](ctx, c.getItem, ItemIDToPB(id))
	if err != nil {
		return domain.Item{}, err
	}
	return ItemFromPB(r), nil
}
