// Package resilience guards every hop with a hystrix-go circuit breaker.
//
// Calls go through hystrix.DoC, so the caller's context (deadline and
// cancellation) is honoured; go-kit's circuitbreaker.Hystrix uses hystrix.Do,
// which ignores it. Business errors (apierr) count as successes for the
// breaker: a user asking for nonsense must not open the circuit for everyone.
// Only infrastructure failures count.
package resilience

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/afex/hystrix-go/hystrix"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/recmesh/recmesh/pkg/apierr"
	"github.com/recmesh/recmesh/pkg/telemetry"
)

// Settings configure one breaker.
type Settings struct {
	// Timeout is the hop's budget; a slower call fails with a timeout.
	Timeout time.Duration
	// MaxConcurrent calls; more are rejected at once.
	MaxConcurrent int
	// VolumeThreshold is the number of calls in the 10 s window before the breaker may open.
	VolumeThreshold int
	// ErrorPercent of failed calls in the window opens the breaker.
	ErrorPercent int
	// SleepWindow is how long an open breaker waits before letting one trial call through.
	SleepWindow time.Duration
}

// DefaultSettings are sane for a hop with the given budget. The volume
// threshold is high enough that a burst of slow calls (the first second
// after a start, a GC pause on a busy machine) cannot open the breaker
// while its 10 s window holds only that burst: hystrix-go judges the error
// share over the window, and at 20 calls a fifth of a second of timeouts
// opened it for everyone for a whole sleep window. A hop that is down still
// opens it within its first 100 calls, each of them bounded by the budget.
func DefaultSettings(timeout time.Duration) Settings {
	return Settings{Timeout: timeout, MaxConcurrent: 512, VolumeThreshold: 100, ErrorPercent: 50, SleepWindow: 2 * time.Second}
}

// Metrics are the per-hop Prometheus series shared by every breaker of a process.
type Metrics struct {
	calls     *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	fallbacks *prometheus.CounterVec
	open      *prometheus.GaugeVec
	changes   *prometheus.CounterVec
	retries   *prometheus.CounterVec
}

// NewMetrics registers the hop metrics in reg. When reg already holds them
// (two users of breakers in one process, the embedded mode), it shares them.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "recmesh_hop_requests_total",
			Help: "Calls to a downstream hop by outcome: ok, business_error, error, timeout, circuit_open, rejected.",
		}, []string{"hop", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "recmesh_hop_duration_seconds", Help: "Time spent in a downstream hop.", Buckets: telemetry.LatencyBuckets,
		}, []string{"hop"}),
		fallbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "recmesh_hop_fallbacks_total", Help: "Requests answered with a hop's fallback.",
		}, []string{"hop"}),
		open: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "recmesh_breaker_open", Help: "1 while a hop's circuit breaker is open.",
		}, []string{"hop"}),
		changes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "recmesh_breaker_transitions_total", Help: "Circuit breaker state changes, by new state.",
		}, []string{"hop", "state"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "recmesh_hop_retries_total", Help: "Calls to a hop tried a second time after a timeout, within the request's budget and the retry budget.",
		}, []string{"hop"}),
	}
	m.calls = registerOrShare(reg, m.calls)
	m.duration = registerOrShare(reg, m.duration)
	m.fallbacks = registerOrShare(reg, m.fallbacks)
	m.open = registerOrShare(reg, m.open)
	m.changes = registerOrShare(reg, m.changes)
	m.retries = registerOrShare(reg, m.retries)
	return m
}

// registerOrShare registers c in reg, or returns the collector reg already
// has under c's name.
func registerOrShare[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	err := reg.Register(c)
	if err == nil {
		return c
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing
		}
	}
	panic(err) // a clash of names with another metric is a programming error
}

// Breaker is one named hystrix command with its metrics.
type Breaker struct {
	command string
	hop     string
	metrics *Metrics
	log     *slog.Logger
	open    atomic.Bool
}

// NewBreaker configures the hystrix command named command for hop. Command
// names are process-wide in hystrix-go, so two breakers must not share one.
func NewBreaker(command, hop string, s Settings, m *Metrics, log *slog.Logger) *Breaker {
	hystrix.ConfigureCommand(command, hystrix.CommandConfig{
		Timeout:                int(s.Timeout / time.Millisecond),
		MaxConcurrentRequests:  s.MaxConcurrent,
		RequestVolumeThreshold: s.VolumeThreshold,
		ErrorPercentThreshold:  s.ErrorPercent,
		SleepWindow:            int(s.SleepWindow / time.Millisecond),
	})
	m.open.WithLabelValues(hop).Set(0)
	for _, o := range []string{"ok", "business_error", "error", "timeout", "circuit_open", "rejected"} {
		m.calls.WithLabelValues(hop, o)
	}
	m.fallbacks.WithLabelValues(hop)
	m.retries.WithLabelValues(hop)
	for _, state := range []string{"open", "closed"} {
		m.changes.WithLabelValues(hop, state)
	}
	return &Breaker{command: command, hop: hop, metrics: m, log: log}
}

