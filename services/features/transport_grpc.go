package features

import (
	"context"

	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/pkg/kitgrpc"
	pb "github.com/recmesh/recmesh/proto/recmesh/v1"
)

type grpcServer struct {
	pb.UnimplementedFeaturesServiceServer
	getUserFeatures kitgrpc.Handler[pb.GetUserFeaturesRequest, pb.GetUserFeaturesResponse]
	ingestEvents    kitgrpc.Handler[pb.IngestEventsRequest, pb.IngestEventsResponse]
	getItem         kitgrpc.Handler[pb.GetItemRequest, pb.GetItemResponse]
}

// NewGRPCServer exposes the endpoints as the FeaturesService gRPC service.
func NewGRPCServer(e Endpoints) pb.FeaturesServiceServer {
	return &grpcServer{
		getUserFeatures: kitgrpc.NewHandler(e.GetUserFeatures,
			func(r *pb.GetUserFeaturesRequest) (GetUserFeaturesRequest, error) {
				return GetUserFeaturesRequest{UserID: r.GetUserId(), RecentLimit: int(r.GetRecentLimit())}, nil
			},
			func(r GetUserFeaturesResponse) *pb.GetUserFeaturesResponse {
				return &pb.GetUserFeaturesResponse{Features: domain.UserFeaturesToPB(r.Features)}
			}),
		ingestEvents: kitgrpc.NewHandler(e.IngestEvents,
			func(r *pb.IngestEventsRequest) (IngestEventsRequest, error) {
				return IngestEventsRequest{Events: domain.EventsFromPB(r.GetEvents())}, nil
			},
			func(r IngestEventsResponse) *pb.IngestEventsResponse {
				return &pb.IngestEventsResponse{Accepted: int32(r.Accepted)}
			}),
		getItem: kitgrpc.NewHandler(e.GetItem,
			func(r *pb.GetItemRequest) (GetItemRequest, error) { return GetItemRequest{ID: r.GetItemId()}, nil },
			func(r GetItemResponse) *pb.GetItemResponse { return &pb.GetItemResponse{Item: domain.ItemToPB(r.Item)} }),
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
