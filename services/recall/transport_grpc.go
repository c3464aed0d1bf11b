package recall

import (
	"context"

	"github.com/go-kit/kit/endpoint"

	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/pkg/kitgrpc"
	pb "github.com/recmesh/recmesh/proto/recmesh/v1"
)

type grpcServer struct {
	pb.UnimplementedRecallServiceServer
	recall kitgrpc.Handler[pb.RecallRequest, pb.RecallResponse]
}

// NewGRPCServer exposes the endpoint as the RecallService gRPC service.
func NewGRPCServer(recall endpoint.Endpoint) pb.RecallServiceServer {
	return &grpcServer{recall: kitgrpc.NewHandler(recall, requestFromPB, responseToPB)}
}

func (s *grpcServer) Recall(ctx context.Context, r *pb.RecallRequest) (*pb.RecallResponse, error) {
	return s.recall.Serve(ctx, r)
}

func requestFromPB(r *pb.RecallRequest) (Request, error) {
	return Request{
		UserID: r.GetUserId(),
		Query:  Query{Recent: domain.InteractionsFromPB(r.GetRecent()), Affinity: r.GetGenreAffinity()},
		Quotas: intMap(r.GetQuotas()), K: int(r.GetK()),
	}, nil
}

func requestToPB(r Request) *pb.RecallRequest {
	q := make(map[string]int32, len(r.Quotas))
	for k, v := range r.Quotas {
		q[k] = int32(v)
	}
	return &pb.RecallRequest{
		UserId: r.UserID, Recent: domain.InteractionsToPB(r.Recent), GenreAffinity: r.Affinity,
		Quotas: q, K: int32(r.K),
	}
}

func responseToPB(r Response) *pb.RecallResponse {
	per := make(map[string]int32, len(r.PerChannel))
	for k, v := range r.PerChannel {
		per[k] = int32(v)
	}
	return &pb.RecallResponse{Candidates: domain.CandidatesToPB(r.Candidates, true), PerChannel: per, ModelVersion: r.ModelVersion}
}

func responseFromPB(r *pb.RecallResponse) (Response, error) {
	cands, err := domain.CandidatesFromPB(r.GetCandidates())
	if err != nil {
		return Response{}, err
	}
	return Response{Candidates: cands, PerChannel: intMap(r.GetPerChannel()), ModelVersion: r.GetModelVersion()}, nil
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
