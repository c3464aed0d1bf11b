package recall

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc"

	"github.com/recmesh/recmesh/pkg/artifact"
	"github.com/recmesh/recmesh/pkg/catalog"
	"github.com/recmesh/recmesh/pkg/component"
	"github.com/recmesh/recmesh/pkg/config"
	pb "github.com/recmesh/recmesh/proto/recmesh/v1"
	"github.com/recmesh/recmesh/services/features/featuresapi"
	"github.com/recmesh/recmesh/services/recall/recallapi"
)

// Component is the recall service as a component: where its model
// artifacts are (-model-dir, -model-poll), how it follows the catalogue
// (-catalog-poll) and the fresh channel's decay.
type Component struct {
	Models artifact.Config
	// CatalogPoll is how often the catalogue's changes are asked for.
	CatalogPoll time.Duration
	Options     Options
}

var _ component.Component = (*Component)(nil)

// NewComponent returns the recall component with its defaults.
func NewComponent() *Component { return &Component{} }

// Name implements component.Component.
func (*Component) Name() string { return recallapi.Name }

// Bind implements component.Component.
func (c *Component) Bind(f *config.Flags) {
	c.Models.Bind(f)
	catalog.BindPoll(f, &c.CatalogPoll)
	d := DefaultOptions()
	f.Duration(&c.Options.FreshHalfLife, "fresh-half-life", d.FreshHalfLife, "age at which a new item's fresh-channel score halves")
	f.Duration(&c.Options.FreshMaxAge, "fresh-max-age", d.FreshMaxAge, "oldest an item may be for the fresh channel")
}

// Open implements component.Component: it loads the current model version
// and swaps in every newer one that is published, and follows the
// catalogue when it can reach the features service.
func (c *Component) Open(_ context.Context, env component.Env) (*component.Service, error) {
	opts := c.Options
	if opts.FreshHalfLife <= 0 || opts.FreshMaxAge <= 0 {
		opts = DefaultOptions()
	}
	view := catalog.NewView(false)
	r := New(nil).WithCatalog(view, opts)
	load := func(set *artifact.Set) error {
		idx, err := LoadIndex(set)
		if err == nil {
			r.SetIndex(idx)
		}
		return err
	}
	stop, err := c.Models.Follow(env.Log, artifact.NewMetrics(env.Metrics), load, load)
	if err != nil {
		return nil, fmt.Errorf("recall: %w", err)
	}
	stopCatalog := featuresapi.FollowCatalog(env, view, c.CatalogPoll)
	return &component.Service{
		Register: func(s *grpc.Server) { pb.RegisterRecallServiceServer(s, NewGRPCServer(MakeRecallEndpoint(r))) },
		Ready:    r.Ready,
		Close: func(context.Context) error {
			stopCatalog()
			stop()
			return nil
		},
	}, nil
}
