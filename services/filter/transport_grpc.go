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
			cands, err := domain.CandidatesFromPB(r.GetCandidates())
			return Request{UserID: r.GetUserId(), Candidates: cands, Seen: r.GetSeenItemIds(), MaxPerGenre: int(r.GetMaxPerGenre())}, err
		},
		func(r Response) *pb.FilterResponse {
			out := &pb.FilterResponse{KeptItemIds: make([]int64, len(r.Kept)), Dropped: make(map[string]int32, len(r.Dropped))}
			for i, c := range r.Kept {
				out.KeptItemIds[i] = c.ID
			}
			for k, v := range r.Dropped {
				out.Dropped[k] = int32(v)
			}
			return out
		})}
}

func (s *grpcServer) Filter(ctx context.Context, r *pb.FilterRequest) (*pb.FilterResponse, error) {
	return s.filter.Serve(ctx, r)
}
