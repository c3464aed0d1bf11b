package abtest

import (
	"encoding/json"
	"os"
	"testing"
)

// An experiment config either fails to parse or validate, or it is valid,
// survives a round trip through JSON unchanged, and assigns any user to a
// variant of each experiment it enters (never a panic).
func FuzzParseConfig(f *testing.F) {
	if b, err := os.ReadFile("../../config/experiments.json"); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"version":1,"layers":[{"name":"l","salt":"s","experiments":[{"name":"e","variants":[{"name":"a","buckets":[{"start":0,"end":500}]}]}]}]}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"layers":[{"name":"l"}]} {}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b)
		if err != nil {
			return
		}
		again, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("a valid config does not marshal: %v", err)
		}
		c2, err := Parse(again)
		if err != nil {
			t.Fatalf("a valid config does not parse back: %v\n%s", err, again)
		}
		if third, _ := json.Marshal(c2); string(third) != string(again) {
			t.Fatalf("round trip changed the config:\n%s\n%s", again, third)
		}
		a, err := NewAssigner(c)
		if err != nil {
			t.Fatalf("a valid config has no assigner: %v", err)
		}
		for _, u := range []string{"", "1", "user-42", "\x00\xff"} {
			res := a.Assign(u)
			for _, as := range res.Assignments {
				if as.Layer == "" || as.Variant == "" {
					t.Fatalf("assignment without a layer or variant: %+v", as)
				}
			}
		}
	})
}
