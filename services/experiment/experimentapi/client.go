package experimentapi

import (
	"context"
	"time"

	"github.com/recmesh/recmesh/pkg/abtest"
	"github.com/recmesh/recmesh/pkg/balancer"
	"github.com/recmesh/recmesh/pkg/kitgrpc"
	pb "github.com/recmesh/recmesh/proto/recmesh/v1"
)

const grpcService = "recmesh.v1.ExperimentService"

// Client is a Service that calls a remote experiment service, picking
// instances with a balancer.Picker.
type Client struct {
	getConfig   kitgrpc.Method[struct{}, *abtest.Config, pb.GetConfigRequest, pb.GetConfigResponse]
	watchConfig kitgrpc.Method[WatchRequest, *abtest.Config, pb.WatchConfigRequest, pb.GetConfigResponse]
}

var _ Service = (*Client)(nil)

// NewClient returns a client that picks instances with p. The caller
// validates the configs it receives.
func NewClient(p *balancer.Picker) *Client {
	return &Client{
		getConfig: kitgrpc.NewMethod(p, Name, grpcService, "GetConfig",
			func(struct{}) *pb.GetConfigRequest { return &pb.GetConfigRequest{} },
			func(r *pb.GetConfigResponse, _ struct{}) (*abtest.Config, error) { return ConfigFromPB(r), nil }),
		watchConfig: kitgrpc.NewMethod(p, Name, grpcService, "WatchConfig", WatchRequestToPB,
			func(r *pb.GetConfigResponse, _ WatchRequest) (*abtest.Config, error) { return ConfigFromPB(r), nil }),
	}
}

// GetConfig implements Service.
func (c *Client) GetConfig(ctx context.Context) (*abtest.Config, error) {
	return c.getConfig.Call(ctx, struct{}{})
}

// WatchConfig implements Service.
func (c *Client) WatchConfig(ctx context.Context, known int64, wait time.Duration) (*abtest.Config, error) {
	return c.watchConfig.Call(ctx, WatchRequest{Known: known, Wait: wait})
}
