package store

import (
	"context"
	"sync"
	"time"

	"github.com/recmesh/recmesh/pkg/abtest"
)

// Memory is the in-process Store.
type Memory struct {
	mu    sync.Mutex
	cur   *abtest.Config
	audit []AuditEntry
}

// NewMemory returns an empty store (version 0).
func NewMemory() *Memory { return &Memory{cur: &abtest.Config{}} }

// Load implements Store.
func (m *Memory) Load(context.Context) (*abtest.Config, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return Clone(m.cur)
}

// Version implements Store.
func (m *Memory) Version(context.Context) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cur.Version, nil
}

// Update implements Store.
func (m *Memory) Update(_ context.Context, ch Change) (*abtest.Config, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, detail, err := next(m.cur, ch)
	if err != nil {
		return nil, err
	}
	m.cur = c
	m.audit = append(m.audit, AuditEntry{ID: int64(len(m.audit) + 1), Version: c.Version, At: time.Now().UTC(), Actor: ch.Actor, Action: ch.Action, Detail: detail})
	return Clone(c)
}

// Audit implements Store.
func (m *Memory) Audit(_ context.Context, limit int) ([]AuditEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []AuditEntry
	for i := len(m.audit) - 1; i >= 0 && len(out) < limit; i-- {
		out = append(out, m.audit[i])
	}
	return out, nil
}
