package ranking

import (
	"context"

	"github.com/go-kit/kit/endpoint"

	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/pkg/kitgrpc"
	pb "github.com/recmesh/recmesh/proto/recmesh/v1"
)

type grpcServer struct {
	pb.UnimplementedRankingServiceServer
	rank kitgrpc.Handler[pb.RankRequest, pb.RankResponse]
}

// NewGRPCServer exposes the endpoint as the RankingService gRPC service.
func NewGRPCServer(rank endpoint.Endpoint) pb.RankingServiceServer {
	return &grpcServer{rank: kitgrpc.NewHandler(rank,
		func(r *pb.RankRequest) (Request, error) {
			return Request{UserID: r.GetUserId(), Affinity: r.GetGenreAffinity(), Candidates: domain.CandidatesFromPB(r.GetCandidates()),
				Weights: r.GetWeights(), ModelVersion: r.GetModelVersion()}, nil
		},
		func(r Response) *pb.RankResponse {
			return &pb.RankResponse{Ranked: domain.CandidatesToPB(r.Ranked), ModelVersion: r.ModelVersion}
		})}
}

func (s *grpcServer) Rank(ctx context.Context, r *pb.RankRequest) (*pb.RankResponse, error) {
	return s.rank.Serve(ctx, r)
}
