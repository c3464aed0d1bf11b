// Package experimentapi is the experiment service's contract: its
// interface, request types, gRPC client and codecs. Callers (the gateway)
// import this package only; the stores and the admin API live in package
// experiment.
package experimentapi

import (
	"context"
	"time"

	"github.com/recmesh/recmesh/pkg/abtest"
)

// Name is the service's name in the registry.
const Name = "experiment"

// MaxWait caps a WatchConfig long poll.
const MaxWait = 30 * time.Second

// Service is the experiment service's business interface.
type Service interface {
	GetConfig(ctx context.Context) (*abtest.Config, error)
	// WatchConfig returns the config as soon as its version differs from
	// known, or the current config once wait has passed.
	WatchConfig(ctx context.Context, known int64, wait time.Duration) (*abtest.Config, error)
}

// WatchRequest is the decoded WatchConfig request.
type WatchRequest struct {
	Known int64
	Wait  time.Duration
}
