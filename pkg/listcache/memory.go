package listcache

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Memory is a Store in process: the shared level of tests, where several
// caches over one Memory stand for gateway replicas over one Redis.
type Memory struct {
	mu   sync.Mutex
	now  func() time.Time
	data map[string]map[string]memList // user → key → list
	// marks are when users were invalidated (Store.Put).
	marks map[string]time.Time
	subs  []chan string
}

type memList struct {
	list    List
	served  []int64
	expires time.Time
}

// NewMemory returns an empty store.
func NewMemory() *Memory {
	return &Memory{now: time.Now, data: map[string]map[string]memList{}, marks: map[string]time.Time{}}
}

// Get implements Store.
func (m *Memory) Get(_ context.Context, user, key string) (List, []int64, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.data[user][key]
	if !ok || m.now().After(l.expires) {
		return List{}, nil, false, nil
	}
	return l.list, slices.Clone(l.served), true, nil
}

// Put implements Store.
func (m *Memory) Put(_ context.Context, user, key string, l List, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if t, ok := m.marks[user]; ok && !l.Built.After(t) {
		return nil
	}
	if m.data[user] == nil {
		m.data[user] = map[string]memList{}
	}
	m.data[user][key] = memList{list: l, expires: m.now().Add(ttl)}
	return nil
}

// Served implements Store.
func (m *Memory) Served(_ context.Context, user, key string, served []int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if l, ok := m.data[user][key]; ok {
		l.served = slices.Clone(served)
		m.data[user][key] = l
	}
	return nil
}

// Invalidate implements Store.
func (m *Memory) Invalidate(_ context.Context, user string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.data, user)
	now := m.now()
	for u, t := range m.marks { // forget marks past MarkTTL, so they do not pile up
		if now.Sub(t) > MarkTTL {
			delete(m.marks, u)
		}
	}
	m.marks[user] = now
	for _, s := range m.subs {
		select {
		case s <- user:
		default: // a subscriber that cannot keep up misses it, as with Redis
		}
	}
	return nil
}

// Invalidations implements Store.
func (m *Memory) Invalidations(ctx context.Context) (<-chan string, error) {
	ch := make(chan string, 256)
	m.mu.Lock()
	m.subs = append(m.subs, ch)
	m.mu.Unlock()
	go func() {
		<-ctx.Done()
		m.mu.Lock()
		defer m.mu.Unlock()
		m.subs = slices.DeleteFunc(m.subs, func(c chan string) bool { return c == ch })
		close(ch)
	}()
	return ch, nil
}
