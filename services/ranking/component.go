package ranking

import (
	"context"
	"fmt"

	"google.golang.org/grpc"

	"github.com/recmesh/recmesh/pkg/artifact"
	"github.com/recmesh/recmesh/pkg/component"
	pb "github.com/recmesh/recmesh/proto/recmesh/v1"
	"github.com/recmesh/recmesh/services/ranking/rankingapi"
)

// Component is the ranking service as a component; its configuration is
// where its model artifacts are, and its flags are that config's
// (-model-dir, -model-poll).
type Component struct{ artifact.Config }

var _ component.Component = (*Component)(nil)

// NewComponent returns the ranking component with its defaults.
func NewComponent() *Component { return &Component{} }

// Name implements component.Component.
func (*Component) Name() string { return rankingapi.Name }

// Open implements component.Component: it loads the current model version
// and the newest older ones (so variants can pin them), and publishes every
// newer version that appears.
func (c *Component) Open(_ context.Context, env component.Env) (*component.Service, error) {
	var r *Ranker
	stop, err := c.Config.Follow(env.Log, artifact.NewMetrics(env.Metrics),
		func(set *artifact.Set) (err error) {
			r, err = LoadRanker(artifact.Store{Dir: c.Config.Dir}, set)
			return err
		},
		func(set *artifact.Set) error {
			model, err := LoadModel(set)
			if err == nil {
				r.Publish(model, DefaultKeep)
			}
			return err
		})
	if err != nil {
		return nil, fmt.Errorf("ranking: %w", err)
	}
	return &component.Service{
		Register: func(s *grpc.Server) { pb.RegisterRankingServiceServer(s, NewGRPCServer(MakeRankEndpoint(r))) },
		Ready:    r.Ready,
		Close:    func(context.Context) error { stop(); return nil },
	}, nil
}

// LoadRanker loads the current ranking model and the newest older ones, so
// that variants can pin them from the start.
func LoadRanker(models artifact.Store, current *artifact.Set) (*Ranker, error) {
	r := New(nil)
	versions, err := models.Versions()
	if err != nil {
		return nil, err
	}
	var older []string
	for _, v := range versions {
		if v < current.Manifest.Version {
			older = append(older, v)
		}
	}
	for _, v := range older[max(0, len(older)-(DefaultKeep-1)):] {
		set, err := models.Open(v)
		if err != nil {
			continue // an unreadable old version is only unpinnable
		}
		if m, err := LoadModel(set); err == nil {
			r.Publish(m, DefaultKeep)
		}
	}
	cur, err := LoadModel(current)
	if err != nil {
		return nil, err
	}
	r.Publish(cur, DefaultKeep)
	return r, nil
}
