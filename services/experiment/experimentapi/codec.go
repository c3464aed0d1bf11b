package experimentapi

import (
	"time"

	"github.com/recmesh/recmesh/pkg/abtest"
	pb "github.com/recmesh/recmesh/proto/recmesh/v1"
)

// ConfigToPB encodes a GetConfig or WatchConfig reply.
func ConfigToPB(c *abtest.Config) *pb.GetConfigResponse {
	return &pb.GetConfigResponse{Config: c.ToPB()}
}

// ConfigFromPB decodes a GetConfig or WatchConfig reply; the caller
// validates the config it receives.
func ConfigFromPB(r *pb.GetConfigResponse) *abtest.Config { return abtest.ConfigFromPB(r.GetConfig()) }

// GetConfigRequestFromPB decodes a GetConfig request, which carries nothing.
func GetConfigRequestFromPB(*pb.GetConfigRequest) (struct{}, error) { return struct{}{}, nil }

// WatchRequestToPB encodes a WatchConfig request.
func WatchRequestToPB(r WatchRequest) *pb.WatchConfigRequest {
	return &pb.WatchConfigRequest{KnownVersion: r.Known, WaitMs: int32(r.Wait / time.Millisecond)}
}

// WatchRequestFromPB decodes a WatchConfig request.
func WatchRequestFromPB(r *pb.WatchConfigRequest) (WatchRequest, error) {
	return WatchRequest{Known: r.GetKnownVersion(), Wait: time.Duration(r.GetWaitMs()) * time.Millisecond}, nil
}
