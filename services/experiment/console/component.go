package console

import (
	"context"
	"net/http"

	"github.com/recmesh/recmesh/pkg/component"
	"github.com/recmesh/recmesh/pkg/config"
	"github.com/recmesh/recmesh/pkg/registry"
	"github.com/recmesh/recmesh/services/experiment"
)

// Config is the console's configuration.
type Config struct {
	// Gateway is the gateway's base URL for "try a user"; empty finds a
	// gateway in the registry.
	Gateway string
	// APIKey is sent to the gateway when it requires API keys.
	APIKey string `secret:"true"`
}

// Component is the experiment service with the operator console mounted
// on its admin port (when it has an admin token).
type Component struct {
	*experiment.Component
	Console Config
}

var _ component.Component = (*Component)(nil)

// WithConsole returns the experiment component with the console.
func WithConsole(c *experiment.Component) *Component { return &Component{Component: c} }

// Bind implements component.Component.
func (c *Component) Bind(f *config.Flags) {
	c.Component.Bind(f)
	f.String(&c.Console.Gateway, "console-gateway", "", "gateway base URL the console's \"try a user\" asks (empty: a gateway found in the registry)")
	f.String(&c.Console.APIKey, "console-api-key", "", "API key the console sends to the gateway when it requires one")
}

// Open implements component.Component: the experiment service, plus the
// console's routes on its admin mux.
func (c *Component) Open(ctx context.Context, env component.Env) (*component.Service, error) {
	svc, err := c.Component.Open(ctx, env)
	if err != nil {
		return nil, err
	}
	con := &Console{Admin: c.Component.Admin(), Log: env.Log, APIKey: c.Console.APIKey,
		Gateway: gatewayURL(c.Console.Gateway, env.Registry)}
	mount := svc.Admin
	svc.Admin = func(mux *http.ServeMux) {
		if mount != nil {
			mount(mux)
		}
		if err := con.Register(mux); err != nil {
			env.Log.Error("console not mounted", "err", err)
		}
	}
	return svc, nil
}

// gatewayURL is fixed when given, else the first gateway in the registry.
func gatewayURL(fixed string, reg registry.Registry) func(context.Context) string {
	return func(ctx context.Context) string {
		if fixed != "" || reg == nil {
			return fixed
		}
		list, _, err := reg.Instances(ctx, "gateway")
		if err != nil || len(list) == 0 {
			return ""
		}
		return "http://" + list[0].Addr
	}
}
