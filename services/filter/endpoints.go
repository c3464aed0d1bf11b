package filter

import (
	"github.com/go-kit/kit/endpoint"

	"github.com/recmesh/recmesh/pkg/kitendpoint"
	"github.com/recmesh/recmesh/services/filter/filterapi"
)

// MakeFilterEndpoint wires the Filter endpoint to s.
func MakeFilterEndpoint(s filterapi.Service) endpoint.Endpoint { return kitendpoint.Make(s.Filter) }
