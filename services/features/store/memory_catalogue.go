package store

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/recmesh/recmesh/pkg/apierr"
	"github.com/recmesh/recmesh/pkg/domain"
)

var (
	_ Catalogue        = (*Memory)(nil)
	_ Users            = (*Memory)(nil)
	_ IdempotentEvents = (*Memory)(nil)
)

// putItemsLocked stores items with the next revisions; m.mu must be held.
func (m *Memory) putItemsLocked(items []domain.Item) {
	now := time.Now()
	for _, it := range items {
		old, ok := m.items[it.ID]
		resolveCreated(&it, old, ok, now)
		m.rev++
		it.Rev = m.rev
		m.items[it.ID] = it
		m.changes = append(m.changes, revision{m.rev, it.ID})
	}
	if len(m.changes) > 2*len(m.items)+1024 { // drop superseded revisions
		m.changes = m.changes[:0]
		for id, it := range m.items {
			m.changes = append(m.changes, revision{it.Rev, id})
		}
		slices.SortFunc(m.changes, func(a, b revision) int { return cmp.Compare(a.rev, b.rev) })
	}
}

// revision is an entry of Memory.changes: item id got revision rev.
type revision struct {
	rev int64
	id  int64
}

// UpdateItem implements Catalogue.
func (m *Memory) UpdateItem(_ context.Context, id int64, f func(*domain.Item) error) (domain.Item, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	it, ok := m.items[id]
	if !ok {
		return domain.Item{}, apierr.NotFound("item %d does not exist", id)
	}
	it.Categories, it.Tags = slices.Clone(it.Categories), slices.Clone(it.Tags)
	if err := f(&it); err != nil {
		return domain.Item{}, err
	}
	m.putItemsLocked([]domain.Item{it})
	return m.items[id], nil
}

// ItemChanges implements Catalogue. The changes log is in revision order,
// so asking for what changed since a revision costs what changed, not the
// catalogue: three followers asked once a second each, and sorting a
// million items each time was three quarters of the embedded mode's CPU.
func (m *Memory) ItemChanges(_ context.Context, since int64, limit int) ([]domain.Item, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []domain.Item
	i, _ := slices.BinarySearchFunc(m.changes, since+1, func(r revision, rev int64) int { return cmp.Compare(r.rev, rev) })
	for _, r := range m.changes[i:] {
		if len(out) == limit {
			break
		}
		if it := m.items[r.id]; it.Rev == r.rev { // not superseded since
			out = append(out, it)
		}
	}
	return out, nil
}

// PutProfile implements Users.
func (m *Memory) PutProfile(_ context.Context, userID string, profile map[string]string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.user(userID).profile = clonedProfile(profile)
	return nil
}

func clonedProfile(p map[string]string) map[string]string {
	if len(p) == 0 {
		return nil
	}
	out := make(map[string]string, len(p))
	for k, v := range p {
		out[k] = v
	}
	return out
}

// ForgetUser implements Users.
func (m *Memory) ForgetUser(_ context.Context, userID string) (Forgotten, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var f Forgotten
	if u := m.users[userID]; u != nil {
		f.Events = int64(len(u.interactions))
	}
	delete(m.users, userID)
	m.exposures = slices.DeleteFunc(m.exposures, func(r exposureRow) bool {
		if r.userID == userID {
			f.Exposures++
			return true
		}
		return false
	})
	m.feedback = slices.DeleteFunc(m.feedback, func(e feedbackEvent) bool { return e.userID == userID })
	return f, nil
}

type batchKey struct {
	accepted int
	at       time.Time
}

// AppendEventsOnce implements IdempotentEvents.
func (m *Memory) AppendEventsOnce(ctx context.Context, key string, events []domain.Event) (Appended, error) {
	now := time.Now()
	m.mu.Lock()
	if b, ok := m.batches[key]; ok && now.Sub(b.at) < IdempotencyWindow {
		m.mu.Unlock()
		return Appended{Accepted: b.accepted, Dup: true}, nil
	}
	if m.batches == nil {
		m.batches = map[string]batchKey{}
	}
	if len(m.batches) >= 1<<16 { // prune the expired keys now and then
		for k, b := range m.batches {
			if now.Sub(b.at) >= IdempotencyWindow {
				delete(m.batches, k)
			}
		}
	}
	m.batches[key] = batchKey{len(events), now}
	m.mu.Unlock()
	fresh, err := m.AppendEvents(ctx, events)
	return Appended{Accepted: len(events), Fresh: fresh}, err
}
