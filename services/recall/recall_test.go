package recall

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/recmesh/recmesh/pkg/catalog"
	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/services/recall/recallapi"
)

// fixture: users who like 1 also like 2; item 3 is popular with everyone.
func fixture() ([]domain.Item, []domain.Event) {
	items := []domain.Item{
		{ID: 1, Categories: []string{"Drama"}}, {ID: 2, Categories: []string{"Drama"}},
		{ID: 3, Categories: []string{"Comedy"}}, {ID: 4, Categories: []string{"Horror"}},
	}
	var evs []domain.Event
	for u := 0; u < 10; u++ {
		user := fmt.Sprint("u", u)
		evs = append(evs, domain.Event{UserID: user, ItemID: 3, Type: "click", Value: 1, TS: 1000})
		if u < 6 {
			evs = append(evs,
				domain.Event{UserID: user, ItemID: 1, Type: "click", Value: 1, TS: 900},
				domain.Event{UserID: user, ItemID: 2, Type: "click", Value: 1, TS: 900})
		}
	}
	evs = append(evs, domain.Event{UserID: "old", ItemID: 4, Type: "click", Value: 1, TS: 0})
	return items, evs
}

func TestBuildIndex(t *testing.T) {
	items, evs := fixture()
	o := DefaultBuildOptions()
	o.HalfLifeDays = 1.0 / 86400 * 100 // a 100-second half-life makes decay visible
	f := BuildIndexFile(items, evs, o, nil)
	idx := NewIndex("t", f)
	if !slices.Equal(idx.Popular[:2], []int64{3, 1}) {
		t.Errorf("popular order %v, want 3 then 1", idx.Popular)
	}
	// Item 4's one click is 1000 s = 10 half-lives older than the newest event.
	if p := idx.Items[4].Popularity; math.Abs(p-math.Exp2(-10)) > 1e-12 {
		t.Errorf("popularity of an event 10 half-lives old = %v, want 2^-10", p)
	}
	nb := f.Neighbours[1]
	if len(nb) == 0 || nb[0].ID != 2 {
		t.Errorf("neighbours of 1 = %+v, want 2 first", nb)
	}
	for _, n := range f.Neighbours[4] {
		t.Errorf("item 4 (one user) has neighbour %+v below MinCoCount", n)
	}
}

func newRecaller() *Recaller {
	items, evs := fixture()
	return New(NewIndex("v1", BuildIndexFile(items, evs, DefaultBuildOptions(), nil)))
}

func TestRecallChannelsQuotasAndSources(t *testing.T) {
	r := newRecaller()
	q := recallapi.Query{Recent: []domain.Interaction{{ItemID: 1, Type: "click", Value: 1}}, Affinity: map[string]float64{"Drama": 1}}
	tests := []struct {
		name    string
		quotas  map[string]int
		want    []int64
		sources map[int64][]string
	}{
		{"all channels", nil, []int64{2, 1, 3, 4}, map[int64][]string{2: {"item_cf", "genre", "popular"}, 1: {"genre", "popular"}}},
		{"cf only", map[string]int{"genre": 0, "popular": 0, "embedding": 0}, []int64{3, 2}, nil},
		{"popular capped", map[string]int{"item_cf": 0, "genre": 0, "embedding": 0, "popular": 2}, []int64{3, 1}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := r.Recall(context.Background(), recallapi.Request{Query: q, Quotas: tt.quotas})
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, c := range resp.Candidates {
				got = append(got, c.ID)
			}
			slices.Sort(got)
			want := slices.Clone(tt.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("candidates %v, want %v", got, want)
			}
			for id, srcs := range tt.sources {
				for _, c := range resp.Candidates {
					if c.ID != id {
						continue
					}
					for _, s := range srcs {
						if !c.HasSource(s) {
							t.Errorf("item %d sources %v lack %s", id, c.Sources, s)
						}
					}
				}
			}
			if resp.ModelVersion != "v1" {
				t.Errorf("model version %q", resp.ModelVersion)
			}
		})
	}
}

