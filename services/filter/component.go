package filter

import (
	"context"
	"time"

	"google.golang.org/grpc"

	"github.com/recmesh/recmesh/pkg/catalog"
	"github.com/recmesh/recmesh/pkg/component"
	"github.com/recmesh/recmesh/pkg/config"
	pb "github.com/recmesh/recmesh/proto/recmesh/v1"
	"github.com/recmesh/recmesh/services/features/featuresapi"
	"github.com/recmesh/recmesh/services/filter/filterapi"
)

// Config is the filter service's configuration.
type Config struct {
	// Blocklist is a file of item ids dropped for everyone; empty for none.
	Blocklist string
	// MaxPerGenre is the default cap of candidates per genre.
	MaxPerGenre int
	// CatalogPoll is how often the catalogue's changes are asked for.
	CatalogPoll time.Duration
}

// Component is the filter service as a component.
type Component struct{ Config Config }

var _ component.Component = (*Component)(nil)

// NewComponent returns the filter component with its defaults.
func NewComponent() *Component { return &Component{} }

// Name implements component.Component.
func (*Component) Name() string { return filterapi.Name }

// Bind implements component.Component.
func (c *Component) Bind(f *config.Flags) {
	f.String(&c.Config.Blocklist, "blocklist", "", "file of item ids (one per line, # comments) the filter drops for everyone")
	f.Int(&c.Config.MaxPerGenre, "max-per-genre", 100, "default cap of candidates per genre; a variant's max_per_genre overrides it")
	catalog.BindPoll(f, &c.Config.CatalogPoll)
}

// Open implements component.Component.
// It follows the catalogue when it can reach the features service.
func (c *Component) Open(_ context.Context, env component.Env) (*component.Service, error) {
	blocked, err := LoadBlocklist(c.Config.Blocklist)
	if err != nil {
		return nil, err
	}
	view := catalog.NewView(true)
	f := New(c.Config.MaxPerGenre, blocked).WithCatalog(view)
	stop := featuresapi.FollowCatalog(env, view, c.Config.CatalogPoll)
	return &component.Service{
		Register: func(s *grpc.Server) { pb.RegisterFilterServiceServer(s, NewGRPCServer(MakeFilterEndpoint(f))) },
		Close:    func(context.Context) error { stop(); return nil },
	}, nil
}
