package recall

import (
	"github.com/go-kit/kit/endpoint"

	"github.com/recmesh/recmesh/pkg/kitendpoint"
)

// MakeRecallEndpoint wires the Recall endpoint to s.
func MakeRecallEndpoint(s Service) endpoint.Endpoint { return kitendpoint.Make(s.Recall) }
