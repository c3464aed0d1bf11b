// Package rankingapi is the ranking service's contract: its interface,
// request and reply types, gRPC client and codecs. Callers import this
// package only; models and their training live in package ranking.
package rankingapi

import (
	"context"

	"github.com/recmesh/recmesh/pkg/domain"
)

// Name is the service's name in the registry.
const Name = "ranking"

// Request asks to rank one user's candidates.
type Request struct {
	UserID   string
	Affinity map[string]float64
	// Candidates to score; the response holds the same ones, best first.
	Candidates []domain.Candidate
	// Weights fuse the objectives; empty means the model's defaults.
	Weights map[string]float64
	// ModelVersion pins a loaded version; empty means the current one.
	ModelVersion string
}

// Response carries the ranked candidates and the model that ranked them.
type Response struct {
	Ranked       []domain.Candidate
	ModelVersion string
}

// Service is the ranking service's business interface.
type Service interface {
	Rank(ctx context.Context, req Request) (Response, error)
}

// MaxCandidates bounds a request.
const MaxCandidates = 5000
