package run

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace/noop"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/recmesh/recmesh/pkg/log"
	"github.com/recmesh/recmesh/pkg/registry"
	"github.com/recmesh/recmesh/pkg/telemetry"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestStartServeStop(t *testing.T) {
	ctx := context.Background()
	reg := registry.NewStatic()
	var ready readiness
	ready.set(errors.New("model not loaded"))
	r, err := Start(ctx, Spec{
		Name: "probe", Version: "v9", GRPCAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0",
		Register: func(*grpc.Server) {}, Ready: ready.check, ReadyEvery: 20 * time.Millisecond,
		Registry: reg, Metrics: telemetry.NewRegistry(), Tracer: noop.NewTracerProvider(), Logger: log.Discard(),
	})
	if err != nil {
		t.Fatal(err)
	}
	list, _, _ := reg.Instances(ctx, "probe")
	if len(list) != 1 || list[0].Addr != r.GRPCAddr() || list[0].Version() != "v9" {
		t.Fatalf("registered %+v", list)
	}
	base := "http://" + r.AdminAddr()
	if code, _ := get(t, base+"/healthz"); code != 200 {
		t.Errorf("/healthz = %d", code)
	}
	if code, body := get(t, base+"/readyz"); code != 503 || !strings.Contains(body, "model not loaded") {
		t.Errorf("/readyz = %d %q, want 503 naming the reason", code, body)
	}
	ready.set(nil)
	if code, _ := get(t, base+"/readyz"); code != 200 {
		t.Errorf("/readyz = %d once ready", code)
	}
	if code, body := get(t, base+"/metrics"); code != 200 || !strings.Contains(body, "go_goroutines") {
		t.Errorf("/metrics = %d", code)
	}

	conn, err := grpc.NewClient(r.GRPCAddr(), ClientDialOptions(noop.NewTracerProvider())...)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// gRPC health follows readiness, both ways.
	waitHealth(t, conn, "probe", healthpb.HealthCheckResponse_SERVING)
	ready.set(errors.New("postgres: connection refused"))
	waitHealth(t, conn, "probe", healthpb.HealthCheckResponse_NOT_SERVING)
	waitHealth(t, conn, "", healthpb.HealthCheckResponse_NOT_SERVING)
	if code, body := get(t, base+"/metrics"); !strings.Contains(body, "recmesh_service_ready 0") {
		t.Errorf("/metrics = %d without recmesh_service_ready 0", code)
	}
	ready.set(nil)
	waitHealth(t, conn, "probe", healthpb.HealthCheckResponse_SERVING)

	if err := r.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if list, _, _ := reg.Instances(ctx, "probe"); len(list) != 0 {
		t.Errorf("still registered after Stop: %+v", list)
	}
}

func TestExpiredCallsAreDropped(t *testing.T) {
	called := false
	h := func(context.Context, any) (any, error) { called = true; return "ok", nil }
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := expiredInterceptor(ctx, nil, nil, h); status.Code(err) != codes.Canceled || called {
		t.Errorf("cancelled call: err %v, handler called %v", err, called)
	}
	dctx, dcancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer dcancel()
	if _, err := expiredInterceptor(dctx, nil, nil, h); status.Code(err) != codes.DeadlineExceeded || called {
		t.Errorf("expired call: err %v, handler called %v", err, called)
	}
	if out, err := expiredInterceptor(context.Background(), nil, nil, h); err != nil || out != "ok" || !called {
		t.Errorf("live call: %v %v", out, err)
	}
}

// readiness is a Ready func whose answer a test sets.
type readiness struct{ err atomic.Pointer[error] }

func (r *readiness) set(err error) { r.err.Store(&err) }

func (r *readiness) check(context.Context) error { return *r.err.Load() }

// waitHealth waits (up to 5 s) until service's gRPC health status is want.
func waitHealth(t *testing.T, conn *grpc.ClientConn, service string, want healthpb.HealthCheckResponse_ServingStatus) {
	t.Helper()
	var got healthpb.HealthCheckResponse_ServingStatus
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		hr, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: service})
		cancel()
		if err != nil {
			t.Fatalf("health check: %v", err)
		}
		if got = hr.GetStatus(); got == want {
			return
		}
	}
	t.Fatalf("health of %q = %v after 5 s, want %v", service, got, want)
}

// pprof is off unless a token is set, and then only for its bearer.
func TestPprofNeedsItsToken(t *testing.T) {
	start := func(token string) string {
		r, err := Start(context.Background(), Spec{Name: "p", GRPCAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0",
			Register: func(*grpc.Server) {}, PprofToken: token,
			Metrics: telemetry.NewRegistry(), Tracer: noop.NewTracerProvider(), Logger: log.Discard()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = r.Stop(context.Background()) })
		return "http://" + r.AdminAddr() + "/debug/pprof/"
	}
	with := func(url, auth string) int {
		req, _ := http.NewRequest("GET", url, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	off := start("")
	on := start("s3cret-pprof")
	for _, tt := range []struct {
		name, url, auth string
		want            int
	}{
		{"off without a token", off, "Bearer s3cret-pprof", 404},
		{"no credentials", on, "", 401},
		{"a wrong token", on, "Bearer guess", 403},
		{"not a bearer", on, "Basic czNjcmV0", 401},
		{"the token", on, "Bearer s3cret-pprof", 200},
		{"headers past MaxHeaderBytes", on, "Bearer " + strings.Repeat("x", 2*MaxHeaderBytes), 431},
	} {
		if got := with(tt.url, tt.auth); got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.want)
		}
	}
}
