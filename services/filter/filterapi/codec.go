package filterapi

import (
	"fmt"
	"time"

	"github.com/recmesh/recmesh/pkg/domain"
	pb "github.com/recmesh/recmesh/proto/recmesh/v1"
)

// RequestToPB encodes a request; titles stay behind, as nobody after recall reads them.
func RequestToPB(req Request) *pb.FilterRequest {
	e := req.Exposure
	out := &pb.FilterRequest{
		UserId: req.UserID, Candidates: domain.CandidatesToPB(req.Candidates, false),
		SeenItemIds: req.Seen, MaxPerGenre: int32(req.MaxPerGenre),
		Exposures: domain.ExposuresToPB(e.Shown), Clicks: domain.ExposuresToPB(e.Clicks), NowUnixMs: e.NowMillis,
		Categories: req.Categories, ExcludeItemIds: req.Exclude,
	}
	if e.Cap.K > 0 {
		out.FrequencyCap = &pb.FrequencyCap{K: int32(e.Cap.K), WindowMs: e.Cap.Window.Milliseconds(), CooldownMs: e.Cap.Cooldown.Milliseconds()}
	}
	return out
}

// RequestFromPB decodes a request; a malformed candidate batch is an error.
func RequestFromPB(r *pb.FilterRequest) (Request, error) {
	cands, err := domain.CandidatesFromPB(r.GetCandidates())
	c := r.GetFrequencyCap()
	return Request{UserID: r.GetUserId(), Candidates: cands, Seen: r.GetSeenItemIds(), MaxPerGenre: int(r.GetMaxPerGenre()),
		Exposure: Exposure{Shown: domain.ExposuresFromPB(r.GetExposures()), Clicks: domain.ExposuresFromPB(r.GetClicks()),
			NowMillis: r.GetNowUnixMs(), Cap: FrequencyCap{K: int(c.GetK()), Window: time.Duration(c.GetWindowMs()) * time.Millisecond,
				Cooldown: time.Duration(c.GetCooldownMs()) * time.Millisecond}},
		Categories: r.GetCategories(), Exclude: r.GetExcludeItemIds()}, err
}

// ResponseToPB encodes a response as the kept ids only.
func ResponseToPB(r Response) *pb.FilterResponse {
	out := &pb.FilterResponse{KeptItemIds: make([]int64, len(r.Kept)), Dropped: make(map[string]int32, len(r.Dropped))}
	for i, c := range r.Kept {
		out.KeptItemIds[i] = c.ID
	}
	for k, v := range r.Dropped {
		out.Dropped[k] = int32(v)
	}
	return out
}

// ResponseFromPB rebuilds a response from the kept ids and the candidates
// the request sent; an id that was not sent is an error.
func ResponseFromPB(r *pb.FilterResponse, sent []domain.Candidate) (Response, error) {
	kept, err := domain.SelectByID(sent, r.GetKeptItemIds())
	if err != nil {
		return Response{}, fmt.Errorf("filter: %w", err)
	}
	d := make(map[string]int, len(r.GetDropped()))
	for k, v := range r.GetDropped() {
		d[k] = int(v)
	}
	return Response{Kept: kept, Dropped: d}, nil
}
