// Package registry is how recmesh services find each other. Registry is the
// interface; Static is the in-process implementation used by the embedded
// mode and by tests, and Consul is the real one.
package registry

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Instance is one running copy of a service.
type Instance struct {
	ID      string
	Service string
	// Addr is the gRPC host:port.
	Addr string
	// Tags hold key=value labels such as version=v2.
	Tags []string
	// Meta is free-form metadata (the admin address, say).
	Meta map[string]string
	// HTTPCheck, when set, is the path of an HTTP health check on Addr
	// (the gateway's /readyz); otherwise the instance is checked with the
	// standard gRPC health service.
	HTTPCheck string
}

// Version is the value of the instance's version=… tag, or "".
func (i Instance) Version() string {
	for _, t := range i.Tags {
		if v, ok := strings.CutPrefix(t, "version="); ok {
			return v
		}
	}
	return ""
}

// Registry registers instances and lists the healthy ones.
type Registry interface {
	Register(ctx context.Context, in Instance) error
	Deregister(ctx context.Context, in Instance) error
	// Instances lists the healthy instances of service. index changes
	// whenever the list does, so callers can cache what they derive from it.
	Instances(ctx context.Context, service string) (list []Instance, index uint64, err error)
}

// Static is an in-memory Registry. Its lists are replaced, never mutated, so
// a returned slice stays valid.
type Static struct {
	mu    sync.RWMutex
	by    map[string][]Instance
	index uint64
}

// NewStatic returns an empty static registry.
func NewStatic() *Static { return &Static{by: map[string][]Instance{}} }

// Register adds or replaces the instance with in.ID.
func (s *Static) Register(_ context.Context, in Instance) error {
	if in.ID == "" || in.Service == "" || in.Addr == "" {
		return fmt.Errorf("register: instance needs an id, a service and an address: %+v", in)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	list := slices.DeleteFunc(slices.Clone(s.by[in.Service]), func(x Instance) bool { return x.ID == in.ID })
	s.by[in.Service] = append(list, in)
	s.index++
	return nil
}

// Deregister removes the instance with in.ID.
func (s *Static) Deregister(_ context.Context, in Instance) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.by[in.Service] = slices.DeleteFunc(slices.Clone(s.by[in.Service]), func(x Instance) bool { return x.ID == in.ID })
	s.index++
	return nil
}

// Instances lists the registered instances of service.
func (s *Static) Instances(_ context.Context, service string) ([]Instance, uint64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.by[service], s.index, nil
}
