package registry_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace/noop"
	"google.golang.org/grpc"

	"github.com/recmesh/recmesh/pkg/depstest"
	rlog "github.com/recmesh/recmesh/pkg/log"
	"github.com/recmesh/recmesh/pkg/registry"
	"github.com/recmesh/recmesh/pkg/registry/registrytest"
	"github.com/recmesh/recmesh/pkg/run"
)

func consulOpts() registry.ConsulOptions {
	o := registry.DefaultConsulOptions()
	o.CheckInterval, o.CheckTimeout, o.Wait = time.Second, 500*time.Millisecond, 5*time.Second
	return o
}

func newConsul(t *testing.T, addr string) *registry.Consul {
	t.Helper()
	c, err := registry.NewConsul(addr, consulOpts())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// waitIDs waits until the healthy instances of service are exactly want.
func waitIDs(t *testing.T, r registry.Registry, service string, want []string, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	var got []string
	for time.Since(start) < within {
		list, _, err := r.Instances(context.Background(), service)
		if err != nil {
			t.Fatal(err)
		}
		got = got[:0]
		for _, in := range list {
			got = append(got, in.ID)
		}
		if slices.Equal(got, want) {
			return time.Since(start)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s instances = %v after %s, want %v", service, got, within, want)
	return 0
}

func TestConsulCatalogRegisterDeregister(t *testing.T) {
	addr := depstest.Env(t, "RECMESH_CONSUL_ADDR")
	reg := newConsul(t, addr)
	service := fmt.Sprintf("it-catalog-%d", time.Now().UnixNano())
	grpcAddr, _ := registrytest.HealthServer(t, service)
	in := registry.Instance{ID: service + "-1", Service: service, Addr: grpcAddr, Tags: []string{"version=v2"}, Meta: map[string]string{"admin": "127.0.0.1:1"}}
	ctx := context.Background()
	if err := reg.Register(ctx, in); err != nil {
		t.Fatal(err)
	}

	cfg := api.DefaultConfig()
	cfg.Address = addr
	client, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := client.Catalog().Service(service, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ServiceID != in.ID || !slices.Contains(got[0].ServiceTags, "version=v2") ||
		got[0].ServiceMeta["version"] != "v2" || got[0].ServiceMeta["admin"] != "127.0.0.1:1" {
		t.Fatalf("catalog after register = %+v", got)
	}
	checks, _, err := client.Health().Checks(service, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(checks) != 1 || checks[0].Type != "grpc" {
		t.Fatalf("checks = %+v", checks)
	}
	// Healthy once the first gRPC check has passed.
	waitIDs(t, reg, service, []string{in.ID}, 5*time.Second)

	if err := reg.Deregister(ctx, in); err != nil {
		t.Fatal(err)
	}
	got, _, err = client.Catalog().Service(service, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Fatalf("catalog after deregister = %+v", got)
	}
	waitIDs(t, reg, service, nil, 5*time.Second)
}

func TestConsulKilledInstanceLeavesHealthySet(t *testing.T) {
	addr := depstest.Env(t, "RECMESH_CONSUL_ADDR")
	reg := newConsul(t, addr)
	service := fmt.Sprintf("it-kill-%d", time.Now().UnixNano())
	ctx := context.Background()
	var ids []string
	var kills []func()
	for i := range 3 {
		a, kill := registrytest.HealthServer(t, service)
		in := registry.Instance{ID: fmt.Sprintf("%s-%d", service, i), Service: service, Addr: a, Tags: []string{"version=v1"}}
		if err := reg.Register(ctx, in); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = reg.Deregister(context.Background(), in) })
		ids, kills = append(ids, in.ID), append(kills, kill)
	}
	waitIDs(t, reg, service, ids, 5*time.Second)
	kills[1]() // no deregistration: the process just died
	took := waitIDs(t, reg, service, []string{ids[0], ids[2]}, 10*time.Second)
	t.Logf("killed instance left the healthy set after %s (check interval %s)", took.Round(10*time.Millisecond), consulOpts().CheckInterval)
}

func TestConsulKeepsLastGoodSetWhenConsulIsGone(t *testing.T) {
	addr := depstest.Env(t, "RECMESH_CONSUL_ADDR")
	target, _ := url.Parse("http://" + addr)
	proxy := httptest.NewServer(httputil.NewSingleHostReverseProxy(target))
	t.Cleanup(proxy.Close) // the test closes it early; this covers a failure before that
	reg := newConsul(t, proxy.Listener.Addr().String())
	service := fmt.Sprintf("it-gone-%d", time.Now().UnixNano())
	a, _ := registrytest.HealthServer(t, service)
	in := registry.Instance{ID: service + "-1", Service: service, Addr: a}
	if err := reg.Register(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	direct := newConsul(t, addr) // reaches Consul without the proxy, for the cleanup
	t.Cleanup(func() { _ = direct.Deregister(context.Background(), in) })
	waitIDs(t, reg, service, []string{in.ID}, 5*time.Second)

	proxy.CloseClientConnections()
	proxy.Close() // Consul is unreachable from here on
	time.Sleep(300 * time.Millisecond)
	for range 5 {
		list, _, err := reg.Instances(context.Background(), service)
		if err != nil || len(list) != 1 || list[0].ID != in.ID {
			t.Fatalf("with Consul gone: %v, %v; want the last good set", list, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, _, err := reg.Instances(context.Background(), "never-seen-"+service); err == nil {
		t.Fatal("a service never seen must report the discovery error")
	}
}

// TestConsulHTTPCheckFollowsReadiness: an instance registered with an HTTP
// check (the gateway's /readyz) is healthy while the path answers 200 and
// leaves the healthy set when it answers 503.
func TestConsulHTTPCheckFollowsReadiness(t *testing.T) {
	addr := depstest.Env(t, "RECMESH_CONSUL_ADDR")
	reg := newConsul(t, addr)
	var ready atomic.Bool
	ready.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" || !ready.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	}))
	defer srv.Close()
	service := fmt.Sprintf("it-http-%d", time.Now().UnixNano())
	in := registry.Instance{ID: service + "-1", Service: service, Addr: strings.TrimPrefix(srv.URL, "http://"), HTTPCheck: "/readyz"}
	if err := reg.Register(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = reg.Deregister(context.Background(), in) }()
	cfg := api.DefaultConfig()
	cfg.Address = addr
	client, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	checks, _, err := client.Health().Checks(service, nil)
	if err != nil || len(checks) != 1 || checks[0].Type != "http" {
		t.Fatalf("checks = %+v, %v", checks, err)
	}
	waitIDs(t, reg, service, []string{in.ID}, 5*time.Second)
	ready.Store(false)
	waitIDs(t, reg, service, nil, 5*time.Second)
}

// TestConsulRoutesAroundAnInstanceThatIsNotReady: a service started by
// run.Start is in Consul's healthy set while its readiness passes, leaves
// it when readiness fails (a features instance whose stores are gone), and
// comes back when readiness passes again, through the gRPC health check.
func TestConsulRoutesAroundAnInstanceThatIsNotReady(t *testing.T) {
	reg := newConsul(t, depstest.Env(t, "RECMESH_CONSUL_ADDR"))
	var down atomic.Bool
	service := fmt.Sprintf("it-ready-%d", time.Now().UnixNano())
	r, err := run.Start(context.Background(), run.Spec{
		Name: service, Version: "v1", GRPCAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0",
		Register: func(*grpc.Server) {}, ReadyEvery: 100 * time.Millisecond,
		Ready: func(context.Context) error {
			if down.Load() {
				return errors.New("postgres and redis are gone")
			}
			return nil
		},
		Registry: reg, Metrics: prometheus.NewRegistry(), Tracer: noop.NewTracerProvider(), Logger: rlog.Discard(),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = r.Stop(context.Background()) }()
	list, _, err := reg.Instances(context.Background(), service)
	for deadline := time.Now().Add(10 * time.Second); err == nil && len(list) == 0 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		list, _, err = reg.Instances(context.Background(), service)
	}
	if err != nil || len(list) != 1 {
		t.Fatalf("instances = %v, %v; want the started one", list, err)
	}
	id := list[0].ID
	down.Store(true)
	left := waitIDs(t, reg, service, nil, 10*time.Second)
	down.Store(false)
	back := waitIDs(t, reg, service, []string{id}, 10*time.Second)
	t.Logf("left the healthy set %v after readiness failed, back %v after it passed", left.Round(time.Millisecond), back.Round(time.Millisecond))
}

// TestConsulRegistersAgainWhatTheAgentLost: an agent that forgets an
// instance (a -dev agent restarted, the catalog wiped) gets it back from
// the registry that registered it, within Resync.
func TestConsulRegistersAgainWhatTheAgentLost(t *testing.T) {
	addr := depstest.Env(t, "RECMESH_CONSUL_ADDR")
	o := consulOpts()
	o.Resync = time.Second
	reg, err := registry.NewConsul(addr, o)
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	service := fmt.Sprintf("it-resync-%d", time.Now().UnixNano())
	grpcAddr, _ := registrytest.HealthServer(t, service)
	in := registry.Instance{ID: service + "-1", Service: service, Addr: grpcAddr}
	if err := reg.Register(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = reg.Deregister(context.Background(), in) }()
	waitIDs(t, reg, service, []string{in.ID}, 5*time.Second)
	cfg := api.DefaultConfig()
	cfg.Address = addr
	client, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Agent().ServiceDeregister(in.ID); err != nil { // the agent forgets it
		t.Fatal(err)
	}
	waitIDs(t, reg, service, nil, 5*time.Second)
	back := waitIDs(t, reg, service, []string{in.ID}, 5*time.Second)
	t.Logf("registered again within %v", back.Round(time.Millisecond))
	// A deliberate Deregister is not undone.
	if err := reg.Deregister(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2500 * time.Millisecond) // two resyncs
	if list, _, _ := reg.Instances(context.Background(), service); len(list) != 0 {
		t.Errorf("a deregistered instance came back: %v", list)
	}
}
