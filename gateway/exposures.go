package gateway

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/pkg/resilience"
	"github.com/recmesh/recmesh/services/features/featuresapi"
)

// exposureLog ships every reply's items to the features service's exposure
// log in the background. The request path only offers a reply to a
// bounded queue and never waits: when the queue is full the reply's rows
// are dropped and counted. A batch that fails is retried (with backoff)
// until it is written or the gateway stops; Close flushes what is queued.
type exposureLog struct {
	sink    featuresapi.Exposures
	breaker *resilience.Breaker
	cfg     ExposureConfig
	log     *slog.Logger
	queue   chan domain.ShownReply
	m       exposureMetrics

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// ExposureConfig tunes the exposure log's queue and batches.
type ExposureConfig struct {
	// Queue is how many replies may wait to be written; 0 switches
	// exposure logging off.
	Queue int
	// Batch is the most replies written in one call.
	Batch int
	// Flush is the longest a reply waits for its batch to fill.
	Flush time.Duration
}

type exposureMetrics struct {
	queued, written, dropped prometheus.Counter
	failures                 prometheus.Counter
}

func newExposureMetrics(reg prometheus.Registerer, depth func() float64) exposureMetrics {
	m := exposureMetrics{
		queued: prometheus.NewCounter(prometheus.CounterOpts{Name: "recmesh_exposure_rows_queued_total",
			Help: "Exposure rows (items shown) offered to the exposure log queue."}),
		written: prometheus.NewCounter(prometheus.CounterOpts{Name: "recmesh_exposure_rows_written_total",
			Help: "Exposure rows the features service acknowledged."}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "recmesh_exposure_rows_dropped_total",
			Help: "Exposure rows dropped because the queue was full or the gateway stopped before they were written."}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{Name: "recmesh_exposure_write_failures_total",
			Help: "Failed exposure batch writes (each is retried)."}),
	}
	reg.MustRegister(m.queued, m.written, m.dropped, m.failures,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "recmesh_exposure_queue_replies",
			Help: "Replies waiting in the exposure log queue."}, depth))
	return m
}

func newExposureLog(sink featuresapi.Exposures, b *resilience.Breaker, cfg ExposureConfig, reg prometheus.Registerer, log *slog.Logger) *exposureLog {
	l := &exposureLog{sink: sink, breaker: b, cfg: cfg, log: log, queue: make(chan domain.ShownReply, cfg.Queue),
		stop: make(chan struct{}), done: make(chan struct{})}
	l.m = newExposureMetrics(reg, func() float64 { return float64(len(l.queue)) })
	go l.run()
	return l
}

// offer queues a reply without waiting; a full queue drops it.
func (l *exposureLog) offer(r domain.ShownReply) {
	rows := float64(r.Rows())
	l.m.queued.Add(rows)
	select {
	case l.queue <- r:
	default:
		l.m.dropped.Add(rows)
	}
}

// run collects batches and writes them until close.
func (l *exposureLog) run() {
	defer close(l.done)
	batch := make([]domain.ShownReply, 0, l.cfg.Batch)
	timer := time.NewTimer(l.cfg.Flush)
	defer timer.Stop()
	for {
		select {
		case r := <-l.queue:
			batch = append(batch, r)
			if len(batch) < l.cfg.Batch {
				continue
			}
		case <-timer.C:
			timer.Reset(l.cfg.Flush)
		case <-l.stop:
			l.drain(batch)
			return
		}
		if len(batch) > 0 && !l.write(batch) {
			l.drain(batch)
			return
		}
		batch = batch[:0]
	}
}

// write writes one batch, retrying with backoff until it is written (true)
// or the log is closing (false; the batch is left to drain).
func (l *exposureLog) write(batch []domain.ShownReply) bool {
	backoff := 50 * time.Millisecond
	for {
		if l.writeOnce(context.Background(), batch) {
			return true
		}
		select {
		case <-l.stop:
			return false
		case <-time.After(backoff):
			backoff = min(2*backoff, 5*time.Second)
		}
	}
}

func (l *exposureLog) writeOnce(ctx context.Context, batch []domain.ShownReply) bool {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	n, err := resilience.Call(ctx, l.breaker, func(ctx context.Context) (int, error) {
		return l.sink.LogExposures(ctx, batch)
	})
	if err != nil {
		l.m.failures.Inc()
		l.log.WarnContext(ctx, "exposure batch not written; retrying", "replies", len(batch), "err", err)
		return false
	}
	l.m.written.Add(float64(n))
	return true
}

// drainAttempts is how often drain tries a batch before it gives up on
// the features service for good.
const drainAttempts = 3

// drain writes the pending batch and everything queued before the gateway
// stops, trying each batch up to drainAttempts times; once a batch could
// not be written it stops trying, and what is left is counted as dropped
// and logged.
func (l *exposureLog) drain(batch []domain.ShownReply) {
	failed := false
	for {
		for len(batch) < l.cfg.Batch && len(l.queue) > 0 {
			batch = append(batch, <-l.queue)
		}
		if len(batch) == 0 {
			return
		}
		ok := false
		for attempt := 0; !failed && !ok && attempt < drainAttempts; attempt++ {
			if attempt > 0 {
				time.Sleep(time.Duration(attempt) * 100 * time.Millisecond)
			}
			ok = l.writeOnce(context.Background(), batch)
		}
		if !ok {
			failed = true
			rows := 0
			for i := range batch {
				rows += batch[i].Rows()
			}
			l.m.dropped.Add(float64(rows))
			l.log.Error("exposures lost at shutdown", "rows", rows)
		}
		batch = batch[:0]
	}
}

// close stops accepting work, flushes and waits.
func (l *exposureLog) close() {
	l.once.Do(func() { close(l.stop) })
	<-l.done
}
