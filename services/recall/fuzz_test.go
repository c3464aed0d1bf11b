package recall

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/recmesh/recmesh/pkg/artifact"
	"github.com/recmesh/recmesh/pkg/artifact/artifacttest"
	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/services/recall/recallapi"
)

// A model file is outside input (a directory an operator copies in): the
// recall payload either fails to load, or the index it makes answers any
// request with at most K candidates, each of them an item of the index,
// and never panics.
func FuzzLoadIndex(f *testing.F) {
	items, evs := fixture()
	good := BuildIndexFile(items, evs, DefaultBuildOptions(), nil)
	if b, err := json.Marshal(good); err == nil {
		f.Add(b)
	}
	if b, err := good.Encode(); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"items":[{"item_id":1,"title":"x","genres":["Drama"]}],"neighbours":{"1":[{"ID":2,"Sim":1}]}}`))
	f.Add([]byte(`{"items":[{"item_id":1}],"embeddings":{"dim":2,"item_ids":[1],"items":[1,2],"user_ids":["u"],"users":[1,1],"graph":{"m":1}}}`))
	f.Add([]byte(`{"items":[]}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		st := artifact.Store{Dir: t.TempDir()}
		for _, name := range []string{IndexFileName, IndexBinaryName} {
			if idx, err := LoadIndex(artifacttest.Publish(t, st, "v-"+name, map[string][]byte{name: payload})); err == nil {
				answersWithin(t, idx)
			}
		}
	})
}

// answersWithin checks idx answers with at most K candidates, each an item
// of the index.
func answersWithin(t *testing.T, idx *Index) {
	r := New(idx)
	for _, q := range []recallapi.Query{
		{},
		{Recent: []domain.Interaction{{ItemID: 1, Type: "click", Value: 1}, {ItemID: 2, Type: "like", Value: 1}}, Affinity: map[string]float64{"Drama": 1}},
	} {
		resp, err := r.Recall(context.Background(), recallapi.Request{UserID: "u", Query: q, K: 50})
		if err != nil {
			continue // an infrastructure error (no channel answered) is an answer too
		}
		if len(resp.Candidates) > 50 {
			t.Fatalf("%d candidates for k=50", len(resp.Candidates))
		}
		for _, c := range resp.Candidates {
			if _, ok := idx.Items[c.ID]; !ok {
				t.Fatalf("candidate %d is not an item of the index", c.ID)
			}
		}
	}
}
