package mesh

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/recmesh/recmesh/pkg/abtest"
	"github.com/recmesh/recmesh/services/experiment"
)

const adminToken = "e2e-token"

func adminGet(t *testing.T, service, path string, out any) int {
	t.Helper()
	req, _ := http.NewRequest("GET", m.AdminURL(service)+path, nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK && out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
	}
	return resp.StatusCode
}

// Every reply is logged item by item; clicks carrying the reply's
// request_id (and likes without one) are attributed to its exposures; the
// results route counts them per variant; and exposed items are seen.
func TestExposuresAttributionAndResults(t *testing.T) {
	cfg := &abtest.Config{Layers: []abtest.Layer{{Name: "ranking", Salt: "e2e-exposures", Experiments: []abtest.Experiment{{
		Name: "ab", Variants: []abtest.Variant{
			{Name: "a", Buckets: []abtest.Range{{Start: 0, End: 5000}}},
			{Name: "b", Buckets: []abtest.Range{{Start: 5000, End: abtest.NumBuckets}}, Params: abtest.Params{RankingWeights: map[string]float64{"like": 1}}},
		}}}}}}
	version, err := m.SetExperiments(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for m.Gateway().ConfigVersion() != version {
		time.Sleep(10 * time.Millisecond)
	}
	type counts struct{ users, exposures, clicks, likes int64 }
	want := map[string]*counts{"a": {}, "b": {}}
	shown := map[string][]int64{}
	var events []string
	for u := 300; u < 340; u++ {
		user := fmt.Sprint(u)
		r := recommend(t, user, 10)
		if len(r.Experiments) != 1 || r.RequestID == "" || r.TraceID == "" || len(r.Items) != 10 {
			t.Fatalf("reply %+v", r)
		}
		c := want[r.Experiments[0].Variant]
		c.users++
		c.exposures += int64(len(r.Items))
		shown[user] = itemIDs(r)
		// a click on the top item names the reply; a like on the second does not
		events = append(events, fmt.Sprintf(`{"user_id":%q,"item_id":%d,"type":"click","request_id":%q}`, user, r.Items[0].ItemID, r.RequestID))
		c.clicks++
		if u%3 == 0 {
			events = append(events, fmt.Sprintf(`{"user_id":%q,"item_id":%d,"type":"like"}`, user, r.Items[1].ItemID))
			c.likes++
		}
	}
	if status, body := post(t, "/v1/events", `{"events":[`+strings.Join(events, ",")+`]}`); status != http.StatusOK {
		t.Fatalf("events: %d %s", status, body)
	}
	var res experiment.Results
	deadline := time.Now().Add(20 * time.Second)
	for {
		if status := adminGet(t, "experiment", "/admin/v1/layers/ranking/experiments/ab/results", &res); status != http.StatusOK {
			t.Fatalf("results: status %d", status)
		}
		total := int64(0)
		for _, v := range res.Variants {
			total += v.Exposures
		}
		if total == want["a"].exposures+want["b"].exposures || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(res.Variants) != 2 {
		t.Fatalf("variants = %+v", res.Variants)
	}
	for _, v := range res.Variants {
		w := want[v.Name]
		if v.Users != w.users || v.Exposures != w.exposures || v.Clicks != w.clicks || v.Likes != w.likes {
			t.Errorf("variant %s: users %d exposures %d clicks %d likes %d; want %+v", v.Name, v.Users, v.Exposures, v.Clicks, v.Likes, *w)
		}
		if float64(v.CTR) != float64(w.clicks)/float64(w.exposures) {
			t.Errorf("variant %s: ctr %v", v.Name, v.CTR)
		}
	}
	if res.SRM == nil || res.SRM.Alarm || len(res.Comparisons) != 1 {
		t.Errorf("srm %+v, comparisons %+v", res.SRM, res.Comparisons)
	}
	// the same numbers reach Prometheus, per variant
	wantLine := fmt.Sprintf(`recmesh_experiment_exposures_total{experiment="ab",layer="ranking",variant="a"} %d`, want["a"].exposures)
	for deadline := time.Now().Add(10 * time.Second); ; {
		resp, err := http.Get(m.AdminURL("experiment") + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(b), wantLine) && strings.Contains(string(b), `recmesh_experiment_srm_alarm{experiment="ab",layer="ranking"} 0`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("experiment /metrics lacks %q", wantLine)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// exposed items are seen: the next list shows none of them
	for user, before := range shown {
		for _, id := range itemIDs(recommend(t, user, 10)) {
			for _, old := range before {
				if id == old {
					t.Fatalf("user %s was shown item %d again", user, id)
				}
			}
		}
	}
}

// waitExposures waits until the results of ranking/exp count n exposures.
func waitExposures(t *testing.T, exp string, n int64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var res experiment.Results
		adminGet(t, "experiment", "/admin/v1/layers/ranking/experiments/"+exp+"/results", &res)
		total := int64(0)
		for _, v := range res.Variants {
			total += v.Exposures
		}
		if total >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d exposures logged, want %d", total, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// With a frequency cap of 2 an item is shown again once, then hidden.
func TestFrequencyCapReshowsThenHides(t *testing.T) {
	cfg := &abtest.Config{Layers: []abtest.Layer{{Name: "ranking", Salt: "e2e-cap", Experiments: []abtest.Experiment{{
		Name: "cap", Variants: []abtest.Variant{{Name: "k2", Buckets: []abtest.Range{{Start: 0, End: abtest.NumBuckets}},
			Params: abtest.Params{FrequencyCap: &abtest.FrequencyCap{K: 2, Window: abtest.Duration(time.Hour), Cooldown: abtest.Duration(time.Hour)}}}},
	}}}}}
	version, err := m.SetExperiments(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for m.Gateway().ConfigVersion() != version {
		time.Sleep(10 * time.Millisecond)
	}
	const user = "350"
	first := recommend(t, user, 5)
	waitExposures(t, "cap", 5)
	second := recommend(t, user, 5)
	if fmt.Sprint(itemIDs(first)) != fmt.Sprint(itemIDs(second)) {
		t.Errorf("shown once, the items should show again: %v then %v", itemIDs(first), itemIDs(second))
	}
	waitExposures(t, "cap", 10)
	third := recommend(t, user, 5)
	for _, id := range itemIDs(third) {
		for _, old := range itemIDs(first) {
			if id == old {
				t.Fatalf("item %d was shown a third time within the window: %v", id, itemIDs(third))
			}
		}
	}
}
