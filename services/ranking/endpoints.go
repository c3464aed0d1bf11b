package ranking

import (
	"github.com/go-kit/kit/endpoint"

	"github.com/recmesh/recmesh/pkg/kitendpoint"
)

// MakeRankEndpoint wires the Rank endpoint to s.
func MakeRankEndpoint(s Service) endpoint.Endpoint { return kitendpoint.Make(s.Rank) }
