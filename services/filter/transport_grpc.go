package filter

import (
	"context"

	"github.com/go-kit/kit/endpoint"

	"github.com/recmesh/recmesh/pkg/kitgrpc"
	pb "github.com/recmesh/recmesh/proto/recmesh/v1"
	"github.com/recmesh/recmesh/services/filter/filterapi"
)

type grpcServer struct {
	pb.UnimplementedFilterServiceServer
	filter kitgrpc.Handler[pb.FilterRequest, pb.FilterResponse]
}

// NewGRPCServer exposes the endpoint as the FilterService gRPC service.
func NewGRPCServer(filter endpoint.Endpoint) pb.FilterServiceServer {
	return &grpcServer{filter: kitgrpc.NewHandler(filter, filterapi.RequestFromPB, filterapi.ResponseToPB)}
}

func (s *grpcServer) Filter(ctx context.Context, r *pb.FilterRequest) (*pb.FilterResponse, error) {
	return s.filter.Serve(ctx, r)
}
