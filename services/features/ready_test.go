package features

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	rlog "github.com/recmesh/recmesh/pkg/log"
	"github.com/recmesh/recmesh/services/features/store"
)

// record is a memory store whose Ping answers err, standing in for PostgreSQL.
type record struct {
	*store.Memory
	err error
}

func (r record) Ping(context.Context) error { return r.err }

// features is ready while either of its backends answers: without Redis it
// serves history from PostgreSQL, without PostgreSQL from Redis.
func TestReadyWhileEitherBackendAnswers(t *testing.T) {
	dead := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 50 * time.Millisecond, MaxRetries: -1})
	t.Cleanup(func() { _ = dead.Close() })
	deadRT := store.NewRealTime(dead, store.DefaultRealTimeOptions())
	down := errors.New("connection refused")
	for _, tt := range []struct {
		name      string
		recordErr error
		wantReady bool
	}{
		{name: "redis down, postgres up", wantReady: true},
		{name: "both down", recordErr: down},
	} {
		d := &store.Durable{Record: record{store.NewMemory(), tt.recordErr}, RT: deadRT, Log: rlog.Discard()}
		if err := ping(context.Background(), d); (err == nil) != tt.wantReady {
			t.Errorf("%s: ping = %v, want ready %v", tt.name, err, tt.wantReady)
		}
	}
}
