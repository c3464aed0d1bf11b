package recall

import (
	"context"

	"github.com/go-kit/kit/endpoint"

	"github.com/recmesh/recmesh/pkg/kitgrpc"
	pb "github.com/recmesh/recmesh/proto/recmesh/v1"
	"github.com/recmesh/recmesh/services/recall/recallapi"
)

type grpcServer struct {
	pb.UnimplementedRecallServiceServer
	recall kitgrpc.Handler[pb.RecallRequest, pb.RecallResponse]
}

// NewGRPCServer exposes the endpoint as the RecallService gRPC service.
func NewGRPCServer(recall endpoint.Endpoint) pb.RecallServiceServer {
	return &grpcServer{recall: kitgrpc.NewHandler(recall, recallapi.RequestFromPB, recallapi.ResponseToPB)}
}

func (s *grpcServer) Recall(ctx context.Context, r *pb.RecallRequest) (*pb.RecallResponse, error) {
	return s.recall.Serve(ctx, r)
}
