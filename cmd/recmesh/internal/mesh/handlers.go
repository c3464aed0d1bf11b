package mesh

import (
	"log/slog"
	"time"

	"google.golang.org/grpc"

	"github.com/recmesh/recmesh/pkg/artifact"
	pb "github.com/recmesh/recmesh/proto/recmesh/v1"
	"github.com/recmesh/recmesh/services/experiment"
	"github.com/recmesh/recmesh/services/features"
	"github.com/recmesh/recmesh/services/features/featuresapi"
	"github.com/recmesh/recmesh/services/filter"
	"github.com/recmesh/recmesh/services/ranking"
	"github.com/recmesh/recmesh/services/recall"
)

// The gRPC handlers of each service over its implementation, shared by the
// embedded mesh and the one-service processes of the dev mode.

func featuresHandlers(svc featuresapi.Service) func(*grpc.Server) {
	return func(s *grpc.Server) {
		pb.RegisterFeaturesServiceServer(s, features.NewGRPCServer(features.MakeEndpoints(svc)))
	}
}

func recallHandlers(r *recall.Recaller) func(*grpc.Server) {
	return func(s *grpc.Server) {
		pb.RegisterRecallServiceServer(s, recall.NewGRPCServer(recall.MakeRecallEndpoint(r)))
	}
}

func filterHandlers(f *filter.Filterer) func(*grpc.Server) {
	return func(s *grpc.Server) {
		pb.RegisterFilterServiceServer(s, filter.NewGRPCServer(filter.MakeFilterEndpoint(f)))
	}
}

func rankingHandlers(r *ranking.Ranker) func(*grpc.Server) {
	return func(s *grpc.Server) {
		pb.RegisterRankingServiceServer(s, ranking.NewGRPCServer(ranking.MakeRankEndpoint(r)))
	}
}

func experimentHandlers(c *experiment.Configs) func(*grpc.Server) {
	return func(s *grpc.Server) {
		pb.RegisterExperimentServiceServer(s, experiment.NewGRPCServer(
			experiment.MakeGetConfigEndpoint(c), experiment.MakeWatchConfigEndpoint(c)))
	}
}

// recallWatcher swaps newly published model versions into recall.
func recallWatcher(models artifact.Store, every time.Duration, loaded string, r *recall.Recaller, log *slog.Logger) *artifact.Watcher {
	return &artifact.Watcher{Store: models, Every: every, Loaded: loaded, Log: log, Load: func(set *artifact.Set) error {
		idx, err := recall.LoadIndex(set)
		if err == nil {
			r.SetIndex(idx)
		}
		return err
	}}
}

// rankingWatcher publishes newly published model versions in ranking.
func rankingWatcher(models artifact.Store, every time.Duration, loaded string, r *ranking.Ranker, log *slog.Logger) *artifact.Watcher {
	return &artifact.Watcher{Store: models, Every: every, Loaded: loaded, Log: log, Load: func(set *artifact.Set) error {
		model, err := ranking.LoadModel(set)
		if err == nil {
			r.Publish(model, ranking.DefaultKeep)
		}
		return err
	}}
}
