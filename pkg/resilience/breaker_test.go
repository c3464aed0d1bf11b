package resilience

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/afex/hystrix-go/hystrix"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/recmesh/recmesh/pkg/apierr"
	"github.com/recmesh/recmesh/pkg/log"
	"github.com/recmesh/recmesh/pkg/resilience/resiliencetest"
)

// hystrix-go's per-command monitors are known; everything else must end.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, resiliencetest.LeakOptions()...)
}

var seq int

func newBreaker(t *testing.T, s Settings) (*Breaker, *Metrics) {
	t.Helper()
	seq++
	m := NewMetrics(prometheus.NewRegistry())
	return NewBreaker(fmt.Sprintf("test-%s-%d", t.Name(), seq), "hop", s, m, log.Discard()), m
}

// guarded is f run under b, in the shape the tests call.
func guarded(b *Breaker, f func(context.Context) (any, error)) func(context.Context, any) (any, error) {
	return func(ctx context.Context, _ any) (any, error) { return Call(ctx, b, f) }
}

func TestBusinessErrorsDoNotOpenTheBreaker(t *testing.T) {
	b, m := newBreaker(t, Settings{Timeout: time.Second, MaxConcurrent: 100, VolumeThreshold: 5, ErrorPercent: 10, SleepWindow: time.Minute})
	ep := guarded(b, func(context.Context) (any, error) {
		return nil, status.Error(codes.InvalidArgument, "bad user")
	})
	for i := 0; i < 50; i++ {
		_, err := ep(context.Background(), nil)
		if _, ok := apierr.As(err); !ok {
			t.Fatalf("call %d: err %v, want the business error", i, err)
		}
	}
	if b.Open() {
		t.Fatal("business errors opened the breaker")
	}
	if got := testutil.ToFloat64(m.calls.WithLabelValues("hop", "business_error")); got != 50 {
		t.Errorf("business_error count = %v, want 50", got)
	}
}

// Both a transport failure and the picker's "no instance" (an apierr of kind
// unavailable) are infrastructure failures: they open the breaker.
func TestInfrastructureErrorsOpenThenRecover(t *testing.T) {
	for name, failure := range map[string]error{
		"grpc_unavailable": status.Error(codes.Unavailable, "down"),
		"no_instance":      apierr.New(apierr.KindUnavailable, "no healthy instance of recall"),
	} {
		t.Run(name, func(t *testing.T) { testOpenThenRecover(t, failure) })
	}
}

func testOpenThenRecover(t *testing.T, failure error) {
	b, m := newBreaker(t, Settings{Timeout: time.Second, MaxConcurrent: 100, VolumeThreshold: 5, ErrorPercent: 50, SleepWindow: 100 * time.Millisecond})
	var failing sync.Mutex
	fail := true
	ep := guarded(b, func(context.Context) (any, error) {
		failing.Lock()
		defer failing.Unlock()
		if fail {
			return nil, failure
		}
		return "ok", nil
	})
	// hystrix-go counts results asynchronously, so keep calling until the
	// breaker has seen enough failures.
	for deadline := time.Now().Add(5 * time.Second); !b.Open() && time.Now().Before(deadline); {
		_, _ = ep(context.Background(), nil)
		time.Sleep(time.Millisecond)
	}
	if !b.Open() {
		t.Fatal("breaker did not open under infrastructure failures")
	}
	if _, err := ep(context.Background(), nil); !errors.Is(err, hystrix.ErrCircuitOpen) {
		t.Fatalf("open breaker let a call through: %v", err)
	}
	failing.Lock()
	fail = false
	failing.Unlock()
	deadline := time.Now().Add(5 * time.Second)
	for b.Open() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		_, _ = ep(context.Background(), nil)
	}
	if b.Open() {
		t.Fatal("breaker stayed open after the hop recovered")
	}
	if got := testutil.ToFloat64(m.changes.WithLabelValues("hop", "open")); got != 1 {
		t.Errorf("open transitions = %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.open.WithLabelValues("hop")); got != 0 {
		t.Errorf("breaker_open gauge = %v after recovery, want 0", got)
	}
}

