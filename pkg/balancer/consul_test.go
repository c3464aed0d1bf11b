package balancer

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/recmesh/recmesh/pkg/depstest"
	"github.com/recmesh/recmesh/pkg/registry"
	"github.com/recmesh/recmesh/pkg/registry/registrytest"
)

// TestRingMovementThroughConsul registers N instances in a real Consul,
// routes 20,000 users through the picker, adds one instance and measures
// how many users moved: about 1/(N+1), all of them to the new instance.
func TestRingMovementThroughConsul(t *testing.T) {
	addr := depstest.Env(t, "RECMESH_CONSUL_ADDR")
	o := registry.DefaultConsulOptions()
	o.CheckInterval, o.Wait = time.Second, 5*time.Second
	reg, err := registry.NewConsul(addr, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Close() })
	service := fmt.Sprintf("it-ring-%d", time.Now().UnixNano())
	const n, users = 6, 20000
	add := func(i int) string {
		addr, _ := registrytest.HealthServer(t, service)
		in := registry.Instance{ID: fmt.Sprintf("%s-%d", service, i), Service: service, Addr: addr, Tags: []string{"version=v1"}}
		if err := reg.Register(context.Background(), in); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = reg.Deregister(context.Background(), in) })
		return in.Addr
	}
	waitN := func(want int) {
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if list, _, err := reg.Instances(context.Background(), service); err == nil && len(list) == want {
				return
			}
		}
		t.Fatalf("never saw %d healthy instances", want)
	}
	for i := range n {
		add(i)
	}
	waitN(n)
	p := NewPicker(reg, service, grpc.WithTransportCredentials(insecure.NewCredentials()))
	t.Cleanup(func() { _ = p.Close() })
	route := func() []string {
		out := make([]string, users)
		for u := range users {
			c, done, err := p.Conn(context.Background(), fmt.Sprint(u+1), "v1")
			if err != nil {
				t.Fatal(err)
			}
			done()
			out[u] = c.Target()
		}
		return out
	}
	before := route()
	added := add(n)
	waitN(n + 1)
	after := route()
	moved := 0
	for u := range users {
		if before[u] != after[u] {
			moved++
			if after[u] != added {
				t.Fatalf("user %d moved between old instances %s → %s", u+1, before[u], after[u])
			}
		}
	}
	frac, ideal := float64(moved)/users, 1/float64(n+1)
	t.Logf("adding 1 instance to %d (via Consul) moved %d of %d users = %.4f (ideal %.4f)", n, moved, users, frac, ideal)
	if math.Abs(frac-ideal) > 0.3*ideal {
		t.Errorf("moved fraction %.4f is not about %.4f", frac, ideal)
	}
}
