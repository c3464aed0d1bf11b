package filterapi

import (
	"context"

	"github.com/go-kit/kit/endpoint"

	"github.com/recmesh/recmesh/pkg/balancer"
	"github.com/recmesh/recmesh/pkg/kitgrpc"
	pb "github.com/recmesh/recmesh/proto/recmesh/v1"
)

// Client is a Service that calls a remote filter service.
type Client struct{ filter endpoint.Endpoint }

// NewClient returns a client that picks instances with p; mw wraps each method.
func NewClient(p *balancer.Picker, mw kitgrpc.MiddlewareFor) *Client {
	return &Client{filter: kitgrpc.ClientEndpoint[pb.FilterRequest, pb.FilterResponse](p, Name, "recmesh.v1.FilterService", "Filter", mw)}
}

// Filter implements Service.
func (c *Client) Filter(ctx context.Context, req Request) (Response, error) {
	r, err := kitgrpc.Call[pb.FilterResponse](ctx, c.filter, RequestToPB(req))
	if err != nil {
		return Response{}, err
	}
	return ResponseFromPB(r, req.Candidates)
}
