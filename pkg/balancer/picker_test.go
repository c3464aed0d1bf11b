package balancer

import (
	"context"
	"fmt"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/recmesh/recmesh/pkg/registry"
)

func staticPicker(t *testing.T, n int, epsilon float64) (*Picker, []string) {
	t.Helper()
	reg := registry.NewStatic()
	var addrs []string
	for i := range n {
		a := fmt.Sprintf("127.0.0.1:%d", 40000+i) // never dialled: connections are lazy
		addrs = append(addrs, a)
		if err := reg.Register(context.Background(), registry.Instance{ID: a, Service: "s", Addr: a, Tags: []string{"version=v1"}}); err != nil {
			t.Fatal(err)
		}
	}
	p := NewPicker(reg, "s", grpc.WithTransportCredentials(insecure.NewCredentials()))
	p.Epsilon = epsilon
	t.Cleanup(func() { _ = p.Close() })
	return p, addrs
}

func TestPickerBoundedLoadSpillsAHotKey(t *testing.T) {
	tests := []struct {
		name    string
		epsilon float64
		maxLoad int // on any instance, 100 requests in flight for one key over 4 instances
	}{
		{"unbounded", 0, 100},
		{"epsilon 0.25", 0.25, BoundedLimit(100, 4, 0.25)},
		{"epsilon 1", 1, BoundedLimit(100, 4, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, addrs := staticPicker(t, 4, tt.epsilon)
			ctx := context.Background()
			var dones []func()
			for range 100 {
				_, done, err := p.Conn(ctx, "hot-user", "v1")
				if err != nil {
					t.Fatal(err)
				}
				dones = append(dones, done)
			}
			peak := 0
			for _, a := range addrs {
				peak = max(peak, p.Load(a))
			}
			if peak != tt.maxLoad {
				t.Errorf("busiest instance carries %d of 100 in flight, want %d", peak, tt.maxLoad)
			}
			for _, d := range dones {
				d()
				d() // done is idempotent
			}
			for _, a := range addrs {
				if l := p.Load(a); l != 0 {
					t.Errorf("load of %s after every done = %d", a, l)
				}
			}
		})
	}
}

func TestPickerKeepsAffinityWhenLoadAllows(t *testing.T) {
	p, addrs := staticPicker(t, 5, DefaultEpsilon)
	ring := NewRing(addrs, DefaultReplicas)
	ctx := context.Background()
	for k := range 2000 {
		key := fmt.Sprintf("user-%d", k)
		c, done, err := p.Conn(ctx, key, "v1")
		if err != nil {
			t.Fatal(err)
		}
		if c.Target() != ring.Get(key) {
			t.Fatalf("%s went to %s, its ring owner is %s", key, c.Target(), ring.Get(key))
		}
		done()
	}
	if _, _, err := p.Conn(ctx, "u", "v9"); err == nil {
		t.Error("an unknown version must have no instance")
	}
}

func TestPickerHonoursVersionTags(t *testing.T) {
	reg := registry.NewStatic()
	ctx := context.Background()
	for i, v := range []string{"v1", "v1", "v2"} {
		a := fmt.Sprintf("127.0.0.1:%d", 41000+i)
		if err := reg.Register(ctx, registry.Instance{ID: a, Service: "s", Addr: a, Tags: []string{"version=" + v}}); err != nil {
			t.Fatal(err)
		}
	}
	p := NewPicker(reg, "s", grpc.WithTransportCredentials(insecure.NewCredentials()))
	t.Cleanup(func() { _ = p.Close() })
	seen := map[string]map[string]bool{"v1": {}, "v2": {}, "": {}}
	for k := range 500 {
		for v := range seen {
			c, done, err := p.Conn(ctx, fmt.Sprint("user-", k), v)
			if err != nil {
				t.Fatal(err)
			}
			done()
			seen[v][c.Target()] = true
		}
	}
	if len(seen["v2"]) != 1 || !seen["v2"]["127.0.0.1:41002"] {
		t.Errorf("version v2 went to %v, want only 127.0.0.1:41002", seen["v2"])
	}
	if len(seen["v1"]) != 2 || seen["v1"]["127.0.0.1:41002"] {
		t.Errorf("version v1 went to %v, want the two v1 instances", seen["v1"])
	}
	if len(seen[""]) != 3 {
		t.Errorf("no version went to %v, want all three", seen[""])
	}
}

func TestPickerAvoidsARefusingInstance(t *testing.T) {
	p, _ := staticPicker(t, 3, DefaultEpsilon)
	ctx := context.Background()
	for k := range 300 {
		key := fmt.Sprint("user-", k)
		first, done, err := p.Conn(ctx, key, "v1")
		if err != nil {
			t.Fatal(err)
		}
		done()
		other, done, err := p.ConnAvoiding(ctx, key, "v1", first.Target())
		if err != nil {
			t.Fatal(err)
		}
		done()
		if other.Target() == first.Target() {
			t.Fatalf("%s: avoiding %s still picked it", key, first.Target())
		}
	}
	single, _ := staticPicker(t, 1, DefaultEpsilon)
	if _, _, err := single.ConnAvoiding(ctx, "u", "v1", "127.0.0.1:40000"); err == nil {
		t.Error("avoiding the only instance must report no instance")
	}
}

// TestCollectorReportsInFlightPerInstance: the gauges follow the picker's
// load, one series per instance; a connection to every instance is open
// from the first pick on, not only to the picked one.
func TestCollectorReportsInFlightPerInstance(t *testing.T) {
	p, _ := staticPicker(t, 2, 0)
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewCollector(p))
	conn, done, err := p.Conn(context.Background(), "user-1", "v1")
	if err != nil {
		t.Fatal(err)
	}
	addr, other := conn.Target(), "127.0.0.1:40000"
	if addr == other {
		other = "127.0.0.1:40001"
	}
	series := func(n int) string {
		lines := []string{fmt.Sprintf(`recmesh_hop_inflight{service="s",target=%q} %d`, addr, n),
			fmt.Sprintf(`recmesh_hop_inflight{service="s",target=%q} 0`, other)}
		slices.Sort(lines)
		return strings.Join(lines, "\n")
	}
	want := `
# HELP recmesh_hop_connections Open gRPC connections from this gateway to a service's instances.
# TYPE recmesh_hop_connections gauge
recmesh_hop_connections{service="s"} 2
# HELP recmesh_hop_inflight Requests in flight from this gateway to one instance (target) of a service.
# TYPE recmesh_hop_inflight gauge
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want+series(1)+"\n")); err != nil {
		t.Error(err)
	}
	done()
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want+series(0)+"\n"), "recmesh_hop_inflight"); err != nil {
		t.Error(err)
	}
}
