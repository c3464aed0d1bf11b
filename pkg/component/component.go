// Package component is the one shape every recmesh service has: a name,
// its flags, its stores built from configuration, its gRPC handlers and its
// readiness. `recmesh all`, the one-service commands and `make dev` loop over
// one list of components; none of them knows a service by name.
package component

import (
	"context"
	"io"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"

	"github.com/recmesh/recmesh/pkg/config"
	"github.com/recmesh/recmesh/pkg/registry"
)

// Component is one service, before it runs. A value carries the service's
// configuration, so each command makes its own (see the New func of each
// service package).
type Component interface {
	// Name is the service's name in the registry, in traces and on the
	// command line.
	Name() string
	// Bind registers the service's flags. A flag that means the same thing
	// in several services (-store, -model-dir) has the same name in each,
	// and config.Flags binds it once for all of them.
	Bind(f *config.Flags)
	// Open builds the service from its bound configuration: it opens its
	// stores (chosen by URL, see each store package's Open), loads what it
	// serves and starts its background work.
	Open(ctx context.Context, env Env) (*Service, error)
}

// Env is what a process gives every component it opens.
type Env struct {
	Log *slog.Logger
	// Metrics receives the service's own metrics.
	Metrics prometheus.Registerer
	// Progress receives progress lines of long start-up work (an import);
	// nil discards them.
	Progress io.Writer
	// Registry finds the other services, for a component that calls one
	// (experiment reads results from features); nil when there is none.
	Registry registry.Registry
	// Tracer traces the component's outgoing calls; nil for none.
	Tracer trace.TracerProvider
}

// Service is an opened component, ready to be served by run.Start.
type Service struct {
	// Register installs the gRPC handlers.
	Register func(*grpc.Server)
	// Ready reports whether the service can take traffic; nil means always.
	Ready func(context.Context) error
	// Admin mounts extra routes on the admin port; nil adds none.
	Admin func(*http.ServeMux)
	// Close stops the background work and closes the stores; nil means
	// nothing to close.
	Close func(context.Context) error
}

// Shutdown runs s.Close, if there is one.
func (s *Service) Shutdown(ctx context.Context) error {
	if s == nil || s.Close == nil {
		return nil
	}
	return s.Close(ctx)
}

// Names lists the components' names, in order.
func Names(cs []Component) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Name()
	}
	return out
}
