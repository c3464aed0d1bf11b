package domain

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"google.golang.org/protobuf/proto"

	"github.com/recmesh/recmesh/pkg/abtest"
	pb "github.com/recmesh/recmesh/proto/recmesh/v1"
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
		{"NaN rating", Event{UserID: "u", ItemID: 1, Type: "rating", Value: math.NaN()}, "finite", Event{}},
		{"infinite", Event{UserID: "u", ItemID: 1, Type: "purchase", Value: math.Inf(1)}, "finite", Event{}},
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
		ID: 7, Title: "Heat (1995)", Categories: []string{"Action", "Crime"}, Year: 1995,
		Popularity: 3.5, Sources: []Source{{"popular", 1}, {"item_cf", 0.2}}, Score: 0.9,
	}, {ID: 8}}
	got, err := CandidatesFromPB(CandidatesToPB(in, true))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(in, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if lean, err := CandidatesFromPB(CandidatesToPB(in, false)); err != nil || lean[0].Title != "" || lean[0].SourceScore("item_cf") != 0.2 {
		t.Errorf("lean encoding: %+v, %v", lean, err)
	}
	f := UserFeatures{UserID: "u", Recent: []Interaction{{ItemID: 1, Type: "rating", Value: 4, TS: 3}}, GenreAffinity: map[string]float64{"Drama": 1}, Seen: []int64{1}, Count: 1}
	if diff := cmp.Diff(f, UserFeaturesFromPB(UserFeaturesToPB(f))); diff != "" {
		t.Errorf("features round trip (-want +got):\n%s", diff)
	}
	f.Exposures = []Exposure{{ItemID: 4, TSMillis: 5000}, {ItemID: 9, TSMillis: 4000}}
	if diff := cmp.Diff(f, UserFeaturesFromPB(UserFeaturesToPB(f))); diff != "" {
		t.Errorf("features with exposures round trip (-want +got):\n%s", diff)
	}
}

// A batch's signals travel as one vocabulary and one value per candidate
// and name; a candidate without a name reads 0 for it.
func TestSignalsRoundTrip(t *testing.T) {
	shared := []string{SignalCF, SignalEmbedding}
	in := []Candidate{
		{ID: 1, Signals: Signals{Names: shared, Values: []float32{1.5, -2}}},
		{ID: 2, Signals: Signals{Names: shared, Values: []float32{0.25, 3}}},
		{ID: 3, Signals: Signals{Names: []string{SignalCFMax}, Values: []float32{7}}},
		{ID: 4},
	}
	b := CandidatesToPB(in, false)
	if len(b.SignalNames) != 3 || len(b.SignalValues) != 12 {
		t.Fatalf("names %v, %d values; want 3 names and 12 values", b.SignalNames, len(b.SignalValues))
	}
	wire, err := proto.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	var msg pb.Candidates
	if err := proto.Unmarshal(wire, &msg); err != nil {
		t.Fatal(err)
	}
	got, err := CandidatesFromPB(&msg)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		i    int
		name string
		want float64
	}{{0, SignalCF, 1.5}, {0, SignalEmbedding, -2}, {1, SignalCF, 0.25}, {1, SignalCFMax, 0}, {2, SignalCFMax, 7}, {2, SignalCF, 0}, {3, SignalEmbedding, 0}} {
		if v := got[c.i].Signal(c.name); v != c.want {
			t.Errorf("candidate %d's %s = %v, want %v", c.i, c.name, v, c.want)
		}
	}
	msg.SignalValues = msg.SignalValues[1:]
	if _, err := CandidatesFromPB(&msg); err == nil {
		t.Error("a batch with a signal value missing was accepted")
	}
}

func TestSources(t *testing.T) {
	var c Candidate
	c.SetSource("genre", 0.5)
	c.SetSource("item_cf", 2)
	c.SetSource("genre", 0.7)
	if len(c.Sources) != 2 || c.SourceScore("genre") != 0.7 || !c.HasSource("item_cf") || c.HasSource("popular") || c.SourceScore("popular") != 0 {
		t.Errorf("sources %+v", c.Sources)
	}
}

func TestSelectByID(t *testing.T) {
	from := []Candidate{{ID: 1, Title: "a"}, {ID: 2}, {ID: 1, Title: "dup"}}
	got, err := SelectByID(from, []int64{2, 1})
	if err != nil || len(got) != 2 || got[0].ID != 2 || got[1].Title != "a" {
		t.Fatalf("SelectByID = %+v, %v", got, err)
	}
	if _, err := SelectByID(from, []int64{3}); err == nil {
		t.Error("an id that was not sent was accepted")
	}
}

