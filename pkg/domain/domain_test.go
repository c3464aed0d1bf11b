package domain

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestEventValidate(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	tests := []struct {
		name    string
		in      Event
		wantErr string
		want    Event
	}{
		{"defaults filled", Event{UserID: "u1", ItemID: 5, Type: "click"}, "", Event{UserID: "u1", ItemID: 5, Type: "click", Value: 1, TS: now.Unix()}},
		{"rating kept", Event{UserID: "u1", ItemID: 5, Type: "rating", Value: 4.5, TS: 10}, "", Event{UserID: "u1", ItemID: 5, Type: "rating", Value: 4.5, TS: 10}},
		{"no user", Event{ItemID: 5, Type: "click"}, "user_id is required", Event{}},
		{"long user", Event{UserID: strings.Repeat("x", 129), ItemID: 5, Type: "click"}, "longer than", Event{}},
		{"control char", Event{UserID: "a\nb", ItemID: 5, Type: "click"}, "control character", Event{}},
		{"bad item", Event{UserID: "u", ItemID: 0, Type: "click"}, "item_id", Event{}},
		{"bad type", Event{UserID: "u", ItemID: 1, Type: "stare"}, "type", Event{}},
		{"bad rating", Event{UserID: "u", ItemID: 1, Type: "rating", Value: 9}, "rating", Event{}},
		{"negative", Event{UserID: "u", ItemID: 1, Type: "click", Value: -1}, "negative", Event{}},
		{"future", Event{UserID: "u", ItemID: 1, Type: "click", TS: now.Add(48 * time.Hour).Unix()}, "future", Event{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.in
			err := got.Validate(now)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("event (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCandidateCodecRoundTrip(t *testing.T) {
	in := []Candidate{{
		Item:       Item{ID: 7, Title: "Heat (1995)", Genres: []string{"Action", "Crime"}, Year: 1995},
		Popularity: 3.5, Sources: map[string]float64{"popular": 1, "item_cf": 0.2}, Score: 0.9,
	}}
	if diff := cmp.Diff(in, CandidatesFromPB(CandidatesToPB(in))); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	f := UserFeatures{UserID: "u", Recent: []Interaction{{ItemID: 1, Type: "rating", Value: 4, TS: 3}}, GenreAffinity: map[string]float64{"Drama": 1}, Seen: []int64{1}, Count: 1}
	if diff := cmp.Diff(f, UserFeaturesFromPB(UserFeaturesToPB(f))); diff != "" {
		t.Errorf("features round trip (-want +got):\n%s", diff)
	}
}
