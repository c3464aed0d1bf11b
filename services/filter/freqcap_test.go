package filter

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/services/filter/filterapi"
)

func TestExposureRulesAndFrequencyCaps(t *testing.T) {
	const now = int64(10_000_000)
	min := int64(time.Minute / time.Millisecond)
	shown := func(item int64, agoMin ...int64) []domain.Exposure {
		var out []domain.Exposure
		for _, a := range agoMin {
			out = append(out, domain.Exposure{ItemID: item, TSMillis: now - a*min})
		}
		return out
	}
	join := func(xs ...[]domain.Exposure) []domain.Exposure {
		var out []domain.Exposure
		for _, x := range xs {
			out = append(out, x...)
		}
		return out
	}
	capOf := filterapi.FrequencyCap{K: 3, Window: time.Hour, Cooldown: 2 * time.Hour}
	tests := []struct {
		name   string
		e      filterapi.Exposure
		hidden map[int64]string
	}{
		{"without a cap every shown item is seen",
			filterapi.Exposure{Shown: join(shown(1, 5), shown(2, 500))},
			map[int64]string{1: "seen", 2: "seen"}},
		{"k exposures within the window hide the item",
			filterapi.Exposure{Cap: capOf, Shown: join(shown(1, 50, 30, 10), shown(2, 30, 10))},
			map[int64]string{1: "frequency_cap"}},
		{"spread wider than the window: not capped",
			filterapi.Exposure{Cap: capOf, Shown: shown(1, 100, 50, 10)},
			map[int64]string{}},
		{"the cooldown has passed",
			filterapi.Exposure{Cap: capOf, Shown: shown(1, 200, 180, 150)},
			map[int64]string{}},
		{"still cooling down",
			filterapi.Exposure{Cap: capOf, Shown: shown(1, 150, 130, 110)},
			map[int64]string{1: "frequency_cap"}},
		{"a click resets the count",
			filterapi.Exposure{Cap: capOf, Shown: shown(1, 50, 30, 10), Clicks: shown(1, 20)},
			map[int64]string{}},
		{"a click before the exposures does not",
			filterapi.Exposure{Cap: capOf, Shown: shown(1, 50, 30, 10), Clicks: shown(1, 60)},
			map[int64]string{1: "frequency_cap"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.e.NowMillis = now
			if d := cmp.Diff(tc.hidden, tc.e.Hidden()); d != "" {
				t.Errorf("hidden (-want +got):\n%s", d)
			}
		})
	}
	// through the service and the wire codec: counted per rule
	f := New(0, nil)
	req := filterapi.Request{Candidates: []domain.Candidate{cand(1), cand(2), cand(3)}, Seen: []int64{3},
		Exposure: filterapi.Exposure{Cap: capOf, NowMillis: now, Shown: join(shown(1, 50, 30, 10), shown(2, 5))}}
	decoded, err := filterapi.RequestFromPB(filterapi.RequestToPB(req))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := f.Filter(context.Background(), decoded)
	if err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(ids(resp.Kept), []int64{2}) || !cmp.Equal(resp.Dropped, map[string]int{"seen": 1, "frequency_cap": 1}) {
		t.Errorf("kept %v, dropped %v", ids(resp.Kept), resp.Dropped)
	}
	bad := req
	bad.Exposure.Cap.Window = 0
	if _, err := f.Filter(context.Background(), bad); err == nil {
		t.Error("a cap without a window was accepted")
	}
}
