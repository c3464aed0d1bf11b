// Package kitendpoint builds go-kit endpoints from typed service methods.
// Business errors travel inside the response (endpoint.Failer), so circuit
// breakers and transports see only infrastructure failures as errors.
package kitendpoint

import (
	"context"

	"github.com/go-kit/kit/endpoint"

	"github.com/recmesh/recmesh/pkg/apierr"
)

// Response is an endpoint's response: a value, or a business error.
type Response[T any] struct {
	Value T
	Err   error
}

// Failed implements endpoint.Failer.
func (r Response[T]) Failed() error { return r.Err }

// Make wraps a service method as an endpoint taking Req and returning
// Response[Resp]. Only infrastructure errors are returned as the error.
func Make[Req, Resp any](method func(context.Context, Req) (Resp, error)) endpoint.Endpoint {
	return func(ctx context.Context, req any) (any, error) {
		v, err := method(ctx, req.(Req))
		return Response[Resp]{Value: v, Err: err}, apierr.Infra(err)
	}
}
