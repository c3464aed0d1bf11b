package gateway

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/pkg/log"
	"github.com/recmesh/recmesh/pkg/resilience"
)

// sink is an exposure log that can fail, block, and counts rows.
type sink struct {
	mu      sync.Mutex
	rows    int
	replies []domain.ShownReply
	fail    int // the next fail calls fail
	block   chan struct{}
}

func (s *sink) LogExposures(ctx context.Context, rs []domain.ShownReply) (int, error) {
	if s.block != nil {
		select {
		case <-s.block:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail > 0 {
		s.fail--
		return 0, errors.New("features down")
	}
	n := 0
	for _, r := range rs {
		n += r.Rows()
	}
	s.rows += n
	s.replies = append(s.replies, rs...)
	return n, nil
}

func (s *sink) ExposureStats(context.Context, domain.ExposureQuery) ([]domain.ArmStats, error) {
	return nil, nil
}

func (s *sink) written() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rows
}

func newTestExposureLog(t *testing.T, s *sink, cfg ExposureConfig) (*exposureLog, *prometheus.Registry) {
	reg := prometheus.NewRegistry()
	b := resilience.NewBreaker(uniqueInstance(t)+".exposures", HopExposures, resilience.DefaultSettings(time.Second),
		resilience.NewMetrics(reg), log.Discard())
	return newExposureLog(s, b, cfg, reg, log.Discard()), reg
}

func reply(user string, items ...int64) domain.ShownReply {
	r := domain.ShownReply{RequestID: "r-" + user, UserID: user}
	for _, id := range items {
		r.Items = append(r.Items, domain.ShownItem{ItemID: id})
	}
	return r
}

func TestExposureLogWritesEveryRowAndFlushesOnClose(t *testing.T) {
	s := &sink{fail: 2} // the first two writes fail: retried, nothing lost
	l, _ := newTestExposureLog(t, s, ExposureConfig{Queue: 100, Batch: 7, Flush: time.Hour})
	for i := range 50 {
		l.offer(reply(string(rune('a'+i%26)), 1, 2, 3))
	}
	l.close() // a one-hour flush interval: only batches of 7 and the close flush write
	if got := s.written(); got != 150 {
		t.Errorf("rows written = %d, want 150", got)
	}
	if n := testutil.ToFloat64(l.m.written); n != 150 {
		t.Errorf("written counter = %v, want 150", n)
	}
	if n := testutil.ToFloat64(l.m.dropped); n != 0 {
		t.Errorf("dropped = %v, want 0", n)
	}
	if n := testutil.ToFloat64(l.m.failures); n != 2 {
		t.Errorf("failures = %v, want 2", n)
	}
}

func TestExposureLogDropsAndCountsWhenFull(t *testing.T) {
	s := &sink{block: make(chan struct{})}
	l, _ := newTestExposureLog(t, s, ExposureConfig{Queue: 4, Batch: 1, Flush: time.Millisecond})
	l.offer(reply("u", 1)) // taken by the writer, which blocks
	deadline := time.Now().Add(5 * time.Second)
	for len(l.queue) > 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	for range 10 { // 4 fit; 6 replies of 2 rows are dropped
		l.offer(reply("v", 1, 2))
	}
	if n := testutil.ToFloat64(l.m.dropped); n != 12 {
		t.Errorf("dropped = %v, want 12", n)
	}
	close(s.block)
	l.close()
	if got := s.written(); got != 1+8 {
		t.Errorf("rows written = %d, want 9", got)
	}
	if n := testutil.ToFloat64(l.m.queued); n != 21 {
		t.Errorf("queued = %v, want 21", n)
	}
}

func TestRecommendLogsTheReplyItShows(t *testing.T) {
	g, _ := newGateway(t)
	s := &sink{}
	l, _ := newTestExposureLog(t, s, ExposureConfig{Queue: 10, Batch: 10, Flush: time.Millisecond})
	g.exposures = l
	rep, err := g.Recommend(context.Background(), Query{UserID: "u1", N: 3})
	if err != nil {
		t.Fatal(err)
	}
	l.close()
	if len(s.replies) != 1 {
		t.Fatalf("logged %d replies, want 1", len(s.replies))
	}
	got := s.replies[0]
	if got.UserID != "u1" || got.Rows() != len(rep.Items) || got.ModelVersion != rep.ModelVersion || got.TSMillis == 0 {
		t.Errorf("logged %+v for reply %+v", got, rep)
	}
	for i, it := range rep.Items {
		if got.Items[i].ItemID != it.ItemID || got.Items[i].Score != it.Score {
			t.Errorf("row %d = %+v, shown %+v", i, got.Items[i], it)
		}
	}
}

func TestPreviewRepliesAreNotLogged(t *testing.T) {
	g, _ := newGateway(t)
	s := &sink{}
	l, _ := newTestExposureLog(t, s, ExposureConfig{Queue: 10, Batch: 10, Flush: time.Millisecond})
	g.exposures = l
	if _, err := g.Recommend(Preview(context.Background()), Query{UserID: "u1", N: 3}); err != nil {
		t.Fatal(err)
	}
	l.close()
	if len(s.replies) != 0 || testutil.ToFloat64(l.m.queued) != 0 {
		t.Errorf("a preview was logged: %+v", s.replies)
	}
}
