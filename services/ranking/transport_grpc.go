package ranking

import (
	"context"

	"github.com/go-kit/kit/endpoint"

	"github.com/recmesh/recmesh/pkg/kitgrpc"
	pb "github.com/recmesh/recmesh/proto/recmesh/v1"
	"github.com/recmesh/recmesh/services/ranking/rankingapi"
)

type grpcServer struct {
	pb.UnimplementedRankingServiceServer
	rank kitgrpc.Handler[pb.RankRequest, pb.RankResponse]
}

// NewGRPCServer exposes the endpoint as the RankingService gRPC service.
func NewGRPCServer(rank endpoint.Endpoint) pb.RankingServiceServer {
	return &grpcServer{rank: kitgrpc.NewHandler(rank, rankingapi.RequestFromPB, rankingapi.ResponseToPB)}
}

func (s *grpcServer) Rank(ctx context.Context, r *pb.RankRequest) (*pb.RankResponse, error) {
	return s.rank.Serve(ctx, r)
}
