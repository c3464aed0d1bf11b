package experiment

import (
	"context"

	"github.com/go-kit/kit/endpoint"

	"github.com/recmesh/recmesh/pkg/abtest"
	"github.com/recmesh/recmesh/pkg/balancer"
	"github.com/recmesh/recmesh/pkg/kitgrpc"
	pb "github.com/recmesh/recmesh/proto/recmesh/v1"
)

// Name is the service's name in the registry.
const Name = "experiment"

type grpcServer struct {
	pb.UnimplementedExperimentServiceServer
	getConfig kitgrpc.Handler[pb.GetConfigRequest, pb.GetConfigResponse]
}

// NewGRPCServer exposes the endpoint as the ExperimentService gRPC service.
func NewGRPCServer(getConfig endpoint.Endpoint) pb.ExperimentServiceServer {
	return &grpcServer{getConfig: kitgrpc.NewHandler(getConfig,
		func(*pb.GetConfigRequest) (struct{}, error) { return struct{}{}, nil },
		func(c *abtest.Config) *pb.GetConfigResponse { return &pb.GetConfigResponse{Config: c.ToPB()} })}
}

func (s *grpcServer) GetConfig(ctx context.Context, r *pb.GetConfigRequest) (*pb.GetConfigResponse, error) {
	return s.getConfig.Serve(ctx, r)
}

// Client is a Service that calls a remote experiment service.
type Client struct{ getConfig endpoint.Endpoint }

// NewClient returns a client that picks instances with p; mw wraps each method.
func NewClient(p *balancer.Picker, mw kitgrpc.MiddlewareFor) *Client {
	return &Client{getConfig: kitgrpc.ClientEndpoint[pb.GetConfigRequest, pb.GetConfigResponse](p, Name, "recmesh.v1.ExperimentService", "GetConfig", mw)}
}

// GetConfig implements Service. The caller validates the config it receives.
func (c *Client) GetConfig(ctx context.Context) (*abtest.Config, error) {
	r, err := kitgrpc.Call[pb.GetConfigResponse](ctx, c.getConfig, &pb.GetConfigRequest{})
	if err != nil {
		return nil, err
	}
	return abtest.ConfigFromPB(r.GetConfig()), nil
}
