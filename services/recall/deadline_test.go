package recall

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/recmesh/recmesh/pkg/catalog"
	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/services/recall/recallapi"
)

// stuck is a channel that answers only once unblocked, long after any
// deadline: a slow embedding search, say.
type stuck struct {
	unblock chan struct{}
	done    chan struct{}
}

func (s stuck) Recall(context.Context, *Input, int) []Scored {
	<-s.unblock
	close(s.done)
	return []Scored{{ID: 4, Score: 1}}
}

// withChannel swaps the channel registered under name for the test.
func withChannel(t *testing.T, name string, ch Channel) {
	t.Helper()
	saved := registry
	registry = slices.Clone(registry)
	registry[channelIndex(name)].Channel = ch
	t.Cleanup(func() { registry = saved })
}

// A channel that misses the hop's deadline is dropped and named; the
// others' candidates are served before it ends, and the catalogue view
// stays read-locked until it does.
func TestSlowChannelIsDroppedAndNamed(t *testing.T) {
	s := stuck{unblock: make(chan struct{}), done: make(chan struct{})}
	withChannel(t, domain.ChannelEmbedding, s)
	items, evs := fixture()
	view := catalog.NewView(false)
	r := New(NewIndex("v1", BuildIndexFile(items, evs, DefaultBuildOptions(), nil))).WithCatalog(view, DefaultOptions())
	q := recallapi.Query{Recent: []domain.Interaction{{ItemID: 1, Type: "click", Value: 1}}, Affinity: map[string]float64{"Drama": 1}}

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	resp, err := r.Recall(ctx, recallapi.Request{Query: q})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.done:
		t.Fatal("Recall waited for the stuck channel")
	default:
	}
	if !slices.Equal(resp.Missed, []string{domain.ChannelEmbedding}) {
		t.Errorf("missed = %v, want [embedding]", resp.Missed)
	}
	if _, ok := resp.PerChannel[domain.ChannelEmbedding]; ok || resp.PerChannel[domain.ChannelItemCF] == 0 || len(resp.Candidates) == 0 {
		t.Errorf("per channel %v, %d candidates: want the other channels served", resp.PerChannel, len(resp.Candidates))
	}
	for _, c := range resp.Candidates {
		if c.HasSource(domain.ChannelEmbedding) {
			t.Errorf("candidate %d came from the dropped channel", c.ID)
		}
	}
	// The straggler still holds the view: a catalogue change waits for it.
	applied := make(chan struct{})
	go func() {
		view.Apply([]domain.Item{{ID: 99, Title: "new", Available: true, Rev: 1}}, 1)
		close(applied)
	}()
	select {
	case <-applied:
		t.Fatal("the view changed while a channel was still reading it")
	case <-time.After(20 * time.Millisecond):
	}
	close(s.unblock)
	<-applied
}

// When every channel misses, recall fails, so the gateway serves its
// popular-list fallback instead of an empty list.
func TestEveryChannelMissedIsAnError(t *testing.T) {
	s := stuck{unblock: make(chan struct{}), done: make(chan struct{})}
	defer close(s.unblock)
	withChannel(t, domain.ChannelItemCF, s)
	r := newRecaller()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	_, err := r.Recall(ctx, recallapi.Request{OnlyQuotas: true, Quotas: map[string]int{domain.ChannelItemCF: 10},
		Query: recallapi.Query{Recent: []domain.Interaction{{ItemID: 1, Type: "click", Value: 1}}}})
	if err == nil {
		t.Fatal("recall answered with no channel")
	}
}