func TestRecallRefusesBadRequests(t *testing.T) {
	r := newRecaller()
	for _, req := range []recallapi.Request{
		{Quotas: map[string]int{"telepathy": 5}},
		{Quotas: map[string]int{"popular": -1}},
		{Quotas: map[string]int{"popular": recallapi.MaxQuota + 1}},
		{K: recallapi.MaxK + 1},
	} {
		if _, err := r.Recall(context.Background(), req); err == nil {
			t.Errorf("Recall(%+v) succeeded", req)
		}
	}
	if _, err := New(nil).Recall(context.Background(), recallapi.Request{}); err != ErrNoIndex {
		t.Errorf("Recall without index = %v", err)
	}
}

// The registry holds each channel once, with a positive default quota; the
// popular channel the gateway's fallback asks for is among them.
func TestRegistry(t *testing.T) {
	names := ChannelNames()
	seen := map[string]bool{}
	for _, s := range registry {
		if s.Name == "" || seen[s.Name] || s.DefaultQuota <= 0 || s.Channel == nil {
			t.Errorf("bad or repeated registration %+v", s)
		}
		seen[s.Name] = true
	}
	if !slices.Contains(names, recallapi.ChannelPopular) || len(names) != len(registry) {
		t.Errorf("names %v for %d registrations", names, len(registry))
	}
}

