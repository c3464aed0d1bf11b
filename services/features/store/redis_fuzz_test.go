package store

import (
	"fmt"
	"math"
	"testing"
)

// A Redis recent-list entry either fails to parse, or it is an interaction
// that the writer's own format turns back into an entry of the same values.
func FuzzParseEntry(f *testing.F) {
	f.Add("31 click 1 964982703")
	f.Add("7 rating 4.5 -1")
	f.Add("1 like NaN 0")
	f.Add("  2\tclick 1e308 9 ")
	f.Add("x y z w")
	f.Fuzz(func(t *testing.T, s string) {
		in, err := parseEntry(s)
		if err != nil {
			return
		}
		again := fmt.Sprintf("%d %s %g %d", in.ItemID, in.Type, in.Value, in.TS)
		out, err := parseEntry(again)
		if err != nil {
			t.Fatalf("%q parsed to %+v, whose entry %q does not parse: %v", s, in, again, err)
		}
		same := out.ItemID == in.ItemID && out.Type == in.Type && out.TS == in.TS &&
			(out.Value == in.Value || math.IsNaN(out.Value) && math.IsNaN(in.Value))
		if !same {
			t.Fatalf("round trip of %q: %+v then %+v", s, in, out)
		}
	})
}
