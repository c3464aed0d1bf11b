package ranking

import (
	"context"

	"github.com/go-kit/kit/endpoint"

	"github.com/recmesh/recmesh/pkg/apierr"
)

// RankResponse is the endpoint's response: the result or a business error.
type RankResponse struct {
	Response
	Err error
}

// Failed implements endpoint.Failer.
func (r RankResponse) Failed() error { return r.Err }

// MakeRankEndpoint wires the Rank endpoint to s.
func MakeRankEndpoint(s Service) endpoint.Endpoint {
	return func(ctx context.Context, req any) (any, error) {
		resp, err := s.Rank(ctx, req.(Request))
		return RankResponse{Response: resp, Err: err}, apierr.Infra(err)
	}
}
