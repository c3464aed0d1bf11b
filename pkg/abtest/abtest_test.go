package abtest

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestHash64KnownValues pins the hash to published XXH64 (seed 0) values, so
// the vectors file below cannot silently drift with the implementation.
func TestHash64KnownValues(t *testing.T) {
	for in, want := range map[string]uint64{
		"":    0xef46db3751d8e999,
		"a":   0xd24ec4f1a98c6e5b,
		"abc": 0x44bc2cf5ad770999,
	} {
		if got := Hash64(in); got != want {
			t.Errorf("Hash64(%q) = %#x, want %#x", in, got, want)
		}
	}
}

type vector struct {
	Salt   string `json:"salt"`
	Unit   string `json:"unit"`
	Hash64 string `json:"hash64"`
	Bucket int    `json:"bucket"`
}

func TestBucketVectors(t *testing.T) {
	b, err := os.ReadFile("testdata/bucket_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var vs []vector
	if err := json.Unmarshal(b, &vs); err != nil {
		t.Fatal(err)
	}
	if len(vs) < 5 {
		t.Fatalf("only %d vectors", len(vs))
	}
	for _, v := range vs {
		if got := fmt.Sprintf("%016x", Hash64(v.Salt+":"+v.Unit)); got != v.Hash64 {
			t.Errorf("hash64(%q:%q) = %s, want %s", v.Salt, v.Unit, got, v.Hash64)
		}
		if got := Bucket(v.Salt, v.Unit); got != v.Bucket {
			t.Errorf("Bucket(%q, %q) = %d, want %d", v.Salt, v.Unit, got, v.Bucket)
		}
	}
}

func intp(i int) *int { return &i }

func twoLayerConfig() *Config {
	return &Config{
		Version:  3,
		Defaults: Params{RecallQuotas: map[string]int{"popular": 100, "item_cf": 200}, RankingWeights: map[string]float64{"click": 1}},
		Layers: []Layer{
			{Name: "ranking", Salt: "rk", Experiments: []Experiment{{
				Name: "fusion",
				Variants: []Variant{
					{Name: "control", Buckets: []Range{{0, 5000}}},
					{Name: "like-heavy", Buckets: []Range{{5000, 10000}}, Params: Params{RankingWeights: map[string]float64{"click": 0.2, "like": 1}}},
				},
				Overrides: map[string]string{"vip": "like-heavy"},
			}}},
			{Name: "recall", Salt: "rc", Experiments: []Experiment{{
				Name: "quotas",
				Variants: []Variant{
					{Name: "a", Buckets: []Range{{0, 2000}}},
					{Name: "b", Buckets: []Range{{2000, 3000}, {6000, 7000}}, Params: Params{RecallQuotas: map[string]int{"item_cf": 50}, MaxPerGenre: intp(3)}, Routes: map[string]string{"recall": "v2"}},
				},
			}}},
		},
	}
}

// TestDistributionAndIndependence assigns 100k users and checks every
// variant's share is within ±1% of its configured share, and that the
// variant in one layer tells nothing about the variant in the other.
func TestDistributionAndIndependence(t *testing.T) {
	a, err := NewAssigner(twoLayerConfig())
	if err != nil {
		t.Fatal(err)
	}
	const n = 100_000
	counts := map[string]int{}
	joint := map[[2]string]int{}
	for i := 0; i < n; i++ {
		res := a.Assign(fmt.Sprintf("user-%d", i))
		got := map[string]string{"ranking": "-", "recall": "-"}
		for _, as := range res.Assignments {
			got[as.Layer] = as.Variant
			counts[as.Layer+"/"+as.Variant]++
		}
		joint[[2]string{got["ranking"], got["recall"]}]++
	}
	want := map[string]float64{"ranking/control": .5, "ranking/like-heavy": .5, "recall/a": .2, "recall/b": .2}
	for k, share := range want {
		if got := float64(counts[k]) / n; math.Abs(got-share) > 0.01 {
			t.Errorf("%s share = %.4f, want %.2f ± 0.01", k, got, share)
		}
	}
	// Independence: P(ranking=x, recall=y) ≈ P(x)·P(y) for every pair.
	recallShare := map[string]float64{"a": .2, "b": .2, "-": .6}
	for _, x := range []string{"control", "like-heavy"} {
		for y, py := range recallShare {
			got := float64(joint[[2]string{x, y}]) / n
			if math.Abs(got-0.5*py) > 0.01 {
				t.Errorf("P(ranking=%s, recall=%s) = %.4f, want %.4f ± 0.01", x, y, got, 0.5*py)
			}
		}
	}
}

func TestAssignParamsRoutesAndOverrides(t *testing.T) {
	a, err := NewAssigner(twoLayerConfig())
	if err != nil {
		t.Fatal(err)
	}
	// Find a user in recall/b and check its merged params.
	for i := 0; ; i++ {
		u := fmt.Sprintf("u%d", i)
		res := a.Assign(u)
		if len(res.Assignments) < 2 || res.Assignments[1].Variant != "b" {
			continue
		}
		if diff := cmp.Diff(map[string]int{"popular": 100, "item_cf": 50}, res.Params.RecallQuotas); diff != "" {
			t.Errorf("quotas (-want +got):\n%s", diff)
		}
		if res.Params.MaxPerGenre == nil || *res.Params.MaxPerGenre != 3 {
			t.Errorf("MaxPerGenre = %v, want 3", res.Params.MaxPerGenre)
		}
		if res.Routes["recall"] != "v2" {
			t.Errorf("routes = %v, want recall→v2", res.Routes)
		}
		break
	}
	res := a.Assign("vip")
	if res.Assignments[0].Variant != "like-heavy" || res.Params.RankingWeights["like"] != 1 {
		t.Errorf("override ignored: %+v", res)
	}
	// Defaults must not be mutated by overlays.
	if a.Config().Defaults.RecallQuotas["item_cf"] != 200 {
		t.Errorf("defaults mutated: %v", a.Config().Defaults.RecallQuotas)
	}
}

func TestValidateRefusesBadConfigs(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"overlap", func(c *Config) { c.Layers[1].Experiments[0].Variants[0].Buckets[0].End = 2500 }, "overlap"},
		{"out of range", func(c *Config) { c.Layers[0].Experiments[0].Variants[1].Buckets[0].End = 10001 }, "not inside"},
		{"empty range", func(c *Config) { c.Layers[0].Experiments[0].Variants[0].Buckets[0].End = 0 }, "not inside"},
		{"shared salt", func(c *Config) { c.Layers[1].Salt = "rk" }, "salt"},
		{"dup layer", func(c *Config) { c.Layers[1].Name = "ranking" }, "repeated"},
		{"dup variant", func(c *Config) { c.Layers[0].Experiments[0].Variants[1].Name = "control" }, "repeated"},
		{"bad override", func(c *Config) { c.Layers[0].Experiments[0].Overrides["x"] = "nope" }, "unknown variant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := twoLayerConfig()
			tt.mutate(c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v, want error mentioning %q", err, tt.want)
			}
		})
	}
}

func TestLoadFileRefusesUnknownFields(t *testing.T) {
	p := t.TempDir() + "/c.json"
	if err := os.WriteFile(p, []byte(`{"version":1,"layerz":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFile(p); err == nil || !strings.Contains(err.Error(), "layerz") {
		t.Fatalf("LoadFile = %v, want unknown field error", err)
	}
}

func TestPBRoundTrip(t *testing.T) {
	c := twoLayerConfig()
	if diff := cmp.Diff(c, ConfigFromPB(c.ToPB())); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func BenchmarkAssign(b *testing.B) {
	a, err := NewAssigner(twoLayerConfig())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		a.Assign("user-12345")
	}
}
