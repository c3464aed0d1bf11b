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
