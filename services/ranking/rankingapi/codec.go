package rankingapi

import (
	"fmt"

	"github.com/recmesh/recmesh/pkg/domain"
	pb "github.com/recmesh/recmesh/proto/recmesh/v1"
)

// RequestToPB encodes a request; titles stay behind, as nobody after recall reads them.
func RequestToPB(req Request) *pb.RankRequest {
	return &pb.RankRequest{
		UserId: req.UserID, GenreAffinity: req.Affinity, Candidates: domain.CandidatesToPB(req.Candidates, false),
		Weights: req.Weights, ModelVersion: req.ModelVersion,
	}
}

// RequestFromPB decodes a request; a malformed candidate batch is an error.
func RequestFromPB(r *pb.RankRequest) (Request, error) {
	cands, err := domain.CandidatesFromPB(r.GetCandidates())
	return Request{UserID: r.GetUserId(), Affinity: r.GetGenreAffinity(), Candidates: cands,
		Weights: r.GetWeights(), ModelVersion: r.GetModelVersion()}, err
}

// ResponseToPB encodes a response as ids and scores only.
func ResponseToPB(r Response) *pb.RankResponse {
	out := &pb.RankResponse{ItemIds: make([]int64, len(r.Ranked)), Scores: make([]float64, len(r.Ranked)), ModelVersion: r.ModelVersion}
	for i, c := range r.Ranked {
		out.ItemIds[i], out.Scores[i] = c.ID, c.Score
	}
	return out
}

// ResponseFromPB rebuilds a response from ids, scores and the candidates
// the request sent; an id that was not sent is an error.
func ResponseFromPB(r *pb.RankResponse, sent []domain.Candidate) (Response, error) {
	ids, scores := r.GetItemIds(), r.GetScores()
	if len(ids) != len(scores) {
		return Response{}, fmt.Errorf("ranking: %d ids but %d scores", len(ids), len(scores))
	}
	ranked, err := domain.SelectByID(sent, ids)
	if err != nil {
		return Response{}, fmt.Errorf("ranking: %w", err)
	}
	for i := range ranked {
		ranked[i].Score = scores[i]
	}
	return Response{Ranked: ranked, ModelVersion: r.GetModelVersion()}, nil
}
