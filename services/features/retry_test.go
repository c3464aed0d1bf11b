package features

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/recmesh/recmesh/pkg/domain"
	rlog "github.com/recmesh/recmesh/pkg/log"
	"github.com/recmesh/recmesh/pkg/resilience"
	pb "github.com/recmesh/recmesh/proto/recmesh/v1"
	"github.com/recmesh/recmesh/services/features/featuresapi"
	"github.com/recmesh/recmesh/services/features/store"
)

// lateStore stores, then answers only after the caller has given up, for
// its first `late` appends: the worst case of a timeout, a batch that was
// stored although the client was told 503.
type lateStore struct {
	*store.Memory
	late atomic.Int32
}

func (s *lateStore) wait(ctx context.Context) error {
	if s.late.Add(-1) < 0 {
		return nil
	}
	<-ctx.Done()
	return ctx.Err()
}

func (s *lateStore) AppendEvents(ctx context.Context, events []domain.Event) ([]domain.Event, error) {
	fresh, err := s.Memory.AppendEvents(ctx, events)
	if err != nil {
		return nil, err
	}
	return fresh, s.wait(ctx)
}

func (s *lateStore) AppendEventsOnce(ctx context.Context, key string, events []domain.Event) (store.Appended, error) {
	a, err := s.Memory.AppendEventsOnce(ctx, key, events)
	if err != nil {
		return a, err
	}
	return a, s.wait(ctx)
}

// A client retries a batch five times, as the README says, after four
// timeouts (the gateway's breaker and hop deadline, the real gRPC
// transport): each event is stored exactly once, whether the batch is named
// by event ids, by an Idempotency-Key, or both.
func TestRetriedBatchIsStoredOnceAcrossTimeouts(t *testing.T) {
	for _, tt := range []struct {
		name string
		key  string
		ids  bool
	}{
		{name: "event ids", ids: true},
		{name: "idempotency key", key: "batch-1"},
		{name: "both", key: "batch-2", ids: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := &lateStore{Memory: store.NewMemory()}
			st.late.Store(4)
			client := serveFeatures(t, New(st, DefaultOptions()))
			b := resilience.NewBreaker("retry-test."+tt.name, "events", resilience.DefaultSettings(time.Second),
				resilience.NewMetrics(prometheus.NewRegistry()), rlog.Discard())
			batch := domain.EventBatch{IdempotencyKey: tt.key}
			for i := range 3 {
				e := domain.Event{UserID: "u", ItemID: int64(i + 1), Type: "click", TS: 1000 + int64(i)}
				if tt.ids {
					e.EventID = "ev-" + string(rune('a'+i))
				}
				batch.Events = append(batch.Events, e)
			}
			var errs int
			for attempt := range 5 {
				ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
				n, err := resilience.Call(ctx, b, func(ctx context.Context) (int, error) {
					r, err := client.IngestEvents(ctx, featuresapi.EventsToPB(batch))
					return int(r.GetAccepted()), err
				})
				cancel()
				switch {
				case attempt < 4 && err == nil:
					t.Fatalf("attempt %d succeeded; the store was to answer late", attempt+1)
				case attempt == 4 && (err != nil || n != 3):
					t.Fatalf("last attempt: %d, %v; want 3 accepted", n, err)
				}
				if err != nil {
					errs++
				}
			}
			h, err := st.History(context.Background(), "u", 100, 100)
			if err != nil {
				t.Fatal(err)
			}
			if errs != 4 || h.Count != 3 || len(h.Seen) != 3 {
				t.Errorf("after %d timeouts and a success: %d events stored (%d items); want each of 3 once", errs, h.Count, len(h.Seen))
			}
		})
	}
}

// serveFeatures serves svc over gRPC on a loopback port.
func serveFeatures(t *testing.T, svc *Service) pb.FeaturesServiceClient {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	pb.RegisterFeaturesServiceServer(srv, NewGRPCServer(MakeEndpoints(svc)))
	go func() { _ = srv.Serve(lis) }()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(); srv.Stop() })
	return pb.NewFeaturesServiceClient(conn)
}
