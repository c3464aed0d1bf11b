package store

import (
	"context"
	"sort"
	"sync"

	"github.com/recmesh/recmesh/pkg/domain"
)

// Memory is an in-process Store for the embedded mode and tests.
type Memory struct {
	mu    sync.RWMutex
	items map[int64]domain.Item
	users map[string]*userLog
}

type userLog struct {
	// interactions are kept in time order, oldest first.
	interactions []domain.Interaction
	seen         map[int64]struct{}
	seenOrder    []int64
}

// NewMemory returns an empty memory store.
func NewMemory() *Memory {
	return &Memory{items: map[int64]domain.Item{}, users: map[string]*userLog{}}
}

// PutItems implements Store.
func (m *Memory) PutItems(_ context.Context, items []domain.Item) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, it := range items {
		m.items[it.ID] = it
	}
	return nil
}

// Items implements Store.
func (m *Memory) Items(_ context.Context, ids []int64) (map[int64]domain.Item, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make(map[int64]domain.Item, len(ids))
	for _, id := range ids {
		if it, ok := m.items[id]; ok {
			out[id] = it
		}
	}
	return out, nil
}

// AppendEvents implements Store. Out-of-order events are placed by timestamp.
func (m *Memory) AppendEvents(_ context.Context, events []domain.Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	touched := map[*userLog]bool{}
	for _, e := range events {
		u := m.users[e.UserID]
		if u == nil {
			u = &userLog{seen: map[int64]struct{}{}}
			m.users[e.UserID] = u
		}
		in := domain.Interaction{ItemID: e.ItemID, Type: e.Type, Value: e.Value, TS: e.TS}
		if n := len(u.interactions); n > 0 && u.interactions[n-1].TS > e.TS {
			touched[u] = true
		}
		u.interactions = append(u.interactions, in)
		if _, ok := u.seen[e.ItemID]; !ok {
			u.seen[e.ItemID] = struct{}{}
			u.seenOrder = append(u.seenOrder, e.ItemID)
		}
	}
	for u := range touched {
		sort.SliceStable(u.interactions, func(i, j int) bool { return u.interactions[i].TS < u.interactions[j].TS })
	}
	return nil
}

// History implements Store.
func (m *Memory) History(_ context.Context, userID string, recentLimit, seenCap int) (History, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	u := m.users[userID]
	if u == nil {
		return History{}, nil
	}
	n := min(recentLimit, len(u.interactions))
	h := History{Recent: make([]domain.Interaction, n), Count: int64(len(u.interactions))}
	for i := 0; i < n; i++ {
		h.Recent[i] = u.interactions[len(u.interactions)-1-i]
	}
	seen := u.seenOrder
	if len(seen) > seenCap {
		seen = seen[len(seen)-seenCap:] // keep the newest when capped
	}
	h.Seen = append([]int64(nil), seen...)
	return h, nil
}
