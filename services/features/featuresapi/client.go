package featuresapi

import (
	"context"

	"github.com/recmesh/recmesh/pkg/balancer"
	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/pkg/kitgrpc"
	pb "github.com/recmesh/recmesh/proto/recmesh/v1"
)

// Client is a Service that calls a remote features service, picking
// instances with a balancer.Picker.
type Client struct {
	getUserFeatures kitgrpc.Method[GetUserFeaturesRequest, domain.UserFeatures, pb.GetUserFeaturesRequest, pb.GetUserFeaturesResponse]
	ingestEvents    kitgrpc.Method[[]domain.Event, int, pb.IngestEventsRequest, pb.IngestEventsResponse]
	getItem         kitgrpc.Method[int64, domain.Item, pb.GetItemRequest, pb.GetItemResponse]
	logExposures    kitgrpc.Method[[]domain.ShownReply, int, pb.LogExposuresRequest, pb.LogExposuresResponse]
	exposureStats   kitgrpc.Method[domain.ExposureQuery, []domain.ArmStats, pb.ExposureStatsRequest, pb.ExposureStatsResponse]
}

var (
	_ Service   = (*Client)(nil)
	_ Exposures = (*Client)(nil)
)

// NewClient returns a client that picks instances with p.
func NewClient(p *balancer.Picker) *Client {
	const svc = "recmesh.v1.FeaturesService"
	return &Client{
		getUserFeatures: kitgrpc.NewMethod(p, Name, svc, "GetUserFeatures", GetUserFeaturesRequestToPB,
			func(r *pb.GetUserFeaturesResponse, _ GetUserFeaturesRequest) (domain.UserFeatures, error) {
				return UserFeaturesFromPB(r), nil
			}),
		ingestEvents: kitgrpc.NewMethod(p, Name, svc, "IngestEvents", EventsToPB,
			func(r *pb.IngestEventsResponse, _ []domain.Event) (int, error) { return AcceptedFromPB(r), nil }),
		getItem: kitgrpc.NewMethod(p, Name, svc, "GetItem", ItemIDToPB,
			func(r *pb.GetItemResponse, _ int64) (domain.Item, error) { return ItemFromPB(r), nil }),
		logExposures: kitgrpc.NewMethod(p, Name, svc, "LogExposures", ShownRepliesToPB,
			func(r *pb.LogExposuresResponse, _ []domain.ShownReply) (int, error) { return RowsFromPB(r), nil }),
		exposureStats: kitgrpc.NewMethod(p, Name, svc, "ExposureStats", ExposureQueryToPB,
			func(r *pb.ExposureStatsResponse, _ domain.ExposureQuery) ([]domain.ArmStats, error) {
				return ArmStatsFromPB(r), nil
			}),
	}
}

// GetUserFeatures implements Service.
func (c *Client) GetUserFeatures(ctx context.Context, userID string, recentLimit int) (domain.UserFeatures, error) {
	return c.getUserFeatures.Call(ctx, GetUserFeaturesRequest{UserID: userID, RecentLimit: recentLimit})
}

// IngestEvents implements Service.
func (c *Client) IngestEvents(ctx context.Context, events []domain.Event) (int, error) {
	return c.ingestEvents.Call(ctx, events)
}

// GetItem implements Service.
func (c *Client) GetItem(ctx context.Context, id int64) (domain.Item, error) {
	return c.getItem.Call(ctx, id)
}

// LogExposures implements Exposures.
func (c *Client) LogExposures(ctx context.Context, replies []domain.ShownReply) (int, error) {
	return c.logExposures.Call(ctx, replies)
}

// ExposureStats implements Exposures.
func (c *Client) ExposureStats(ctx context.Context, q domain.ExposureQuery) ([]domain.ArmStats, error) {
	return c.exposureStats.Call(ctx, q)
}
