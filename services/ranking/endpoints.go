package ranking

import (
	"github.com/go-kit/kit/endpoint"

	"github.com/recmesh/recmesh/pkg/kitendpoint"
	"github.com/recmesh/recmesh/services/ranking/rankingapi"
)

// MakeRankEndpoint wires the Rank endpoint to s.
func MakeRankEndpoint(s rankingapi.Service) endpoint.Endpoint { return kitendpoint.Make(s.Rank) }
