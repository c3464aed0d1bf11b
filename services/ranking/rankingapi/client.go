package rankingapi

import (
	"context"

	"github.com/go-kit/kit/endpoint"

	"github.com/recmesh/recmesh/pkg/balancer"
	"github.com/recmesh/recmesh/pkg/kitgrpc"
	pb "github.com/recmesh/recmesh/proto/recmesh/v1"
)

// Client is a Service that calls a remote ranking service.
type Client struct{ rank endpoint.Endpoint }

// NewClient returns a client that picks instances with p; mw wraps each method.
func NewClient(p *balancer.Picker, mw kitgrpc.MiddlewareFor) *Client {
	return &Client{rank: kitgrpc.ClientEndpoint[pb.RankRequest, pb.RankResponse](p, Name, "recmesh.v1.RankingService", "Rank", mw)}
}

// Rank implements Service.
func (c *Client) Rank(ctx context.Context, req Request) (Response, error) {
	r, err := kitgrpc.Call[pb.RankResponse](ctx, c.rank, RequestToPB(req))
	if err != nil {
		return Response{}, err
	}
	return ResponseFromPB(r, req.Candidates)
}
