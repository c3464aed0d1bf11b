package rankingapi

import (
	"context"

	"github.com/recmesh/recmesh/pkg/balancer"
	"github.com/recmesh/recmesh/pkg/kitgrpc"
	pb "github.com/recmesh/recmesh/proto/recmesh/v1"
)

// Client is a Service that calls a remote ranking service, picking
// instances with a balancer.Picker.
type Client struct {
	rank kitgrpc.Method[Request, Response, pb.RankRequest, pb.RankResponse]
}

var _ Service = (*Client)(nil)

// NewClient returns a client that picks instances with p.
func NewClient(p *balancer.Picker) *Client {
	return &Client{rank: kitgrpc.NewMethod(p, Name, "recmesh.v1.RankingService", "Rank", RequestToPB,
		func(r *pb.RankResponse, req Request) (Response, error) { return ResponseFromPB(r, req.Candidates) })}
}

// Rank implements Service.
func (c *Client) Rank(ctx context.Context, req Request) (Response, error) {
	return c.rank.Call(ctx, req)
}
