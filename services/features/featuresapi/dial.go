package featuresapi

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/recmesh/recmesh/pkg/balancer"
	"github.com/recmesh/recmesh/pkg/catalog"
	"github.com/recmesh/recmesh/pkg/component"
	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/pkg/registry"
	"github.com/recmesh/recmesh/pkg/run"
)

// Dial returns a client of the features service for another service
// (recall and filter follow its catalogue, experiment reads its exposure
// log), discovering instances through reg and tracing calls with tp (nil:
// untraced). The returned func closes its connections.
func Dial(reg registry.Registry, tp trace.TracerProvider) (*Client, func()) {
	p := balancer.NewPicker(reg, Name, run.ClientDialOptions(tp)...)
	return NewClient(p), func() { _ = p.Close() }
}

// Feed is c's catalogue change feed, as catalog.Follow reads it.
func Feed(c Catalog) catalog.Feed {
	return func(ctx context.Context, since int64) ([]domain.Item, int64, error) {
		ch, err := c.ItemChanges(ctx, since, 0)
		return ch.Items, ch.Next, err
	}
}

// FollowCatalog keeps view current from the features service found in
// env's registry, polling every poll; without a registry the view stays
// empty (a recall serves its trained index alone). stop ends it.
func FollowCatalog(env component.Env, view *catalog.View, poll time.Duration) (stop func()) {
	if env.Registry == nil {
		return func() {}
	}
	client, closeClient := Dial(env.Registry, env.Tracer)
	stopFollow := catalog.Follow(Feed(client), view, poll, env.Metrics, env.Log)
	return func() {
		stopFollow()
		closeClient()
	}
}
