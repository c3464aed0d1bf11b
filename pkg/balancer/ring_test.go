package balancer

import (
	"fmt"
	"math"
	"testing"
)

func TestRingSpreadsAndMovesAboutOneNth(t *testing.T) {
	tests := []struct{ n int }{{2}, {3}, {5}, {10}}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.n), func(t *testing.T) {
			members := make([]string, tt.n)
			for i := range members {
				members[i] = fmt.Sprintf("10.0.0.%d:9000", i)
			}
			before := NewRing(members, DefaultReplicas)
			after := NewRing(append(members, "10.0.1.1:9000"), DefaultReplicas)
			const keys = 20000
			counts := map[string]int{}
			moved := 0
			for k := 0; k < keys; k++ {
				key := fmt.Sprintf("user-%d", k)
				b, a := before.Get(key), after.Get(key)
				counts[b]++
				if a != b {
					moved++
					if a != "10.0.1.1:9000" {
						t.Fatalf("key %s moved between two old members %s → %s", key, b, a)
					}
				}
			}
			ideal := 1.0 / float64(tt.n+1)
			frac := float64(moved) / keys
			t.Logf("adding 1 instance to %d moved %.4f of %d users (ideal 1/(N+1) = %.4f)", tt.n, frac, keys, ideal)
			if math.Abs(frac-ideal) > ideal*0.35 {
				t.Errorf("moved %.3f of keys adding 1 to %d, want about %.3f", frac, tt.n, ideal)
			}
			for m, c := range counts {
				if share := float64(c) / keys; math.Abs(share-1/float64(tt.n)) > 0.35/float64(tt.n) {
					t.Errorf("member %s holds %.3f of keys, want about %.3f", m, share, 1/float64(tt.n))
				}
			}
		})
	}
}

func TestEmptyRing(t *testing.T) {
	if got := NewRing(nil, 0).Get("x"); got != "" {
		t.Errorf("empty ring returned %q", got)
	}
}
