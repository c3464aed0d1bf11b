package balancer

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

	"google.golang.org/grpc"

	"github.com/recmesh/recmesh/pkg/apierr"
	"github.com/recmesh/recmesh/pkg/registry"
)

// Picker hands out a gRPC connection to one instance of a service, chosen by
// a consistent-hash ring with bounded loads over the instances with the
// requested version tag: a user sticks to one warm instance unless that
// instance already carries more than (1+Epsilon) times the mean of the
// requests in flight. A connection to every instance is opened as soon as
// the instance is seen (not on its first request, which would pay for the
// handshake within its budget) and reused.
type Picker struct {
	reg     registry.Registry
	service string
	dial    []grpc.DialOption
	// Epsilon is the bounded-load slack; 0 disables the bound.
	Epsilon float64

	mu       sync.Mutex
	index    uint64
	rings    map[string]*Ring // by version; "" is every instance, "!v2,v3" every one but those versions'
	list     []registry.Instance
	conns    map[string]*grpc.ClientConn
	inflight map[string]int
	total    map[string]int // in flight per version ring
}

// DefaultEpsilon lets an instance take 25% more than the mean load before
// keys spill to the next instance on the ring.
const DefaultEpsilon = 0.25

// NewPicker returns a picker for service.
func NewPicker(reg registry.Registry, service string, dial ...grpc.DialOption) *Picker {
	return &Picker{reg: reg, service: service, dial: dial, Epsilon: DefaultEpsilon,
		conns: map[string]*grpc.ClientConn{}, inflight: map[string]int{}, total: map[string]int{}}
}

// ErrNoInstance is returned when no healthy instance of the service (and
// version) is registered. It is an infrastructure failure.
var ErrNoInstance = fmt.Errorf("no instance available")

// Conn returns the connection for key among instances tagged with version
// ("" for any version), and done, which the caller must call once the
// request is over so the instance's load drops again.
func (p *Picker) Conn(ctx context.Context, key, version string) (conn *grpc.ClientConn, done func(), err error) {
	return p.ConnAvoiding(ctx, key, version, "")
}

// ConnAvoiding is Conn, but skips the instance at avoid (one that just
// refused a connection) when any other instance is available; with none it
// returns ErrNoInstance.
func (p *Picker) ConnAvoiding(ctx context.Context, key, version, avoid string) (conn *grpc.ClientConn, done func(), err error) {
	list, index, err := p.reg.Instances(ctx, p.service)
	if err != nil {
		return nil, nil, fmt.Errorf("list %s instances: %w", p.service, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if index != p.index || p.rings == nil {
		p.rebuild(list, index)
	}
	if version == "" {
		version = p.unreserved(reservedFrom(ctx, p.service))
	}
	ring, ok := p.rings[version]
	if !ok {
		return nil, nil, fmt.Errorf("%s version %q: %w", p.service, version, ErrNoInstance)
	}
	limit := math.MaxInt
	if p.Epsilon > 0 {
		limit = BoundedLimit(p.total[version]+1, ring.Len(), p.Epsilon)
	}
	addr := ring.GetBounded(key, func(m string) int {
		if m == avoid {
			return math.MaxInt
		}
		return p.inflight[m]
	}, limit)
	if addr == "" || addr == avoid {
		return nil, nil, fmt.Errorf("%s: %w", p.service, ErrNoInstance)
	}
	c, err := p.conn(addr)
	if err != nil {
		return nil, nil, err
	}
	p.inflight[addr]++
	p.total[version]++
	var once sync.Once
	return c, func() {
		once.Do(func() {
			p.mu.Lock()
			defer p.mu.Unlock()
			p.inflight[addr]--
			p.total[version]--
		})
	}, nil
}

// unreserved is the ring key of the instances whose version is not in
// reserved, built on first use; "" (every instance) when reserved is empty
// or no other instance exists. p.mu must be held.
func (p *Picker) unreserved(reserved []string) string {
	if len(reserved) == 0 {
		return ""
	}
	key := "!" + strings.Join(reserved, ",")
	if _, ok := p.rings[key]; ok {
		return key
	}
	var addrs []string
	for _, in := range p.list {
		if !slices.Contains(reserved, in.Version()) {
			addrs = append(addrs, in.Addr)
		}
	}
	if len(addrs) == 0 {
		return ""
	}
	p.rings[key] = NewRing(addrs, DefaultReplicas)
	return key
}

// Load is the number of requests in flight to the instance at addr.
func (p *Picker) Load(addr string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.inflight[addr]
}

// conn is the connection to addr, made and set connecting on first use;
// p.mu must be held.
func (p *Picker) conn(addr string) (*grpc.ClientConn, error) {
	if c, ok := p.conns[addr]; ok {
		return c, nil
	}
	c, err := grpc.NewClient(addr, p.dial...)
	if err != nil {
		return nil, &apierr.Error{Kind: apierr.KindUnavailable, Message: err.Error()}
	}
	c.Connect() // leave idle now, in the background
	p.conns[addr] = c
	return c, nil
}

// rebuild recomputes the rings, opens connections to new instances and
// closes those to departed ones.
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
	p.list = list
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
	for addr := range live {
		_, _ = p.conn(addr) // an error surfaces again when the instance is picked
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
