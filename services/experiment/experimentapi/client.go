package experimentapi

import (
	"context"
	"time"

	"github.com/go-kit/kit/endpoint"

	"github.com/recmesh/recmesh/pkg/abtest"
	"github.com/recmesh/recmesh/pkg/balancer"
	"github.com/recmesh/recmesh/pkg/kitgrpc"
	pb "github.com/recmesh/recmesh/proto/recmesh/v1"
)

const grpcService = "recmesh.v1.ExperimentService"

// Client is a Service that calls a remote experiment service.
type Client struct{ getConfig, watchConfig endpoint.Endpoint }

var _ Service = (*Client)(nil)

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
	return ConfigFromPB(r), nil
}

// WatchConfig implements Service.
func (c *Client) WatchConfig(ctx context.Context, known int64, wait time.Duration) (*abtest.Config, error) {
	r, err := kitgrpc.Call[pb.GetConfigResponse](ctx, c.watchConfig, WatchRequestToPB(WatchRequest{known, wait}))
	if err != nil {
		return nil, err
	}
	return ConfigFromPB(r), nil
}
