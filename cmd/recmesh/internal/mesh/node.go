package mesh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/recmesh/recmesh/pkg/component"
	rlog "github.com/recmesh/recmesh/pkg/log"
	"github.com/recmesh/recmesh/pkg/registry"
	"github.com/recmesh/recmesh/pkg/run"
	"github.com/recmesh/recmesh/pkg/telemetry"
)

// NodeOptions configure one service running as its own process (dev and
// production modes).
type NodeOptions struct {
	// Component is the service, configured.
	Component component.Component
	// Version is published as the version=… tag.
	Version             string
	GRPCAddr, AdminAddr string
	// PprofToken turns on pprof on the admin port (see run.Spec).
	PprofToken string
	// Advertise is the host published in the registry (see run.Spec).
	Advertise    string
	Registry     registry.Registry
	OTLPEndpoint string
	Log          io.Writer
	LogLevel     slog.Level
}

// Node is one running service.
type Node struct {
	svc     *component.Service
	running *run.Running
	tp      *sdktrace.TracerProvider
}

// StartNode opens the component, serves it, registers it and returns once
// it is serving.
func StartNode(ctx context.Context, o NodeOptions) (_ *Node, err error) {
	name := o.Component.Name()
	log := rlog.New(o.Log, name, o.LogLevel)
	metrics := telemetry.NewRegistry()
	n := &Node{}
	if n.tp, err = telemetry.NewTracerProvider(ctx, name, o.OTLPEndpoint); err != nil {
		return nil, err
	}
	n.svc, err = o.Component.Open(ctx, component.Env{Log: log, Metrics: metrics, Progress: o.Log, Registry: o.Registry, Tracer: n.tp})
	if err != nil {
		_ = n.tp.Shutdown(context.Background())
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	defer func() {
		if err != nil {
			_ = n.svc.Shutdown(context.Background())
		}
	}()
	n.running, err = run.Start(ctx, run.Spec{
		Name: name, Version: o.Version, GRPCAddr: o.GRPCAddr, AdminAddr: o.AdminAddr, PprofToken: o.PprofToken, Advertise: o.Advertise, Registry: o.Registry,
		Register: n.svc.Register, Ready: n.svc.Ready, Admin: n.svc.Admin, Metrics: metrics, Tracer: n.tp, Logger: log,
	})
	if err != nil {
		_ = n.tp.Shutdown(context.Background())
		return nil, err
	}
	return n, nil
}

// GRPCAddr and AdminAddr are the bound addresses.
func (n *Node) GRPCAddr() string  { return n.running.GRPCAddr() }
func (n *Node) AdminAddr() string { return n.running.AdminAddr() }

// Stop deregisters, drains and stops the service, closes its stores, then
// flushes its traces.
func (n *Node) Stop(ctx context.Context) error {
	err := n.running.Stop(ctx)
	return errors.Join(err, n.svc.Shutdown(ctx), n.tp.Shutdown(ctx))
}
