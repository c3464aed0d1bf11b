package recallapi

import (
	"github.com/recmesh/recmesh/pkg/domain"
	pb "github.com/recmesh/recmesh/proto/recmesh/v1"
)

// RequestFromPB decodes a request.
func RequestFromPB(r *pb.RecallRequest) (Request, error) {
	return Request{
		UserID: r.GetUserId(),
		Query:  Query{Recent: domain.InteractionsFromPB(r.GetRecent()), Affinity: r.GetGenreAffinity()},
		Quotas: intMap(r.GetQuotas()), OnlyQuotas: r.GetOnlyQuotas(), K: int(r.GetK()),
		Categories: r.GetCategories(), Exclude: r.GetExcludeItemIds(), Seeds: r.GetSeedItemIds(), Seen: r.GetSeenItemIds(),
	}, nil
}

// RequestToPB encodes a request.
func RequestToPB(r Request) *pb.RecallRequest {
	q := make(map[string]int32, len(r.Quotas))
	for k, v := range r.Quotas {
		q[k] = int32(v)
	}
	return &pb.RecallRequest{
		UserId: r.UserID, Recent: domain.InteractionsToPB(r.Recent), GenreAffinity: r.Affinity,
		Quotas: q, OnlyQuotas: r.OnlyQuotas, K: int32(r.K),
		Categories: r.Categories, ExcludeItemIds: r.Exclude, SeedItemIds: r.Seeds, SeenItemIds: r.Seen,
	}
}

// ResponseToPB encodes a response.
func ResponseToPB(r Response) *pb.RecallResponse {
	per := make(map[string]int32, len(r.PerChannel))
	for k, v := range r.PerChannel {
		per[k] = int32(v)
	}
	return &pb.RecallResponse{Candidates: domain.CandidatesToPB(r.Candidates, true), PerChannel: per, ModelVersion: r.ModelVersion, Missed: r.Missed}
}

// ResponseFromPB decodes a response; a malformed candidate batch is an error.
func ResponseFromPB(r *pb.RecallResponse) (Response, error) {
	cands, err := domain.CandidatesFromPB(r.GetCandidates())
	if err != nil {
		return Response{}, err
	}
	return Response{Candidates: cands, PerChannel: intMap(r.GetPerChannel()), ModelVersion: r.GetModelVersion(), Missed: r.GetMissed()}, nil
}

func intMap(in map[string]int32) map[string]int {
	if len(in) == 0 {
		return nil
	}
	out := make(map[string]int, len(in))
	for k, v := range in {
		out[k] = int(v)
	}
	return out
}