// OnlyQuotas runs just the named channels: the popular-only list the
// gateway keeps for its fallback holds nothing from another channel, however
// many channels are registered.
func TestOnlyQuotasRunsOnlyTheNamedChannels(t *testing.T) {
	r := newRecaller()
	q := recallapi.Query{Recent: []domain.Interaction{{ItemID: 1, Type: "click", Value: 1}}, Affinity: map[string]float64{"Drama": 1}}
	resp, err := r.Recall(context.Background(), recallapi.Request{Query: q, Quotas: map[string]int{recallapi.ChannelPopular: 10}, OnlyQuotas: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Candidates) == 0 || len(resp.PerChannel) != 1 {
		t.Fatalf("per channel %v, %d candidates", resp.PerChannel, len(resp.Candidates))
	}
	for _, c := range resp.Candidates {
		if len(c.Sources) != 1 || c.Sources[0].Channel != recallapi.ChannelPopular {
			t.Errorf("candidate %d has sources %v", c.ID, c.Sources)
		}
	}
}

func TestMergeKeepsEveryChannelNearTheTop(t *testing.T) {
	idx := &Index{Items: map[int64]*ItemInfo{}}
	for id := int64(1); id <= 30; id++ {
		idx.Items[id] = &ItemInfo{Item: domain.Item{ID: id}}
	}
	lists := [][]Scored{{{1, 1}, {2, 1}, {3, 1}}, {{11, 1}, {12, 1}}, {{21, 1}, {1, 1}}}
	got := merge(newInput(idx, catalog.Reader{}, recallapi.Request{}, time.Now(), &Options{}), lists, 5)
	var ids []int64
	for _, c := range got {
		ids = append(ids, c.ID)
	}
	if !slices.Equal(ids, []int64{1, 11, 21, 2, 12}) {
		t.Errorf("merged %v, want round-robin [1 11 21 2 12]", ids)
	}
	if len(got[0].Sources) != 2 || got[0].Sources[0].Channel != registry[0].Name || got[0].Sources[1].Channel != registry[2].Name {
		t.Errorf("item 1's sources %v, want both channels in priority order", got[0].Sources)
	}
}

func benchIndex(b *testing.B) *Index {
	rng := rand.New(rand.NewPCG(1, 1))
	var items []domain.Item
	for i := 1; i <= 5000; i++ {
		items = append(items, domain.Item{ID: int64(i), Categories: []string{fmt.Sprint("g", i%15)}})
	}
	var evs []domain.Event
	for u := 0; u < 600; u++ {
		for k := 0; k < 100; k++ {
			evs = append(evs, domain.Event{UserID: fmt.Sprint(u), ItemID: int64(1 + rng.IntN(5000)), Type: "click", Value: 1, TS: int64(k)})
		}
	}
	return NewIndex("b", BuildIndexFile(items, evs, DefaultBuildOptions(), nil))
}

func BenchmarkRecall(b *testing.B) {
	idx := benchIndex(b)
	var recent []domain.Interaction
	for i := 1; i <= 50; i++ {
		recent = append(recent, domain.Interaction{ItemID: int64(i * 37), Type: "click", Value: 1})
	}
	q := recallapi.Query{Recent: recent, Affinity: map[string]float64{"g1": .5, "g2": .3, "g3": .2}}
	req := recallapi.Request{Query: q}
	opts := DefaultOptions()
	in := newInput(idx, catalog.Reader{}, req, time.Now(), &opts)
	for _, spec := range registry {
		b.Run(spec.Name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				spec.Channel.Recall(context.Background(), in, spec.DefaultQuota)
			}
		})
	}
	b.Run("merged-live", func(b *testing.B) {
		// The same, serving a catalogue view of every item (as recall does).
		view := catalog.NewView(false)
		items := make([]domain.Item, 0, len(idx.Items))
		for _, info := range idx.Items {
			it := info.Item
			it.Available, it.CreatedAt = true, time.Unix(0, 0)
			items = append(items, it)
		}
		view.Apply(items, 1)
		r := New(idx).WithCatalog(view, DefaultOptions())
		b.ReportAllocs()
		for b.Loop() {
			if _, err := r.Recall(context.Background(), req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("merged", func(b *testing.B) {
		r := New(idx)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := r.Recall(context.Background(), req); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestEmbeddingChannel(t *testing.T) {
	items, evs := fixture()
	f := BuildIndexFile(items, evs, DefaultBuildOptions(), nil)
	if f.Embeddings == nil || len(f.Embeddings.Items) != len(items)*f.Embeddings.Dim {
		t.Fatalf("embeddings %+v", f.Embeddings)
	}
	idx := NewIndex("e", f)
	only := map[string]int{"embedding": 2}
	r := New(idx)
	// u0 liked 1, 2 and 3; the channel leaves recent items out and ranks the rest.
	resp, err := r.Recall(context.Background(), recallapi.Request{UserID: "u0", Query: recallapi.Query{Recent: []domain.Interaction{{ItemID: 1, Type: "click", Value: 1}}}, Quotas: only, OnlyQuotas: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Candidates) != 2 || resp.PerChannel["embedding"] != 2 || len(resp.PerChannel) != 1 {
		t.Fatalf("known user: %+v", resp)
	}
	for _, c := range resp.Candidates {
		if c.ID == 1 || !c.HasSource("embedding") {
			t.Errorf("candidate %+v: recent item or missing source", c)
		}
	}
	// A user unknown to the model folds in from recent items; with none, nothing.
	resp, _ = r.Recall(context.Background(), recallapi.Request{UserID: "new", Query: recallapi.Query{Recent: []domain.Interaction{{ItemID: 2, Type: "click", Value: 1}}}, Quotas: only, OnlyQuotas: true})
	if len(resp.Candidates) == 0 {
		t.Error("no embedding candidates for a new user with history")
	}
	resp, _ = r.Recall(context.Background(), recallapi.Request{UserID: "new", Quotas: only, OnlyQuotas: true})
	if len(resp.Candidates) != 0 {
		t.Errorf("embedding candidates for a user with no vector and no history: %+v", resp.Candidates)
	}
}

// Both learners score a user's unseen same-taste item above the other
// taste's items.
func TestMFLearnsCoOccurrence(t *testing.T) {
	for _, o := range []MFOptions{DefaultMFOptions(), DefaultBPROptions()} {
		t.Run(o.Method, func(t *testing.T) { testMFLearnsCoOccurrence(t, o) })
	}
}

func testMFLearnsCoOccurrence(t *testing.T, o MFOptions) {
	// Two tastes: users like either {1,2,3} or {4,5,6}.
	var items []domain.Item
	for i := int64(1); i <= 6; i++ {
		items = append(items, domain.Item{ID: i})
	}
	var evs []domain.Event
	for u := 0; u < 40; u++ {
		base := int64(1 + 3*(u%2))
		for k := int64(0); k < 3; k++ {
			if u < 2 && k == 2 {
				continue // users 0 and 1 have not seen their third item
			}
			evs = append(evs, domain.Event{UserID: fmt.Sprint("u", u), ItemID: base + k, Type: "click", Value: 1})
		}
	}
	e := TrainMF(items, evs, o, nil)
	dot := func(user string, item int64) float32 {
		u := slices.Index(e.UserIDs, user)
		i := slices.Index(e.ItemIDs, item)
		var s float32
		for k := 0; k < e.Dim; k++ {
			s += e.Users[u*e.Dim+k] * e.Items[i*e.Dim+k]
		}
		return s
	}
	for _, tc := range []struct {
		user       string
		same, diff int64
	}{{"u0", 3, 4}, {"u1", 6, 1}} {
		if dot(tc.user, tc.same) <= dot(tc.user, tc.diff) {
			t.Errorf("%s scores unseen same-taste item %d (%.3f) below other-taste item %d (%.3f)",
				tc.user, tc.same, dot(tc.user, tc.same), tc.diff, dot(tc.user, tc.diff))
		}
	}
}

func TestStoredGraphIsRestored(t *testing.T) {
	defer func(n int) { exactMaxItems = n }(exactMaxItems)
	exactMaxItems = 0 // search the graph
	items, evs := fixture()
	f := BuildIndexFile(items, evs, DefaultBuildOptions(), nil)
	if f.Embeddings.Graph == nil || len(f.Embeddings.Graph.Links) != len(items) {
		t.Fatalf("no graph stored with the embeddings: %+v", f.Embeddings.Graph)
	}
	req := recallapi.Request{UserID: "u0", Query: recallapi.Query{Recent: []domain.Interaction{{ItemID: 1, Type: "click", Value: 1}}}}
	ctx := context.Background()
	opts := DefaultOptions()
	stored := embedding{}.Recall(ctx, newInput(NewIndex("a", f), catalog.Reader{}, req, time.Now(), &opts), 3)
	f.Embeddings.Graph = nil
	built := embedding{}.Recall(ctx, newInput(NewIndex("b", f), catalog.Reader{}, req, time.Now(), &opts), 3)
	if !slices.Equal(stored, built) {
		t.Errorf("restored graph answers %v, a freshly built one %v", stored, built)
	}
}

// The full scan of a small catalogue answers what the graph does: the best
// inner products, best first, never a recent or an excluded item.
func TestEmbeddingScanAnswersAsTheGraph(t *testing.T) {
	items, evs := fixture()
	f := BuildIndexFile(items, evs, DefaultBuildOptions(), nil)
	ctx := context.Background()
	opts := DefaultOptions()
	req := recallapi.Request{UserID: "u0", Exclude: []int64{3}, Query: recallapi.Query{Recent: []domain.Interaction{{ItemID: 1, Type: "click", Value: 1}}}}
	scan := embedding{}.Recall(ctx, newInput(NewIndex("a", f), catalog.Reader{}, req, time.Now(), &opts), 4)
	defer func(n int) { exactMaxItems = n }(exactMaxItems)
	exactMaxItems = 0
	graph := embedding{}.Recall(ctx, newInput(NewIndex("b", f), catalog.Reader{}, req, time.Now(), &opts), 4)
	if len(scan) == 0 || len(scan) != len(graph) {
		t.Fatalf("scan %v, graph %v", scan, graph)
	}
	for i := range scan { // the same items; scores as float32 sums in another order
		if scan[i].ID != graph[i].ID || math.Abs(scan[i].Score-graph[i].Score) > 1e-5 {
			t.Fatalf("scan %v, graph %v", scan, graph)
		}
	}
	for _, s := range scan {
		if s.ID == 1 || s.ID == 3 {
			t.Fatalf("scan returned recent or excluded item %d: %v", s.ID, scan)
		}
	}
}

// BenchmarkDot: the embedding scan's inner product, four lanes against the
// plain loop, over 10,000 items of 32 dimensions.
func BenchmarkDot(b *testing.B) {
	u := make([]float32, 32)
	v := make([]float32, 32*10000)
	for i := range v {
		v[i] = float32(i%7) / 7
	}
	for i := range u {
		u[i] = float32(i) / 32
	}
	b.Run("dot", func(b *testing.B) {
		var s float32
		for b.Loop() {
			for i := 0; i < 10000; i++ {
				s += dot(u, v[i*32:(i+1)*32])
			}
		}
		_ = s
	})
	b.Run("plain", func(b *testing.B) {
		var s float32
		for b.Loop() {
			for i := 0; i < 10000; i++ {
				w := v[i*32 : (i+1)*32]
				var d float32
				for k := range w {
					d += u[k] * w[k]
				}
				s += d
			}
		}
		_ = s
	})
}

// A trained user's requests walk their cached head of the catalogue
// (embeddingIndex.walk) and answer as the full scan does, also once their
// exclusions outgrow the head and it is ranked again.
func TestEmbeddingWalkAnswersAsTheScan(t *testing.T) {
	const items, dim = 3000, 8
	rng := rand.New(rand.NewPCG(1, 2))
	e := &Embeddings{Dim: dim, UserIDs: []string{"u"}}
	idx := &Index{Items: map[int64]*ItemInfo{}}
	for i := range items {
		id := int64(10 + i)
		e.ItemIDs = append(e.ItemIDs, id)
		idx.Items[id] = &ItemInfo{}
		for range dim {
			e.Items = append(e.Items, float32(rng.NormFloat64()))
		}
	}
	for range dim {
		e.Users = append(e.Users, float32(rng.NormFloat64()))
	}
	x := newEmbeddingIndex(e, nil)
	opts := DefaultOptions()
	var exclude []int64
	for round := range 6 {
		in := newInput(idx, catalog.Reader{}, recallapi.Request{UserID: "u", Exclude: exclude}, time.Now(), &opts)
		u := x.userVector("u", nil)
		want := x.scan(u, 100, nil, in)
		got := x.walk("u", u, 100, nil, in)
		if !slices.Equal(got, want) {
			t.Fatalf("round %d: walk %v, scan %v", round, got[:5], want[:5])
		}
		head, _ := x.tops.GetIfPresent("u")
		t.Logf("round %d: %d excluded, head of %d", round, len(exclude), len(head))
		for _, r := range x.rank(u, 300*(round+1), nil) { // the next request excludes more of the best
			exclude = append(exclude, x.scored(r).ID)
		}
	}
	if head, _ := x.tops.GetIfPresent("u"); len(head) <= topsMin {
		t.Fatalf("the head was never ranked again: %d items", len(head))
	}
	// Past exactMaxItems the head comes from the graph: the same answer
	// but for the graph's misses.
	defer func(n int) { exactMaxItems = n }(exactMaxItems)
	exactMaxItems = 0
	x = newEmbeddingIndex(e, nil) // the graph is built past exactMaxItems
	in := newInput(idx, catalog.Reader{}, recallapi.Request{UserID: "u", Exclude: exclude}, time.Now(), &opts)
	u := x.userVector("u", nil)
	want := x.scan(u, 100, nil, in)
	got := x.walk("u", u, 100, nil, in)
	same := 0
	for _, s := range got {
		if slices.Contains(in.Req.Exclude, s.ID) {
			t.Fatalf("the graph's head served excluded item %d", s.ID)
		}
		if slices.ContainsFunc(want, func(w Scored) bool { return w.ID == s.ID }) {
			same++
		}
	}
	if len(got) != 100 || same < 90 {
		t.Fatalf("graph head: %d items, %d of the scan's", len(got), same)
	}
}

// BPR on blocks gives the same vectors whatever the cores: the block count
// follows the catalogue, and each cell has its own generator. ALS solves
// each row from the other side's vectors only.
func TestMFIsTheSameOnAnyCores(t *testing.T) {
	var items []domain.Item
	for i := int64(1); i <= 2*bprBlockItems+100; i++ { // two blocks
		items = append(items, domain.Item{ID: i})
	}
	rng := rand.New(rand.NewPCG(3, 4))
	var evs []domain.Event
	for u := range 300 {
		for range 40 {
			evs = append(evs, domain.Event{UserID: fmt.Sprint("u", u), ItemID: 1 + rng.Int64N(int64(len(items))), Type: "click", Value: 1})
		}
	}
	if cells := newBPRCells(nil, len(items)); cells.blocks != 2 {
		t.Fatalf("%d blocks for %d items", cells.blocks, len(items))
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	for _, o := range []MFOptions{DefaultMFOptions(), DefaultBPROptions()} {
		o.Epochs = 5
		runtime.GOMAXPROCS(1)
		one := TrainMF(items, evs, o, nil)
		runtime.GOMAXPROCS(4)
		four := TrainMF(items, evs, o, nil)
		if !slices.Equal(one.Items, four.Items) || !slices.Equal(one.Users, four.Users) {
			t.Fatalf("%s on 1 and 4 cores gave different vectors", o.Method)
		}
	}
}
