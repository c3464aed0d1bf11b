package recallapi

import (
	"context"

	"github.com/recmesh/recmesh/pkg/balancer"
	"github.com/recmesh/recmesh/pkg/kitgrpc"
	pb "github.com/recmesh/recmesh/proto/recmesh/v1"
)

// Client is a Service that calls a remote recall service, picking
// instances with a balancer.Picker.
type Client struct {
	recall kitgrpc.Method[Request, Response, pb.RecallRequest, pb.RecallResponse]
}

var _ Service = (*Client)(nil)

// NewClient returns a client that picks instances with p.
func NewClient(p *balancer.Picker) *Client {
	return &Client{recall: kitgrpc.NewMethod(p, Name, "recmesh.v1.RecallService", "Recall", RequestToPB,
		func(r *pb.RecallResponse, _ Request) (Response, error) { return ResponseFromPB(r) })}
}

// Recall implements Service.
func (c *Client) Recall(ctx context.Context, req Request) (Response, error) {
	return c.recall.Call(ctx, req)
}