func TestCandidatesFromPBRefusesMalformedBatches(t *testing.T) {
	good := func() *pb.Candidates {
		return CandidatesToPB([]Candidate{
			{ID: 1, Title: "A", Categories: []string{"Drama", "War"}, Sources: []Source{{"genre", 1}}},
			{ID: 2, Title: "B", Categories: []string{"War"}},
		}, true)
	}
	tests := map[string]func(b *pb.Candidates){
		"short column":         func(b *pb.Candidates) { b.Years = b.Years[:1] },
		"offsets past end":     func(b *pb.Candidates) { b.GenreOffsets[2] = 9 },
		"decreasing offsets":   func(b *pb.Candidates) { b.GenreOffsets[1] = 4 },
		"genre out of vocab":   func(b *pb.Candidates) { b.GenreIndex[0] = 7 },
		"scores lack channel":  func(b *pb.Candidates) { b.SourceScores = nil },
		"title offsets":        func(b *pb.Candidates) { b.TitleOffsets[2] = 99 },
		"missing offsets":      func(b *pb.Candidates) { b.SourceOffsets = nil },
		"channel out of vocab": func(b *pb.Candidates) { b.SourceChannels[0] = 3 },
	}
	for name, breakIt := range tests {
		t.Run(name, func(t *testing.T) {
			b := good()
			breakIt(b)
			if _, err := CandidatesFromPB(b); err == nil {
				t.Error("malformed batch accepted")
			}
		})
	}
	if _, err := CandidatesFromPB(good()); err != nil {
		t.Fatalf("good batch refused: %v", err)
	}
}

func FuzzCandidatesFromPB(f *testing.F) {
	seed, _ := proto.Marshal(CandidatesToPB([]Candidate{{ID: 1, Title: "A", Categories: []string{"Drama"}, Sources: []Source{{"genre", 1}}}}, true))
	f.Add(seed)
	f.Fuzz(func(t *testing.T, wire []byte) {
		var b pb.Candidates
		if proto.Unmarshal(wire, &b) != nil {
			return
		}
		cs, err := CandidatesFromPB(&b)
		if err == nil && len(cs) != len(b.GetItemIds()) {
			t.Fatalf("%d candidates from %d ids", len(cs), len(b.GetItemIds()))
		}
	})
}

// BenchmarkCandidatesRoundTrip encodes, marshals, unmarshals and decodes a
// recall-sized batch: what one hop costs on the wire.
func BenchmarkCandidatesRoundTrip(b *testing.B) {
	genres := []string{"Action", "Adventure", "Comedy", "Drama", "Romance", "Thriller"}
	in := make([]Candidate, 500)
	signalNames := []string{SignalCF, SignalCFMax, SignalCFLinks, SignalEmbedding, SignalGenreRecency}
	values := make([]float32, len(in)*5)
	for i := range values {
		values[i] = float32(i) / 7
	}
	for i := range in {
		in[i] = Candidate{ID: int64(i + 1), Title: "Some Movie Title (1999)", Categories: genres[i%3 : i%3+3], Year: 1990 + i%30,
			Popularity: float64(i), Sources: []Source{{ChannelItemCF, 0.5}, {ChannelPopular, 0.2}},
			Signals: Signals{Names: signalNames, Values: values[i*5 : i*5+5]}}
	}
	for _, withTitles := range []bool{true, false} {
		b.Run(fmt.Sprint("titles=", withTitles), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				wire, err := proto.Marshal(CandidatesToPB(in, withTitles))
				if err != nil {
					b.Fatal(err)
				}
				var msg pb.Candidates
				if err := proto.Unmarshal(wire, &msg); err != nil {
					b.Fatal(err)
				}
				if _, err := CandidatesFromPB(&msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestExposureCodecsRoundTrip(t *testing.T) {
	replies := []ShownReply{{RequestID: "r", TraceID: "t", UserID: "u", TSMillis: 7, ModelVersion: "v1", Degraded: []string{"ranking"},
		Assignments: []abtest.Assignment{{Layer: "l", Experiment: "e", Variant: "v"}},
		Items:       []ShownItem{{ItemID: 1, Score: 0.5, Sources: []string{"popular"}}, {ItemID: 2}}}}
	if diff := cmp.Diff(replies, ShownRepliesFromPB(ShownRepliesToPB(replies)), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("replies round trip (-want +got):\n%s", diff)
	}
	var a ArmStats
	a.Arm = "b"
	a.AddUser(10, 2, 1)
	a.AddUser(4, 0, 0)
	if a.Users != 2 || a.Exposures != 14 || a.ExposuresSq != 116 || a.ExposuresClicks != 20 {
		t.Errorf("sums %+v", a)
	}
	if diff := cmp.Diff([]ArmStats{a}, ArmStatsFromPB(ArmStatsToPB([]ArmStats{a}))); diff != "" {
		t.Errorf("arms round trip (-want +got):\n%s", diff)
	}
}

func TestNamesShareOneStringPerName(t *testing.T) {
	n := Names{}
	a := n.Share([]string{"Drama", strings.Clone("Comedy")})
	b := n.Share([]string{strings.Clone("Comedy"), strings.Clone("Drama")})
	if !slices.Equal(b, []string{"Comedy", "Drama"}) || unsafe.StringData(a[1]) != unsafe.StringData(b[0]) || unsafe.StringData(a[0]) != unsafe.StringData(b[1]) {
		t.Fatalf("names not shared: %v %v", a, b)
	}
}
