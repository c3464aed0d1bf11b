package experiment

import (
	"context"
	"time"

	"github.com/go-kit/kit/endpoint"

	"github.com/recmesh/recmesh/pkg/abtest"
	"github.com/recmesh/recmesh/pkg/balancer"
	"github.com/recmesh/recmesh/pkg/kitgrpc"
	pb "github.com/recmesh/recmesh/proto/recmesh/v1"
)

// Name is the service's name in the registry.
const Name = "experiment"

const grpcService = "recmesh.v1.ExperimentService"

type grpcServer struct {
	pb.UnimplementedExperimentServiceServer
	getConfig   kitgrpc.Handler[pb.GetConfigRequest, pb.GetConfigResponse]
	watchConfig kitgrpc.Handler[pb.WatchConfigRequest, pb.GetConfigResponse]
}

func encodeConfig(c *abtest.Config) *pb.GetConfigResponse {
	return &pb.GetConfigResponse{Config: c.ToPB()}
}

// NewGRPCServer exposes the endpoints as the ExperimentService gRPC service.
func NewGRPCServer(getConfig, watchConfig endpoint.Endpoint) pb.ExperimentServiceServer {
	return &grpcServer{
		getConfig: kitgrpc.NewHandler(getConfig,
			func(*pb.GetConfigRequest) (struct{}, error) { return struct{}{}, nil }, encodeConfig),
		watchConfig: kitgrpc.NewHandler(watchConfig,
			func(r *pb.WatchConfigRequest) (WatchRequest, error) {
				return WatchRequest{Known: r.GetKnownVersion(), Wait: time.Duration(r.GetWaitMs()) * time.Millisecond}, nil
			}, encodeConfig),
	}
}

func (s *grpcServer) GetConfig(ctx context.Context, r *pb.GetConfigRequest) (*pb.GetConfigResponse, error) {
	return s.getConfig.Serve(ctx, r)
}

func (s *grpcServer) WatchConfig(ctx context.Context, r *pb.WatchConfigRequest) (*pb.GetConfigResponse, error) {
	return s.watchConfig.Serve(ctx, r)
}

// Client is a Service that calls a remote experiment service.
type Client struct{ getConfig, watchConfig endpoint.Endpoint }

// NewClient returns a client that picks instances with p; mw wraps each
// method (WatchConfig's budget must exceed the longest wait).
func NewClient(p *balancer.Picker, mw kitgrpc.MiddlewareFor) *Client {
	return &Client{
		getConfig:   kitgrpc.ClientEndpoint[pb.GetConfigRequest, pb.GetConfigResponse](p, Name, grpcService, "GetConfig", mw),
		watchConfig: kitgrpc.ClientEndpoint[pb.WatchConfigRequest, pb.GetConfigResponse](p, Name, grpcService, "WatchConfig", mw),
	}
}

// GetConfig implements Service. The caller validates the config it receives.
func (c *Client) GetConfig(ctx context.Context) (*abtest.Config, error) {
	r, err := kitgrpc.Call[pb.GetConfigResponse](ctx, c.getConfig, &pb.GetConfigRequest{})
	if err != nil {
		return nil, err
	}
	return abtest.ConfigFromPB(r.GetConfig()), nil
}

// WatchConfig implements Service.
func (c *Client) WatchConfig(ctx context.Context, known int64, wait time.Duration) (*abtest.Config, error) {
	r, err := kitgrpc.Call[pb.GetConfigResponse](ctx, c.watchConfig, &pb.WatchConfigRequest{KnownVersion: known, WaitMs: int32(wait / time.Millisecond)})
	if err != nil {
		return nil, err
	}
	return abtest.ConfigFromPB(r.GetConfig()), nil
}
