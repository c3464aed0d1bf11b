package ranking

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
const Name = "ranking"

// Client is a Service that calls a remote ranking service.
type Client struct{ rank endpoint.Endpoint }

// NewClient returns a client that picks instances with p; mw wraps each method.
func NewClient(p *balancer.Picker, mw kitgrpc.MiddlewareFor) *Client {
	return &Client{rank: kitgrpc.ClientEndpoint[pb.RankRequest, pb.RankResponse](p, Name, "recmesh.v1.RankingService", "Rank", mw)}
}

// Rank implements Service.
func (c *Client) Rank(ctx context.Context, req Request) (Response, error) {
	r, err := kitgrpc.Call[pb.RankResponse](ctx, c.rank, &pb.RankRequest{
		UserId: req.UserID, GenreAffinity: req.Affinity, Candidates: domain.CandidatesToPB(req.Candidates, false),
		Weights: req.Weights, ModelVersion: req.ModelVersion,
	})
	if err != nil {
		return Response{}, err
	}
	// Only ids and scores come back; the candidates are the ones we sent.
	ids, scores := r.GetItemIds(), r.GetScores()
	if len(ids) != len(scores) {
		return Response{}, fmt.Errorf("ranking: %d ids but %d scores", len(ids), len(scores))
	}
	ranked, err := domain.SelectByID(req.Candidates, ids)
	if err != nil {
		return Response{}, fmt.Errorf("ranking: %w", err)
	}
	for i := range ranked {
		ranked[i].Score = scores[i]
	}
	return Response{Ranked: ranked, ModelVersion: r.GetModelVersion()}, nil
}
