package recall

import (
	"context"
	"math"
	"testing"

	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/services/recall/recallapi"
)

// Every candidate carries every signal, whichever channel produced it, and
// a signal agrees with the channel that measures the same thing where
// that channel produced the candidate.
func TestEveryCandidateCarriesTheSignals(t *testing.T) {
	items, evs := fixture()
	r := New(NewIndex("s", BuildIndexFile(items, evs, DefaultBuildOptions(), nil)))
	recent := []domain.Interaction{{ItemID: 1, Type: "click", Value: 1}, {ItemID: 4, Type: "click", Value: 1}}
	resp, err := r.Recall(context.Background(), recallapi.Request{UserID: "u0",
		Query: recallapi.Query{Recent: recent, Affinity: map[string]float64{"Drama": 1}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Candidates) < 2 {
		t.Fatalf("%d candidates; the test needs several", len(resp.Candidates))
	}
	cfSeen, embSeen := false, false
	for _, c := range resp.Candidates {
		if len(c.Signals.Names) != len(signalNames) || len(c.Signals.Values) != len(signalNames) {
			t.Fatalf("candidate %d has signals %+v", c.ID, c.Signals)
		}
		if c.HasSource(domain.ChannelItemCF) {
			cfSeen = true
			if got, want := c.Signal(domain.SignalCF), c.SourceScore(domain.ChannelItemCF); math.Abs(got-want) > 1e-6*math.Max(1, want) {
				t.Errorf("candidate %d: cf signal %v, item-CF's score %v", c.ID, got, want)
			}
			if c.Signal(domain.SignalCFLinks) < 1 || c.Signal(domain.SignalCFMax) <= 0 {
				t.Errorf("candidate %d: item-CF produced it, but links %v, max %v", c.ID, c.Signal(domain.SignalCFLinks), c.Signal(domain.SignalCFMax))
			}
		}
		if c.HasSource(domain.ChannelEmbedding) {
			embSeen = true
			if got, want := c.Signal(domain.SignalEmbedding), c.SourceScore(domain.ChannelEmbedding); math.Abs(got-want) > 1e-6 {
				t.Errorf("candidate %d: emb signal %v, the embedding channel's score %v", c.ID, got, want)
			}
		}
		// The newest interaction (item 1) is a Drama: a Drama candidate's
		// genre was touched 0 interactions ago.
		if c.HasCategory([]string{"Drama"}) && c.Signal(domain.SignalGenreRecency) != 1 {
			t.Errorf("candidate %d (Drama): genre recency %v, want 1", c.ID, c.Signal(domain.SignalGenreRecency))
		}
		if c.HasCategory([]string{"Comedy"}) && c.Signal(domain.SignalGenreRecency) != 0 {
			t.Errorf("candidate %d (Comedy, never touched): genre recency %v, want 0", c.ID, c.Signal(domain.SignalGenreRecency))
		}
	}
	if !cfSeen || !embSeen {
		t.Errorf("item-CF produced a candidate: %v; the embedding channel: %v; the test wants both", cfSeen, embSeen)
	}
}

// A candidate's place by a signal: the first is 1, ties share a place,
// the next after a tie skips it, and a candidate without an item-CF link
// has no place; without a source nothing is set.
func TestRankSignal(t *testing.T) {
	const k = 2 // column 0 is the score, column 1 its place
	values := []float32{0.5, 0, 2, 0, 0.5, 0, 0, 0, 1, 0}
	rankSignal(values, k, 0, 1, true, make([]int32, len(values)/k))
	place := func(p int) float32 { return float32(1 / math.Log2(float64(2+p))) }
	want := []float32{place(2), place(0), place(2), 0, place(1)}
	for i, w := range want {
		if got := values[i*k+1]; got != w {
			t.Errorf("candidate %d (score %v): place signal %v, want %v", i, values[i*k], got, w)
		}
	}
	values = []float32{-1, 0, 3, 0}
	rankSignal(values, k, 0, 1, false, make([]int32, len(values)/k))
	if values[1] != 0 || values[3] != 0 {
		t.Errorf("places without a source: %v", values)
	}
}

// On a similar-items request the emb signal scores by the seeds' mean
// vector, as the embedding channel does, so an anonymous request's
// candidates have inner products and places too.
func TestSimilarItemsSignalsFollowTheSeeds(t *testing.T) {
	items, evs := fixture()
	r := New(NewIndex("s", BuildIndexFile(items, evs, DefaultBuildOptions(), nil)))
	resp, err := r.Recall(context.Background(), recallapi.Request{Seeds: []int64{1}})
	if err != nil {
		t.Fatal(err)
	}
	embSeen, placed := false, false
	for _, c := range resp.Candidates {
		if c.HasSource(domain.ChannelEmbedding) {
			embSeen = true
			if got, want := c.Signal(domain.SignalEmbedding), c.SourceScore(domain.ChannelEmbedding); math.Abs(got-want) > 1e-6 {
				t.Errorf("candidate %d: emb signal %v, the embedding channel's score %v", c.ID, got, want)
			}
		}
		if c.Signal(domain.SignalEmbeddingRank) > 0 {
			placed = true
		}
	}
	if !embSeen || !placed {
		t.Errorf("the embedding channel produced a candidate: %v; a candidate has an embedding place: %v", embSeen, placed)
	}
}
