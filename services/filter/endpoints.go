package filter

import (
	"context"

	"github.com/go-kit/kit/endpoint"

	"github.com/recmesh/recmesh/pkg/apierr"
)

// FilterResponse is the endpoint's response: the result or a business error.
type FilterResponse struct {
	Response
	Err error
}

// Failed implements endpoint.Failer.
func (r FilterResponse) Failed() error { return r.Err }

// MakeFilterEndpoint wires the Filter endpoint to s.
func MakeFilterEndpoint(s Service) endpoint.Endpoint {
	return func(ctx context.Context, req any) (any, error) {
		resp, err := s.Filter(ctx, req.(Request))
		return FilterResponse{Response: resp, Err: err}, apierr.Infra(err)
	}
}
