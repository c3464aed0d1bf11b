package recall

import (
	"context"

	"github.com/go-kit/kit/endpoint"

	"github.com/recmesh/recmesh/pkg/apierr"
)

// RecallResponse is the endpoint's response: the result or a business error.
type RecallResponse struct {
	Response
	Err error
}

// Failed implements endpoint.Failer.
func (r RecallResponse) Failed() error { return r.Err }

// MakeRecallEndpoint wires the Recall endpoint to s.
func MakeRecallEndpoint(s Service) endpoint.Endpoint {
	return func(ctx context.Context, req any) (any, error) {
		resp, err := s.Recall(ctx, req.(Request))
		return RecallResponse{Response: resp, Err: err}, apierr.Infra(err)
	}
}