func TestContextDeadlineIsHonoured(t *testing.T) {
	b, _ := newBreaker(t, Settings{Timeout: 5 * time.Second, MaxConcurrent: 10, VolumeThreshold: 100, ErrorPercent: 50, SleepWindow: time.Second})
	ep := guarded(b, func(ctx context.Context) (any, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { _, err := ep(ctx, nil); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want deadline exceeded", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("call ignored its context deadline")
	}
}

// TestGoroutinesReturnToBaseline drives load and breaker cycles and checks
// that hystrix-go leaves no goroutine behind beyond its per-command monitor.
func TestGoroutinesReturnToBaseline(t *testing.T) {
	b, _ := newBreaker(t, Settings{Timeout: 50 * time.Millisecond, MaxConcurrent: 8, VolumeThreshold: 5, ErrorPercent: 50, SleepWindow: 30 * time.Millisecond})
	var mode sync.Map // "fail" → bool
	ep := guarded(b, func(ctx context.Context) (any, error) {
		if v, _ := mode.Load("fail"); v == true {
			return nil, status.Error(codes.Unavailable, "down")
		}
		if v, _ := mode.Load("slow"); v == true {
			select {
			case <-time.After(100 * time.Millisecond):
			case <-ctx.Done():
			}
		}
		return "ok", nil
	})
	_, _ = ep(context.Background(), nil) // creates the command's monitor goroutine
	baseline := runtime.NumGoroutine()
	for cycle := 0; cycle < 3; cycle++ {
		for _, m := range []string{"fail", "slow", ""} {
			mode.Store("fail", m == "fail")
			mode.Store("slow", m == "slow")
			var wg sync.WaitGroup
			for w := 0; w < 16; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < 20; i++ {
						ctx, cancel := context.WithTimeout(context.Background(), 80*time.Millisecond)
						_, _ = ep(ctx, nil)
						cancel()
					}
				}()
			}
			wg.Wait()
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > baseline && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > baseline {
		t.Errorf("goroutines = %d after load, baseline %d", n, baseline)
	}
}

// Two users of breakers in one process share the hop metrics.
func TestMetricsAreSharedInOneRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	a, b := NewMetrics(reg), NewMetrics(reg)
	a.Fallback("x")
	b.Fallback("x")
	if got := testutil.ToFloat64(b.FallbackCounter("x")); got != 2 {
		t.Errorf("shared fallback counter = %v, want 2", got)
	}
}

// A caller that goes away (a client that disconnects) cancels its calls:
// that says nothing about the hop, so however many there are, the breaker
// stays closed, and the calls are counted as canceled.
func TestCallerCancellationsDoNotOpenTheBreaker(t *testing.T) {
	b, m := newBreaker(t, Settings{Timeout: time.Second, MaxConcurrent: 100, VolumeThreshold: 5, ErrorPercent: 10, SleepWindow: time.Minute})
	var cancel context.CancelFunc
	ep := guarded(b, func(ctx context.Context) (any, error) {
		cancel() // the caller goes away while the call runs; gRPC answers so
		return nil, status.Error(codes.Canceled, "context canceled")
	})
	for i := 0; i < 50; i++ {
		ctx, c := context.WithCancel(context.Background())
		cancel = c
		_, err := ep(ctx, nil)
		c()
		if err == nil {
			t.Fatalf("call %d: no error, want the cancellation", i)
		}
		time.Sleep(time.Millisecond) // hystrix-go counts asynchronously
	}
	if b.Open() {
		t.Fatal("callers' cancellations opened the breaker")
	}
	if got := testutil.ToFloat64(m.calls.WithLabelValues("hop", "canceled")); got != 50 {
		t.Errorf("canceled count = %v, want 50", got)
	}
	// The hop's own failures still open it.
	fail := guarded(b, func(context.Context) (any, error) { return nil, status.Error(codes.Unavailable, "down") })
	for deadline := time.Now().Add(5 * time.Second); !b.Open() && time.Now().Before(deadline); {
		_, _ = fail(context.Background(), nil)
		time.Sleep(time.Millisecond)
	}
	if !b.Open() {
		t.Error("the hop's failures did not open the breaker")
	}
}
