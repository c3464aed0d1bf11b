package featuresapi

import (
	"github.com/recmesh/recmesh/pkg/domain"
	pb "github.com/recmesh/recmesh/proto/recmesh/v1"
)

// GetUserFeaturesRequestToPB encodes a GetUserFeatures request.
func GetUserFeaturesRequestToPB(r GetUserFeaturesRequest) *pb.GetUserFeaturesRequest {
	return &pb.GetUserFeaturesRequest{UserId: r.UserID, RecentLimit: int32(r.RecentLimit)}
}

// GetUserFeaturesRequestFromPB decodes a GetUserFeatures request.
func GetUserFeaturesRequestFromPB(r *pb.GetUserFeaturesRequest) (GetUserFeaturesRequest, error) {
	return GetUserFeaturesRequest{UserID: r.GetUserId(), RecentLimit: int(r.GetRecentLimit())}, nil
}

// UserFeaturesToPB encodes a GetUserFeatures reply.
func UserFeaturesToPB(f domain.UserFeatures) *pb.GetUserFeaturesResponse {
	return &pb.GetUserFeaturesResponse{Features: domain.UserFeaturesToPB(f)}
}

// UserFeaturesFromPB decodes a GetUserFeatures reply.
func UserFeaturesFromPB(r *pb.GetUserFeaturesResponse) domain.UserFeatures {
	return domain.UserFeaturesFromPB(r.GetFeatures())
}

// EventsToPB encodes an IngestEvents request.
func EventsToPB(events []domain.Event) *pb.IngestEventsRequest {
	return &pb.IngestEventsRequest{Events: domain.EventsToPB(events)}
}

// EventsFromPB decodes an IngestEvents request.
func EventsFromPB(r *pb.IngestEventsRequest) ([]domain.Event, error) {
	return domain.EventsFromPB(r.GetEvents()), nil
}

// AcceptedToPB encodes an IngestEvents reply.
func AcceptedToPB(n int) *pb.IngestEventsResponse {
	return &pb.IngestEventsResponse{Accepted: int32(n)}
}

// AcceptedFromPB decodes an IngestEvents reply.
func AcceptedFromPB(r *pb.IngestEventsResponse) int { return int(r.GetAccepted()) }

// ItemIDToPB encodes a GetItem request.
func ItemIDToPB(id int64) *pb.GetItemRequest { return &pb.GetItemRequest{ItemId: id} }

// ItemIDFromPB decodes a GetItem request.
func ItemIDFromPB(r *pb.GetItemRequest) (int64, error) { return r.GetItemId(), nil }

// ItemToPB encodes a GetItem reply.
func ItemToPB(it domain.Item) *pb.GetItemResponse {
	return &pb.GetItemResponse{Item: domain.ItemToPB(it)}
}

// ItemFromPB decodes a GetItem reply.
func ItemFromPB(r *pb.GetItemResponse) domain.Item { return domain.ItemFromPB(r.GetItem()) }

// ShownRepliesToPB encodes a LogExposures request.
func ShownRepliesToPB(replies []domain.ShownReply) *pb.LogExposuresRequest {
	return &pb.LogExposuresRequest{Replies: domain.ShownRepliesToPB(replies)}
}

// ShownRepliesFromPB decodes a LogExposures request.
func ShownRepliesFromPB(r *pb.LogExposuresRequest) ([]domain.ShownReply, error) {
	return domain.ShownRepliesFromPB(r.GetReplies()), nil
}

// RowsToPB encodes a LogExposures reply.
func RowsToPB(n int) *pb.LogExposuresResponse { return &pb.LogExposuresResponse{Rows: int32(n)} }

// RowsFromPB decodes a LogExposures reply.
func RowsFromPB(r *pb.LogExposuresResponse) int { return int(r.GetRows()) }

// ExposureQueryToPB encodes an ExposureStats request.
func ExposureQueryToPB(q domain.ExposureQuery) *pb.ExposureStatsRequest {
	return &pb.ExposureStatsRequest{Layer: q.Layer, Experiment: q.Experiment, SinceUnixMs: q.SinceMillis}
}

// ExposureQueryFromPB decodes an ExposureStats request.
func ExposureQueryFromPB(r *pb.ExposureStatsRequest) (domain.ExposureQuery, error) {
	return domain.ExposureQuery{Layer: r.GetLayer(), Experiment: r.GetExperiment(), SinceMillis: r.GetSinceUnixMs()}, nil
}

// ArmStatsToPB encodes an ExposureStats reply.
func ArmStatsToPB(arms []domain.ArmStats) *pb.ExposureStatsResponse {
	return &pb.ExposureStatsResponse{Arms: domain.ArmStatsToPB(arms)}
}

// ArmStatsFromPB decodes an ExposureStats reply.
func ArmStatsFromPB(r *pb.ExposureStatsResponse) []domain.ArmStats {
	return domain.ArmStatsFromPB(r.GetArms())
}
