package gateway

import (
	"slices"
	"testing"

	"github.com/recmesh/recmesh/pkg/apierr"
)

func TestCursorRoundTripAndRefusals(t *testing.T) {
	ids := []int64{42, 7, 1_000_000_007, 7}
	c := encodeCursor("u1", ids)
	got, err := decodeCursor("u1", c)
	if err != nil || !slices.Equal(got, []int64{7, 42, 1_000_000_007}) {
		t.Fatalf("round trip = %v, %v", got, err)
	}
	if got, err := decodeCursor("u1", ""); err != nil || got != nil {
		t.Errorf("empty cursor = %v, %v", got, err)
	}
	tampered := []byte(c)
	tampered[len(tampered)/2] ^= 1
	for name, in := range map[string]string{"other user": c, "tampered": string(tampered), "garbage": "!!", "short": "AQ"} {
		user := "u1"
		if name == "other user" {
			user = "u2"
		}
		if _, err := decodeCursor(user, in); err == nil {
			t.Errorf("%s cursor accepted", name)
		} else if e, ok := apierr.As(err); !ok || e.Kind != apierr.KindInvalid {
			t.Errorf("%s cursor: %v, want invalid", name, err)
		}
	}
}

func FuzzDecodeCursor(f *testing.F) {
	f.Add(encodeCursor("u", []int64{1, 2, 3}))
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		ids, err := decodeCursor("u", s)
		if err == nil && len(ids) > MaxSessionItems {
			t.Fatalf("decoded %d ids", len(ids))
		}
	})
}
