package filterapi

import (
	"context"

	"github.com/recmesh/recmesh/pkg/balancer"
	"github.com/recmesh/recmesh/pkg/kitgrpc"
	pb "github.com/recmesh/recmesh/proto/recmesh/v1"
)

// Client is a Service that calls a remote filter service, picking
// instances with a balancer.Picker.
type Client struct {
	filter kitgrpc.Method[Request, Response, pb.FilterRequest, pb.FilterResponse]
}

var _ Service = (*Client)(nil)

// NewClient returns a client that picks instances with p.
func NewClient(p *balancer.Picker) *Client {
	return &Client{filter: kitgrpc.NewMethod(p, Name, "recmesh.v1.FilterService", "Filter", RequestToPB,
		func(r *pb.FilterResponse, req Request) (Response, error) { return ResponseFromPB(r, req.Candidates) })}
}

// Filter implements Service.
func (c *Client) Filter(ctx context.Context, req Request) (Response, error) {
	return c.filter.Call(ctx, req)
}
