package filter

import (
	"context"
	"fmt"

	"github.com/go-kit/kit/endpoint"

	"github.com/recmesh/recmesh/pkg/balancer"
	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/pkg/kitgrpc"
	pb "github.com/recmesh/recmesh/proto/recmesh/v1"
)

// Name is the service's name in the registry.
const Name = "filter"

// Client is a Service that calls a remote filter service.
type Client struct{ filter endpoint.Endpoint }

// NewClient returns a client that picks instances with p; mw wraps each method.
func NewClient(p *balancer.Picker, mw kitgrpc.MiddlewareFor) *Client {
	return &Client{filter: kitgrpc.ClientEndpoint[pb.FilterRequest, pb.FilterResponse](p, Name, "recmesh.v1.FilterService", "Filter", mw)}
}

// Filter implements Service.
func (c *Client) Filter(ctx context.Context, req Request) (Response, error) {
	r, err := kitgrpc.Call[pb.FilterResponse](ctx, c.filter, &pb.FilterRequest{
		UserId: req.UserID, Candidates: domain.CandidatesToPB(req.Candidates, false),
		SeenItemIds: req.Seen, MaxPerGenre: int32(req.MaxPerGenre),
	})
	if err != nil {
		return Response{}, err
	}
	// Only the kept ids come back; the candidates are the ones we sent.
	kept, err := domain.SelectByID(req.Candidates, r.GetKeptItemIds())
	if err != nil {
		return Response{}, fmt.Errorf("filter: %w", err)
	}
	d := make(map[string]int, len(r.GetDropped()))
	for k, v := range r.GetDropped() {
		d[k] = int(v)
	}
	return Response{Kept: kept, Dropped: d}, nil
}
