package balancer

import (
	"context"
	"fmt"
	"sync"

	"google.golang.org/grpc"

	"github.com/recmesh/recmesh/pkg/apierr"
	"github.com/recmesh/recmesh/pkg/registry"
)

// Picker hands out a gRPC connection to one instance of a service, chosen by
// a consistent-hash ring over the instances with the requested version tag.
// Connections are dialled lazily and reused.
type Picker struct {
	reg     registry.Registry
	service string
	dial    []grpc.DialOption

	mu    sync.Mutex
	index uint64
	rings map[string]*Ring // by version; "" is every instance
	conns map[string]*grpc.ClientConn
}

// NewPicker returns a picker for service.
func NewPicker(reg registry.Registry, service string, dial ...grpc.DialOption) *Picker {
	return &Picker{reg: reg, service: service, dial: dial, conns: map[string]*grpc.ClientConn{}}
}

// ErrNoInstance is returned when no healthy instance of the service (and
// version) is registered. It is an infrastructure failure.
var ErrNoInstance = fmt.Errorf("no instance available")

// Conn returns the connection for key among instances tagged with version
// ("" for any version).
func (p *Picker) Conn(ctx context.Context, key, version string) (*grpc.ClientConn, error) {
	list, index, err := p.reg.Instances(ctx, p.service)
	if err != nil {
		return nil, fmt.Errorf("list %s instances: %w", p.service, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if index != p.index || p.rings == nil {
		p.rebuild(list, index)
	}
	ring, ok := p.rings[version]
	if !ok {
		return nil, fmt.Errorf("%s version %q: %w", p.service, version, ErrNoInstance)
	}
	addr := ring.Get(key)
	if addr == "" {
		return nil, fmt.Errorf("%s: %w", p.service, ErrNoInstance)
	}
	if c, ok := p.conns[addr]; ok {
		return c, nil
	}
	c, err := grpc.NewClient(addr, p.dial...)
	if err != nil {
		return nil, &apierr.Error{Kind: apierr.KindUnavailable, Message: err.Error()}
	}
	p.conns[addr] = c
	return c, nil
}

// rebuild recomputes the rings and closes connections to departed instances.
func (p *Picker) rebuild(list []registry.Instance, index uint64) {
	byVersion := map[string][]string{}
	live := map[string]bool{}
	for _, in := range list {
		byVersion[""] = append(byVersion[""], in.Addr)
		if v := in.Version(); v != "" {
			byVersion[v] = append(byVersion[v], in.Addr)
		}
		live[in.Addr] = true
	}
	p.rings = make(map[string]*Ring, len(byVersion))
	for v, addrs := range byVersion {
		p.rings[v] = NewRing(addrs, DefaultReplicas)
	}
	for addr, c := range p.conns {
		if !live[addr] {
			_ = c.Close()
			delete(p.conns, addr)
		}
	}
	p.index = index
}

// Close closes every connection.
func (p *Picker) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for addr, c := range p.conns {
		_ = c.Close()
		delete(p.conns, addr)
	}
	return nil
}
