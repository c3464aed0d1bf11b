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
func EventsToPB(b domain.EventBatch) *pb.IngestEventsRequest {
	return &pb.IngestEventsRequest{Events: domain.EventsToPB(b.Events), IdempotencyKey: b.IdempotencyKey}
}

// EventsFromPB decodes an IngestEvents request.
func EventsFromPB(r *pb.IngestEventsRequest) (domain.EventBatch, error) {
	return domain.EventBatch{Events: domain.EventsFromPB(r.GetEvents()), IdempotencyKey: r.GetIdempotencyKey()}, nil
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

// ItemsToPB encodes a PutItems request.
func ItemsToPB(items []domain.Item) *pb.PutItemsRequest {
	return &pb.PutItemsRequest{Items: domain.ItemsToPB(items)}
}

// ItemsFromPB decodes a PutItems request.
func ItemsFromPB(r *pb.PutItemsRequest) ([]domain.Item, error) {
	return domain.ItemsFromPB(r.GetItems()), nil
}

// PutItemsReplyToPB encodes a PutItems reply.
func PutItemsReplyToPB(items []domain.Item) *pb.PutItemsResponse {
	return &pb.PutItemsResponse{Items: domain.ItemsToPB(items)}
}

// PutItemsReplyFromPB decodes a PutItems reply.
func PutItemsReplyFromPB(r *pb.PutItemsResponse) []domain.Item {
	return domain.ItemsFromPB(r.GetItems())
}

// PatchToPB encodes a PatchItem request.
func PatchToPB(r PatchRequest) *pb.PatchItemRequest { return domain.ItemPatchToPB(r.ID, r.Patch) }

// PatchFromPB decodes a PatchItem request.
func PatchFromPB(r *pb.PatchItemRequest) (PatchRequest, error) {
	id, p := domain.ItemPatchFromPB(r)
	return PatchRequest{ID: id, Patch: p}, nil
}

// ItemChangesRequestToPB encodes an ItemChanges request.
func ItemChangesRequestToPB(r ItemChangesRequest) *pb.ItemChangesRequest {
	return &pb.ItemChangesRequest{SinceRev: r.Since, Limit: int32(r.Limit)}
}

// ItemChangesRequestFromPB decodes an ItemChanges request.
func ItemChangesRequestFromPB(r *pb.ItemChangesRequest) (ItemChangesRequest, error) {
	return ItemChangesRequest{Since: r.GetSinceRev(), Limit: int(r.GetLimit())}, nil
}

// ItemChangesToPB encodes an ItemChanges reply.
func ItemChangesToPB(c ItemChanges) *pb.ItemChangesResponse {
	return &pb.ItemChangesResponse{Items: domain.ItemsToPB(c.Items), NextRev: c.Next}
}

// ItemChangesFromPB decodes an ItemChanges reply.
func ItemChangesFromPB(r *pb.ItemChangesResponse) ItemChanges {
	return ItemChanges{Items: domain.ItemsFromPB(r.GetItems()), Next: r.GetNextRev()}
}

// ProfileToPB encodes a PutUserProfile request.
func ProfileToPB(r ProfileRequest) *pb.PutUserProfileRequest {
	return &pb.PutUserProfileRequest{UserId: r.UserID, Profile: r.Profile}
}

// ProfileFromPB decodes a PutUserProfile request.
func ProfileFromPB(r *pb.PutUserProfileRequest) (ProfileRequest, error) {
	return ProfileRequest{UserID: r.GetUserId(), Profile: r.GetProfile()}, nil
}

// EmptyToPB encodes PutUserProfile's empty reply.
func EmptyToPB(struct{}) *pb.PutUserProfileResponse { return &pb.PutUserProfileResponse{} }

// UserIDToPB encodes a ForgetUser request.
func UserIDToPB(id string) *pb.ForgetUserRequest { return &pb.ForgetUserRequest{UserId: id} }

// UserIDFromPB decodes a ForgetUser request.
func UserIDFromPB(r *pb.ForgetUserRequest) (string, error) { return r.GetUserId(), nil }

// ForgottenToPB encodes a ForgetUser reply.
func ForgottenToPB(f Forgotten) *pb.ForgetUserResponse {
	return &pb.ForgetUserResponse{Events: f.Events, Exposures: f.Exposures}
}

// ForgottenFromPB decodes a ForgetUser reply.
func ForgottenFromPB(r *pb.ForgetUserResponse) Forgotten {
	return Forgotten{Events: r.GetEvents(), Exposures: r.GetExposures()}
}
