package experiment

import (
	"context"

	"github.com/go-kit/kit/endpoint"

	"github.com/recmesh/recmesh/pkg/kitgrpc"
	pb "github.com/recmesh/recmesh/proto/recmesh/v1"
	"github.com/recmesh/recmesh/services/experiment/experimentapi"
)

type grpcServer struct {
	pb.UnimplementedExperimentServiceServer
	getConfig   kitgrpc.Handler[pb.GetConfigRequest, pb.GetConfigResponse]
	watchConfig kitgrpc.Handler[pb.WatchConfigRequest, pb.GetConfigResponse]
}

// NewGRPCServer exposes the endpoints as the ExperimentService gRPC service.
func NewGRPCServer(getConfig, watchConfig endpoint.Endpoint) pb.ExperimentServiceServer {
	return &grpcServer{
		getConfig:   kitgrpc.NewHandler(getConfig, experimentapi.GetConfigRequestFromPB, experimentapi.ConfigToPB),
		watchConfig: kitgrpc.NewHandler(watchConfig, experimentapi.WatchRequestFromPB, experimentapi.ConfigToPB),
	}
}

func (s *grpcServer) GetConfig(ctx context.Context, r *pb.GetConfigRequest) (*pb.GetConfigResponse, error) {
	return s.getConfig.Serve(ctx, r)
}

func (s *grpcServer) WatchConfig(ctx context.Context, r *pb.WatchConfigRequest) (*pb.GetConfigResponse, error) {
	return s.watchConfig.Serve(ctx, r)
}
