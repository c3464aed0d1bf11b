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
			func(f domain.UserFeatures) *pb.GetUserFeaturesResponse {
				return &pb.GetUserFeaturesResponse{Features: domain.UserFeaturesToPB(f)}
			}),
		ingestEvents: kitgrpc.NewHandler(e.IngestEvents,
			func(r *pb.IngestEventsRequest) ([]domain.Event, error) {
				return domain.EventsFromPB(r.GetEvents()), nil
			},
			func(n int) *pb.IngestEventsResponse { return &pb.IngestEventsResponse{Accepted: int32(n)} }),
		getItem: kitgrpc.NewHandler(e.GetItem,
			func(r *pb.GetItemRequest) (int64, error) { return r.GetItemId(), nil },
			func(it domain.Item) *pb.GetItemResponse { return &pb.GetItemResponse{Item: domain.ItemToPB(it)} }),
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
