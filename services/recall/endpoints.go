package recall

import (
	"github.com/go-kit/kit/endpoint"

	"github.com/recmesh/recmesh/pkg/kitendpoint"
	"github.com/recmesh/recmesh/services/recall/recallapi"
)

// MakeRecallEndpoint wires the Recall endpoint to s.
func MakeRecallEndpoint(s recallapi.Service) endpoint.Endpoint { return kitendpoint.Make(s.Recall) }
