package filter

import (
	"github.com/go-kit/kit/endpoint"

	"github.com/recmesh/recmesh/pkg/kitendpoint"
)

// MakeFilterEndpoint wires the Filter endpoint to s.
func MakeFilterEndpoint(s Service) endpoint.Endpoint { return kitendpoint.Make(s.Filter) }
