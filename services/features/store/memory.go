package store

import (
	"context"
	"slices"
	"sort"
	"sync"

	"github.com/recmesh/recmesh/pkg/domain"
)

// Memory is an in-process Store for the embedded mode and tests.
type Memory struct {
	mu    sync.RWMutex
	items map[int64]domain.Item
	users map[string]*userLog
	// MaxExposureRows bounds the exposure log (DefaultMaxExposureRows when 0).
	MaxExposureRows int
	exposures       []exposureRow
	feedback        []feedbackEvent
	// rev is the catalogue's last revision, and changes every item's
	// revisions in order (superseded ones included, until they are many).
	rev     int64
	changes []revision
	batches map[string]batchKey
}

type userLog struct {
	// interactions are kept in time order, oldest first.
	interactions []domain.Interaction
	// seenOrder are the distinct items interacted with, first time first;
	// seen indexes them once there are more than seenScan.
	seen      map[int64]struct{}
	seenOrder []int64
	// eventIDs are the EventIDs on record.
	eventIDs map[string]struct{}
	// exposures are the newest MaxUserExposures, oldest first.
	exposures []domain.Exposure
	profile   map[string]string
}

// user returns the user's log, made on first use; m.mu must be held.
func (m *Memory) user(id string) *userLog {
	u := m.users[id]
	if u == nil {
		u = &userLog{}
		m.users[id] = u
	}
	return u
}

// seenScan is how many seen items a user has before markSeen keeps a set
// of them: below it a scan is as fast, and a million users' sets were a
// gigabyte.
const seenScan = 64

func (u *userLog) markSeen(item int64) {
	if u.seen == nil {
		if slices.Contains(u.seenOrder, item) {
			return
		}
		u.seenOrder = append(u.seenOrder, item)
		if len(u.seenOrder) > seenScan {
			u.seen = make(map[int64]struct{}, 2*len(u.seenOrder))
			for _, it := range u.seenOrder {
				u.seen[it] = struct{}{}
			}
		}
		return
	}
	if _, ok := u.seen[item]; !ok {
		u.seen[item] = struct{}{}
		u.seenOrder = append(u.seenOrder, item)
	}
}

// NewMemory returns an empty memory store.
func NewMemory() *Memory {
	return &Memory{items: map[int64]domain.Item{}, users: map[string]*userLog{}}
}

// PutItems implements Store (see Catalogue for revisions and created_at).
func (m *Memory) PutItems(_ context.Context, items []domain.Item) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.putItemsLocked(items)
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
func (m *Memory) AppendEvents(_ context.Context, events []domain.Event) ([]domain.Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	touched := map[*userLog]bool{}
	fresh := events[:0:0]
	for _, e := range events {
		u := m.user(e.UserID)
		if e.EventID != "" {
			if _, dup := u.eventIDs[e.EventID]; dup {
				continue
			}
			if u.eventIDs == nil {
				u.eventIDs = map[string]struct{}{}
			}
			u.eventIDs[e.EventID] = struct{}{}
		}
		fresh = append(fresh, e)
		if domain.IsFeedback(e.Type) {
			m.feedback = append(m.feedback, feedbackEvent{userID: e.UserID, requestID: e.RequestID, typ: e.Type, itemID: e.ItemID, ts: e.TS})
		}
		in := domain.Interaction{ItemID: e.ItemID, Type: e.Type, Value: e.Value, TS: e.TS}
		if n := len(u.interactions); n > 0 && u.interactions[n-1].TS > e.TS {
			touched[u] = true
		}
		u.interactions = append(u.interactions, in)
		u.markSeen(e.ItemID)
	}
	for u := range touched {
		sort.SliceStable(u.interactions, func(i, j int) bool { return u.interactions[i].TS < u.interactions[j].TS })
	}
	return fresh, nil
}

// History implements Store.
func (m *Memory) History(_ context.Context, userID string, recentLimit, seenCap int) (History, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	u := m.users[userID]
	if u == nil {
		return History{}, nil
	}
	if len(u.interactions) == 0 && len(u.exposures) == 0 {
		return History{Profile: clonedProfile(u.profile)}, nil
	}
	n := min(recentLimit, len(u.interactions))
	h := History{Recent: make([]domain.Interaction, n), Count: int64(len(u.interactions)), Profile: clonedProfile(u.profile)}
	for i := 0; i < n; i++ {
		h.Recent[i] = u.interactions[len(u.interactions)-1-i]
	}
	seen := u.seenOrder
	if len(seen) > seenCap {
		seen = seen[len(seen)-seenCap:] // keep the newest when capped
	}
	h.Seen = append([]int64(nil), seen...)
	h.Exposures = make([]domain.Exposure, len(u.exposures))
	for i, e := range u.exposures {
		h.Exposures[len(u.exposures)-1-i] = e
	}
	return h, nil
}
