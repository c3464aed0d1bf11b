package filter

import (
	"context"

	"github.com/go-kit/kit/endpoint"

	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/pkg/kitgrpc"
	pb "github.com/recmesh/recmesh/proto/recmesh/v1"
)

type grpcServer struct {
	pb.UnimplementedFilterServiceServer
	filter kitgrpc.Handler[pb.FilterRequest, pb.FilterResponse]
}

// NewGRPCServer exposes the endpoint as the FilterService gRPC service.
func NewGRPCServer(filter endpoint.Endpoint) pb.FilterServiceServer {
	return &grpcServer{filter: kitgrpc.NewHandler(filter,
		func(r *pb.FilterRequest) (Request, error) {
			return Request{UserID: r.GetUserId(), Candidates: domain.CandidatesFromPB(r.GetCandidates()),
				Seen: r.GetSeenItemIds(), MaxPerGenre: int(r.GetMaxPerGenre())}, nil
		},
		func(r Response) *pb.FilterResponse {
			d := make(map[string]int32, len(r.Dropped))
			for k, v := range r.Dropped {
				d[k] = int32(v)
			}
			return &pb.FilterResponse{Kept: domain.CandidatesToPB(r.Kept), Dropped: d}
		})}
}

func (s *grpcServer) Filter(ctx context.Context, r *pb.FilterRequest) (*pb.FilterResponse, error) {
	return s.filter.Serve(ctx, r)
}
