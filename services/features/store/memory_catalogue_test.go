package store

import (
	"context"
	"fmt"
	"testing"

	"github.com/recmesh/recmesh/pkg/domain"
)

// The memory store's change log drops superseded revisions once they are
// many, and still answers in revision order.
func TestMemoryChangesStayBounded(t *testing.T) {
	ctx := context.Background()
	m := NewMemory()
	if err := m.PutItems(ctx, []domain.Item{{ID: 1, Available: true}, {ID: 2, Available: true}, {ID: 3, Available: true}}); err != nil {
		t.Fatal(err)
	}
	for k := range 3000 {
		if _, err := m.UpdateItem(ctx, 1+int64(k%2), func(it *domain.Item) error { it.Title = fmt.Sprint(k); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if len(m.changes) > 2*len(m.items)+1024 {
		t.Fatalf("%d revisions kept for %d items", len(m.changes), len(m.items))
	}
	all, err := m.ItemChanges(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 || all[0].ID != 3 || all[1].ID != 1 || all[2].ID != 2 || all[2].Title != "2999" {
		t.Fatalf("changes = %+v, want items 3, 1, 2 with 2 last retitled 2999", all)
	}
}
