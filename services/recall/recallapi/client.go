package recallapi

import (
	"context"

	"github.com/go-kit/kit/endpoint"

	"github.com/recmesh/recmesh/pkg/balancer"
	"github.com/recmesh/recmesh/pkg/kitgrpc"
	pb "github.com/recmesh/recmesh/proto/recmesh/v1"
)

// Client is a Service that calls a remote recall service.
type Client struct{ recall endpoint.Endpoint }

// NewClient returns a client that picks instances with p; mw wraps each method.
func NewClient(p *balancer.Picker, mw kitgrpc.MiddlewareFor) *Client {
	return &Client{recall: kitgrpc.ClientEndpoint[pb.RecallRequest, pb.RecallResponse](p, Name, "recmesh.v1.RecallService", "Recall", mw)}
}

// Recall implements Service.
func (c *Client) Recall(ctx context.Context, req Request) (Response, error) {
	r, err := kitgrpc.Call[pb.RecallResponse](ctx, c.recall, RequestToPB(req))
	if err != nil {
		return Response{}, err
	}
	return ResponseFromPB(r)
}