// FallbackCounter is the counter of hop's fallbacks, for tests and dashboards.
func (m *Metrics) FallbackCounter(hop string) prometheus.Counter {
	return m.fallbacks.WithLabelValues(hop)
}

// Fallback records that a request was answered with hop's fallback.
func (m *Metrics) Fallback(hop string) { m.fallbacks.WithLabelValues(hop).Inc() }

// Timeout reports whether err is a call that ran out of its budget (the
// breaker's timeout, or a deadline, locally or as a gRPC status).
func Timeout(err error) bool {
	return errors.Is(err, hystrix.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) ||
		status.Code(err) == codes.DeadlineExceeded
}

// Retried records that a call of hop was tried again.
func (m *Metrics) Retried(hop string) { m.retries.WithLabelValues(hop).Inc() }

// RetryCounter is the counter of hop's retries, for tests and dashboards.
func (m *Metrics) RetryCounter(hop string) prometheus.Counter { return m.retries.WithLabelValues(hop) }

// CircuitOpen reports whether err is a breaker's refusal while open.
func CircuitOpen(err error) bool { return errors.Is(err, hystrix.ErrCircuitOpen) }

// Open reports whether the breaker was open after the last call.
func (b *Breaker) Open() bool { return b.open.Load() }

// Call runs f under breaker b with hystrix.DoC, so ctx's deadline and
// cancellation are honoured. A business error from f (an apierr of a
// business kind, or a gRPC status carrying one) comes back as an
// *apierr.Error and counts as a success; any other error counts against the
// breaker, as do the breaker's own refusals (circuit open, too many
// concurrent calls, timeout).
func Call[T any](ctx context.Context, b *Breaker, f func(context.Context) (T, error)) (T, error) {
	start := time.Now()
	var resp T
	var business, gone error
	err := hystrix.DoC(ctx, b.command, func(ctx context.Context) error {
		r, err := f(ctx)
		if err == nil {
			resp = r
			return nil
		}
		if be := apierr.Business(err); be != nil {
			business = be
			return nil
		}
		if errors.Is(ctx.Err(), context.Canceled) {
			// The caller went away (a client that disconnected): that says
			// nothing about the hop, so the breaker does not count it.
			gone = err
			return nil
		}
		return err
	}, nil)
	if err == nil && gone != nil {
		err = gone
	}
	b.observe(start, err, business)
	if err != nil {
		var zero T
		return zero, err
	}
	if business != nil {
		var zero T
		return zero, business
	}
	return resp, nil
}

func (b *Breaker) observe(start time.Time, err, business error) {
	outcome := "ok"
	switch {
	case err == nil && business != nil:
		outcome = "business_error"
	case errors.Is(err, hystrix.ErrCircuitOpen):
		outcome = "circuit_open"
	case errors.Is(err, hystrix.ErrMaxConcurrency):
		outcome = "rejected"
	case errors.Is(err, hystrix.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		outcome = "timeout"
	case errors.Is(err, context.Canceled), status.Code(err) == codes.Canceled:
		outcome = "canceled"
	case err != nil:
		outcome = "error"
	}
	b.metrics.calls.WithLabelValues(b.hop, outcome).Inc()
	b.metrics.duration.WithLabelValues(b.hop).Observe(time.Since(start).Seconds())

	c, _, cerr := hystrix.GetCircuit(b.command)
	if cerr != nil {
		return
	}
	open := c.IsOpen()
	if b.open.Swap(open) == open {
		return
	}
	state, gauge := "closed", 0.0
	if open {
		state, gauge = "open", 1
	}
	b.metrics.open.WithLabelValues(b.hop).Set(gauge)
	b.metrics.changes.WithLabelValues(b.hop, state).Inc()
	b.log.Warn("circuit breaker changed state", "hop", b.hop, "state", state)
}

// OutcomeCounter is the counter of hop's calls that ended in outcome (ok,
// business_error, error, timeout, circuit_open, rejected), for tests and
// dashboards.
func (m *Metrics) OutcomeCounter(hop, outcome string) prometheus.Counter {
	return m.calls.WithLabelValues(hop, outcome)
}
