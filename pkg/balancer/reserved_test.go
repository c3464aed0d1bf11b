package balancer

import (
	"context"
	"fmt"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/recmesh/recmesh/pkg/registry"
)

// A request without a route of its own never reaches a version reserved
// for a routed arm while another version has an instance; a routed request
// reaches only its version; with the other versions gone, unrouted
// requests fall back to any instance.
func TestUnroutedRequestsAvoidReservedVersions(t *testing.T) {
	reg := registry.NewStatic()
	ctx := context.Background()
	add := func(addr, version string) registry.Instance {
		in := registry.Instance{ID: addr, Service: "s", Addr: addr, Tags: []string{"version=" + version}}
		if err := reg.Register(ctx, in); err != nil {
			t.Fatal(err)
		}
		return in
	}
	v1a, v1b := add("127.0.0.1:41001", "v1"), add("127.0.0.1:41002", "v1")
	add("127.0.0.1:41003", "v2")
	p := NewPicker(reg, "s", grpc.WithTransportCredentials(insecure.NewCredentials()))
	t.Cleanup(func() { _ = p.Close() })
	reserved := map[string][]string{"s": {"v2"}}
	pick := func(user string, routes map[string]string) string {
		ctx := WithRoutes(ctx, user, routes, reserved)
		key, version := RouteFrom(ctx, "s")
		c, done, err := p.ConnAvoiding(ctx, key, version, "")
		if err != nil {
			t.Fatal(err)
		}
		done()
		return c.Target()
	}
	for u := range 200 {
		user := fmt.Sprint(u)
		if got := pick(user, nil); got == "127.0.0.1:41003" {
			t.Fatalf("unrouted user %s reached the reserved v2 instance", user)
		}
		if got := pick(user, map[string]string{"s": "v2"}); got != "127.0.0.1:41003" {
			t.Fatalf("user %s routed to v2 reached %s", user, got)
		}
	}
	for _, in := range []registry.Instance{v1a, v1b} {
		if err := reg.Deregister(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	if got := pick("1", nil); got != "127.0.0.1:41003" {
		t.Errorf("with v1 gone, an unrouted request reached %s, want the v2 instance", got)
	}
}
