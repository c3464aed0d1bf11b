package offline

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/recmesh/recmesh/pkg/artifact"
	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/services/ranking"
	"github.com/recmesh/recmesh/services/recall"
)

// synthetic makes users who each favour one genre, so the data has signal.
func synthetic() ([]domain.Item, []domain.Event) {
	genres := []string{"Drama", "Comedy", "Horror", "Action"}
	var items []domain.Item
	for i := 1; i <= 200; i++ {
		items = append(items, domain.Item{ID: int64(i), Title: fmt.Sprint("m", i), Categories: []string{genres[i%4]}, Year: 1980 + i%40})
	}
	rng := rand.New(rand.NewPCG(7, 7))
	var evs []domain.Event
	for u := 0; u < 80; u++ {
		fav := u % 4
		for k := 0; k < 30; k++ {
			id := int64(1 + 4*rng.IntN(50) + fav) // mostly the favourite genre
			if k%5 == 0 {
				id = int64(1 + rng.IntN(200))
			}
			evs = append(evs, domain.Event{UserID: fmt.Sprint("u", u), ItemID: id, Type: "rating", Value: float64(1 + rng.IntN(5)), TS: int64(1000 + k*10 + u)})
		}
	}
	return items, evs
}

func trainOnce(t *testing.T, seed uint64) (*ranking.Model, *recall.IndexFile) {
	t.Helper()
	items, evs := synthetic()
	st := artifact.Store{Dir: t.TempDir()}
	o := DefaultTrainOptions()
	o.Seed = seed
	var log strings.Builder
	o.Progress = &log
	m, err := Train(context.Background(), items, evs, st, o)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "published "+m.Version) {
		t.Errorf("progress log lacks the published line:\n%s", log.String())
	}
	set, err := st.OpenCurrent()
	if err != nil {
		t.Fatal(err)
	}
	var model ranking.Model
	if err := set.ReadJSON(ranking.ModelFileName, &model); err != nil {
		t.Fatal(err)
	}
	idx, err := recall.ReadIndexFile(set)
	if err != nil {
		t.Fatal(err)
	}
	if err := model.Validate(); err != nil {
		t.Fatal(err)
	}
	if model.Version != m.Version || set.Manifest.DataFrom.Unix() != 1000 {
		t.Errorf("manifest %+v / model version %s", set.Manifest, model.Version)
	}
	return &model, idx
}

func TestTrainIsDeterministicForASeed(t *testing.T) {
	a, ia := trainOnce(t, 42)
	b, ib := trainOnce(t, 42)
	a.Version, b.Version = "", ""
	if !reflect.DeepEqual(a, b) {
		t.Errorf("two runs with seed 42 differ:\n%+v\n%+v", a, b)
	}
	if !reflect.DeepEqual(ia, ib) {
		t.Error("two runs with seed 42 built different recall indexes")
	}
	if auc := a.Metrics["click_auc"]; !(auc > 0.5) {
		t.Errorf("click AUC %v on data with signal, want > 0.5", auc)
	}
}

func TestTrainRefusesEmptyData(t *testing.T) {
	items, _ := synthetic()
	if _, err := Train(context.Background(), items, nil, artifact.Store{Dir: t.TempDir()}, DefaultTrainOptions()); err == nil {
		t.Error("training on no events succeeded")
	}
}
