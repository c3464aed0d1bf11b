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
			cands, err := domain.CandidatesFromPB(r.GetCandidates())
			return Request{UserID: r.GetUserId(), Affinity: r.GetGenreAffinity(), Candidates: cands,
				Weights: r.GetWeights(), ModelVersion: r.GetModelVersion()}, err
		},
		func(r Response) *pb.RankResponse {
			out := &pb.RankResponse{ItemIds: make([]int64, len(r.Ranked)), Scores: make([]float64, len(r.Ranked)), ModelVersion: r.ModelVersion}
			for i, c := range r.Ranked {
				out.ItemIds[i], out.Scores[i] = c.ID, c.Score
			}
			return out
		})}
}

func (s *grpcServer) Rank(ctx context.Context, r *pb.RankRequest) (*pb.RankResponse, error) {
	return s.rank.Serve(ctx, r)
}
