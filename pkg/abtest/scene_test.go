package abtest

import (
	"testing"
)

func TestScenesTargetExperimentsAndParams(t *testing.T) {
	cap3 := 3
	cfg := &Config{
		Defaults: Params{RankingModel: "m1"},
		Scenes:   map[string]Params{"detail": {MaxPerGenre: &cap3}},
		Layers: []Layer{{Name: "rank", Salt: "s", Experiments: []Experiment{{
			Name: "home-only", Scenes: []string{"home"},
			Variants: []Variant{{Name: "a", Buckets: []Range{{0, NumBuckets}}, Params: Params{RankingModel: "m2"}}},
		}}}},
	}
	a, err := NewAssigner(cfg)
	if err != nil {
		t.Fatal(err)
	}
	home := a.AssignIn("u1", "home")
	if len(home.Assignments) != 1 || home.Params.RankingModel != "m2" {
		t.Errorf("on home: %+v, want the experiment's variant", home)
	}
	detail := a.AssignIn("u1", "detail")
	if len(detail.Assignments) != 0 || detail.Params.RankingModel != "m1" || detail.Params.MaxPerGenre == nil || *detail.Params.MaxPerGenre != 3 {
		t.Errorf("on detail: %+v, want no experiment and the scene's params", detail)
	}
	if none := a.Assign("u1"); len(none.Assignments) != 0 || none.Params.MaxPerGenre != nil {
		t.Errorf("on no scene: %+v, want the defaults only", none)
	}
	back := ConfigFromPB(cfg.ToPB())
	if len(back.Scenes) != 1 || len(back.Layers[0].Experiments[0].Scenes) != 1 {
		t.Errorf("scenes lost on the wire: %+v", back)
	}
	for _, bad := range []string{"Home", "", "a b"} {
		c := *cfg
		c.Scenes = map[string]Params{bad: {}}
		if c.Validate() == nil {
			t.Errorf("scene name %q accepted", bad)
		}
	}
}
