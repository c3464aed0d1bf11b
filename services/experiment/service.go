// Package experiment is the experiment service, the source of truth for
// layers, experiments and variants. In this mode the config comes from a
// file; GetConfig returns it with its version.
package experiment

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/go-kit/kit/endpoint"

	"github.com/recmesh/recmesh/pkg/abtest"
	"github.com/recmesh/recmesh/pkg/apierr"
	"github.com/recmesh/recmesh/pkg/kitendpoint"
)

// Service is the experiment service's business interface.
type Service interface {
	GetConfig(ctx context.Context) (*abtest.Config, error)
}

// ErrNoConfig means no config has been loaded; it is an infrastructure failure.
var ErrNoConfig = errors.New("experiment: no config loaded")

// Configs holds the current config and can be replaced while serving.
type Configs struct{ cur atomic.Pointer[abtest.Config] }

// New returns a service serving cfg, which must be valid.
func New(cfg *abtest.Config) *Configs {
	c := &Configs{}
	c.cur.Store(cfg)
	return c
}

// Set replaces the config after validating it.
func (c *Configs) Set(cfg *abtest.Config) error {
	if err := cfg.Validate(); err != nil {
		return apierr.Invalid("%v", err)
	}
	c.cur.Store(cfg)
	return nil
}

// GetConfig implements Service.
func (c *Configs) GetConfig(context.Context) (*abtest.Config, error) {
	cfg := c.cur.Load()
	if cfg == nil {
		return nil, ErrNoConfig
	}
	return cfg, nil
}

// MakeGetConfigEndpoint wires the GetConfig endpoint to s.
func MakeGetConfigEndpoint(s Service) endpoint.Endpoint {
	return kitendpoint.Make(func(ctx context.Context, _ struct{}) (*abtest.Config, error) { return s.GetConfig(ctx) })
}
