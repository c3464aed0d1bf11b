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
	ingestEvents    kitgrpc.Method[domain.EventBatch, int, pb.IngestEventsRequest, pb.IngestEventsResponse]
	getItem         kitgrpc.Method[int64, domain.Item, pb.GetItemRequest, pb.GetItemResponse]
	logExposures    kitgrpc.Method[[]domain.ShownReply, int, pb.LogExposuresRequest, pb.LogExposuresResponse]
	exposureStats   kitgrpc.Method[domain.ExposureQuery, []domain.ArmStats, pb.ExposureStatsRequest, pb.ExposureStatsResponse]
	putItems        kitgrpc.Method[[]domain.Item, []domain.Item, pb.PutItemsRequest, pb.PutItemsResponse]
	patchItem       kitgrpc.Method[PatchRequest, domain.Item, pb.PatchItemRequest, pb.GetItemResponse]
	retireItem      kitgrpc.Method[int64, domain.Item, pb.GetItemRequest, pb.GetItemResponse]
	itemChanges     kitgrpc.Method[ItemChangesRequest, ItemChanges, pb.ItemChangesRequest, pb.ItemChangesResponse]
	putProfile      kitgrpc.Method[ProfileRequest, struct{}, pb.PutUserProfileRequest, pb.PutUserProfileResponse]
	forgetUser      kitgrpc.Method[string, Forgotten, pb.ForgetUserRequest, pb.ForgetUserResponse]
}

var (
	_ Service   = (*Client)(nil)
	_ Exposures = (*Client)(nil)
	_ Catalog   = (*Client)(nil)
	_ Users     = (*Client)(nil)
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
			func(r *pb.IngestEventsResponse, _ domain.EventBatch) (int, error) { return AcceptedFromPB(r), nil }),
		getItem: kitgrpc.NewMethod(p, Name, svc, "GetItem", ItemIDToPB,
			func(r *pb.GetItemResponse, _ int64) (domain.Item, error) { return ItemFromPB(r), nil }),
		logExposures: kitgrpc.NewMethod(p, Name, svc, "LogExposures", ShownRepliesToPB,
			func(r *pb.LogExposuresResponse, _ []domain.ShownReply) (int, error) { return RowsFromPB(r), nil }),
		exposureStats: kitgrpc.NewMethod(p, Name, svc, "ExposureStats", ExposureQueryToPB,
			func(r *pb.ExposureStatsResponse, _ domain.ExposureQuery) ([]domain.ArmStats, error) {
				return ArmStatsFromPB(r), nil
			}),
		putItems: kitgrpc.NewMethod(p, Name, svc, "PutItems", ItemsToPB,
			func(r *pb.PutItemsResponse, _ []domain.Item) ([]domain.Item, error) {
				return PutItemsReplyFromPB(r), nil
			}),
		patchItem: kitgrpc.NewMethod(p, Name, svc, "PatchItem", PatchToPB,
			func(r *pb.GetItemResponse, _ PatchRequest) (domain.Item, error) { return ItemFromPB(r), nil }),
		retireItem: kitgrpc.NewMethod(p, Name, svc, "RetireItem", ItemIDToPB,
			func(r *pb.GetItemResponse, _ int64) (domain.Item, error) { return ItemFromPB(r), nil }),
		itemChanges: kitgrpc.NewMethod(p, Name, svc, "ItemChanges", ItemChangesRequestToPB,
			func(r *pb.ItemChangesResponse, _ ItemChangesRequest) (ItemChanges, error) {
				return ItemChangesFromPB(r), nil
			}),
		putProfile: kitgrpc.NewMethod(p, Name, svc, "PutUserProfile", ProfileToPB,
			func(*pb.PutUserProfileResponse, ProfileRequest) (struct{}, error) { return struct{}{}, nil }),
		forgetUser: kitgrpc.NewMethod(p, Name, svc, "ForgetUser", UserIDToPB,
			func(r *pb.ForgetUserResponse, _ string) (Forgotten, error) { return ForgottenFromPB(r), nil }),
	}
}

// PutItems implements Catalog.
func (c *Client) PutItems(ctx context.Context, items []domain.Item) ([]domain.Item, error) {
	return c.putItems.Call(ctx, items)
}

// PatchItem implements Catalog.
func (c *Client) PatchItem(ctx context.Context, id int64, p domain.ItemPatch) (domain.Item, error) {
	return c.patchItem.Call(ctx, PatchRequest{ID: id, Patch: p})
}

// RetireItem implements Catalog.
func (c *Client) RetireItem(ctx context.Context, id int64) (domain.Item, error) {
	return c.retireItem.Call(ctx, id)
}

// ItemChanges implements Catalog.
func (c *Client) ItemChanges(ctx context.Context, since int64, limit int) (ItemChanges, error) {
	return c.itemChanges.Call(ctx, ItemChangesRequest{Since: since, Limit: limit})
}

// PutUserProfile implements Users.
func (c *Client) PutUserProfile(ctx context.Context, userID string, profile map[string]string) error {
	_, err := c.putProfile.Call(ctx, ProfileRequest{UserID: userID, Profile: profile})
	return err
}

// ForgetUser implements Users.
func (c *Client) ForgetUser(ctx context.Context, userID string) (Forgotten, error) {
	return c.forgetUser.Call(ctx, userID)
}

// GetUserFeatures implements Service.
func (c *Client) GetUserFeatures(ctx context.Context, userID string, recentLimit int) (domain.UserFeatures, error) {
	return c.getUserFeatures.Call(ctx, GetUserFeaturesRequest{UserID: userID, RecentLimit: recentLimit})
}

// IngestEvents implements Service.
func (c *Client) IngestEvents(ctx context.Context, b domain.EventBatch) (int, error) {
	return c.ingestEvents.Call(ctx, b)
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
