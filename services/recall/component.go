package recall

import (
	"context"
	"fmt"

	"google.golang.org/grpc"

	"github.com/recmesh/recmesh/pkg/artifact"
	"github.com/recmesh/recmesh/pkg/component"
	pb "github.com/recmesh/recmesh/proto/recmesh/v1"
	"github.com/recmesh/recmesh/services/recall/recallapi"
)

// Component is the recall service as a component; its configuration is
// where its model artifacts are, and its flags are that config's
// (-model-dir, -model-poll).
type Component struct{ artifact.Config }

var _ component.Component = (*Component)(nil)

// NewComponent returns the recall component with its defaults.
func NewComponent() *Component { return &Component{} }

// Name implements component.Component.
func (*Component) Name() string { return recallapi.Name }

// Open implements component.Component: it loads the current model version
// and swaps in every newer one that is published.
func (c *Component) Open(_ context.Context, env component.Env) (*component.Service, error) {
	r := New(nil)
	load := func(set *artifact.Set) error {
		idx, err := LoadIndex(set)
		if err == nil {
			r.SetIndex(idx)
		}
		return err
	}
	stop, err := c.Config.Follow(env.Log, artifact.NewMetrics(env.Metrics), load, load)
	if err != nil {
		return nil, fmt.Errorf("recall: %w", err)
	}
	return &component.Service{
		Register: func(s *grpc.Server) { pb.RegisterRecallServiceServer(s, NewGRPCServer(MakeRecallEndpoint(r))) },
		Ready:    r.Ready,
		Close:    func(context.Context) error { stop(); return nil },
	}, nil
}
