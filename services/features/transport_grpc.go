package features

import (
	"context"

	"github.com/recmesh/recmesh/pkg/kitgrpc"
	pb "github.com/recmesh/recmesh/proto/recmesh/v1"
	"github.com/recmesh/recmesh/services/features/featuresapi"
)

type grpcServer struct {
	pb.UnimplementedFeaturesServiceServer
	getUserFeatures kitgrpc.Handler[pb.GetUserFeaturesRequest, pb.GetUserFeaturesResponse]
	ingestEvents    kitgrpc.Handler[pb.IngestEventsRequest, pb.IngestEventsResponse]
	getItem         kitgrpc.Handler[pb.GetItemRequest, pb.GetItemResponse]
	logExposures    kitgrpc.Handler[pb.LogExposuresRequest, pb.LogExposuresResponse]
	exposureStats   kitgrpc.Handler[pb.ExposureStatsRequest, pb.ExposureStatsResponse]
	putItems        kitgrpc.Handler[pb.PutItemsRequest, pb.PutItemsResponse]
	patchItem       kitgrpc.Handler[pb.PatchItemRequest, pb.GetItemResponse]
	retireItem      kitgrpc.Handler[pb.GetItemRequest, pb.GetItemResponse]
	itemChanges     kitgrpc.Handler[pb.ItemChangesRequest, pb.ItemChangesResponse]
	putUserProfile  kitgrpc.Handler[pb.PutUserProfileRequest, pb.PutUserProfileResponse]
	forgetUser      kitgrpc.Handler[pb.ForgetUserRequest, pb.ForgetUserResponse]
}

// NewGRPCServer exposes the endpoints as the FeaturesService gRPC service.
func NewGRPCServer(e Endpoints) pb.FeaturesServiceServer {
	return &grpcServer{
		getUserFeatures: kitgrpc.NewHandler(e.GetUserFeatures, featuresapi.GetUserFeaturesRequestFromPB, featuresapi.UserFeaturesToPB),
		ingestEvents:    kitgrpc.NewHandler(e.IngestEvents, featuresapi.EventsFromPB, featuresapi.AcceptedToPB),
		getItem:         kitgrpc.NewHandler(e.GetItem, featuresapi.ItemIDFromPB, featuresapi.ItemToPB),
		logExposures:    kitgrpc.NewHandler(e.LogExposures, featuresapi.ShownRepliesFromPB, featuresapi.RowsToPB),
		exposureStats:   kitgrpc.NewHandler(e.ExposureStats, featuresapi.ExposureQueryFromPB, featuresapi.ArmStatsToPB),
		putItems:        kitgrpc.NewHandler(e.PutItems, featuresapi.ItemsFromPB, featuresapi.PutItemsReplyToPB),
		patchItem:       kitgrpc.NewHandler(e.PatchItem, featuresapi.PatchFromPB, featuresapi.ItemToPB),
		retireItem:      kitgrpc.NewHandler(e.RetireItem, featuresapi.ItemIDFromPB, featuresapi.ItemToPB),
		itemChanges:     kitgrpc.NewHandler(e.ItemChanges, featuresapi.ItemChangesRequestFromPB, featuresapi.ItemChangesToPB),
		putUserProfile:  kitgrpc.NewHandler(e.PutUserProfile, featuresapi.ProfileFromPB, featuresapi.EmptyToPB),
		forgetUser:      kitgrpc.NewHandler(e.ForgetUser, featuresapi.UserIDFromPB, featuresapi.ForgottenToPB),
	}
}

func (s *grpcServer) GetUserFeatures(ctx context.Context, r *pb.GetUserFeaturesRequest) (*pb.GetUserFeaturesResponse, error) {
	return s.getUserFeatures.Serve(ctx, r)
}

func (s *grpcServer) IngestEvents(ctx context.Context, r *pb.IngestEventsRequest) (*pb.IngestEventsResponse, error) {
	return s.ingestEvents.Serve(ctx, r)
}

func (s *grpcServer) GetItem(ctx context.Context, r *pb.GetItemRequest) (*pb.GetItemResponse, error) {
	return s.getItem.Serve(ctx, r)
}

func (s *grpcServer) LogExposures(ctx context.Context, r *pb.LogExposuresRequest) (*pb.LogExposuresResponse, error) {
	return s.logExposures.Serve(ctx, r)
}

func (s *grpcServer) ExposureStats(ctx context.Context, r *pb.ExposureStatsRequest) (*pb.ExposureStatsResponse, error) {
	return s.exposureStats.Serve(ctx, r)
}

func (s *grpcServer) PutItems(ctx context.Context, r *pb.PutItemsRequest) (*pb.PutItemsResponse, error) {
	return s.putItems.Serve(ctx, r)
}

func (s *grpcServer) PatchItem(ctx context.Context, r *pb.PatchItemRequest) (*pb.GetItemResponse, error) {
	return s.patchItem.Serve(ctx, r)
}

func (s *grpcServer) RetireItem(ctx context.Context, r *pb.GetItemRequest) (*pb.GetItemResponse, error) {
	return s.retireItem.Serve(ctx, r)
}

func (s *grpcServer) ItemChanges(ctx context.Context, r *pb.ItemChangesRequest) (*pb.ItemChangesResponse, error) {
	return s.itemChanges.Serve(ctx, r)
}

func (s *grpcServer) PutUserProfile(ctx context.Context, r *pb.PutUserProfileRequest) (*pb.PutUserProfileResponse, error) {
	return s.putUserProfile.Serve(ctx, r)
}

func (s *grpcServer) ForgetUser(ctx context.Context, r *pb.ForgetUserRequest) (*pb.ForgetUserResponse, error) {
	return s.forgetUser.Serve(ctx, r)
}
