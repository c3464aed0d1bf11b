package domain

import (
	"strings"
	"time"

	"github.com/recmesh/recmesh/pkg/abtest"

	"github.com/recmesh/recmesh/pkg/apierr"
	pb "github.com/recmesh/recmesh/proto/recmesh/v1"
)

// InteractionsToPB encodes interactions.
func InteractionsToPB(in []Interaction) []*pb.Interaction {
	out := make([]*pb.Interaction, len(in))
	for i, x := range in {
		out[i] = &pb.Interaction{ItemId: x.ItemID, Type: x.Type, Value: x.Value, TsUnix: x.TS}
	}
	return out
}

// InteractionsFromPB decodes interactions.
func InteractionsFromPB(in []*pb.Interaction) []Interaction {
	out := make([]Interaction, len(in))
	for i, x := range in {
		out[i] = Interaction{ItemID: x.GetItemId(), Type: x.GetType(), Value: x.GetValue(), TS: x.GetTsUnix()}
	}
	return out
}

// CandidatesToPB encodes candidates as one columnar batch. Titles are only
// sent when withTitles: after recall, nobody but the gateway reads them.
func CandidatesToPB(in []Candidate, withTitles bool) *pb.Candidates {
	n := len(in)
	b := &pb.Candidates{
		ItemIds: make([]int64, n), Years: make([]int32, n), Popularity: make([]float64, n), Scores: make([]float64, n),
		GenreOffsets: make([]int32, n+1), SourceOffsets: make([]int32, n+1),
	}
	genres, sources := 0, 0
	for i := range in {
		genres, sources = genres+len(in[i].Categories), sources+len(in[i].Sources)
	}
	b.GenreIndex = make([]int32, 0, genres)
	b.SourceChannels, b.SourceScores = make([]int32, 0, sources), make([]float64, 0, sources)
	var titles strings.Builder
	if withTitles {
		b.TitleOffsets = make([]int32, n+1)
	}
	for i := range in {
		c := &in[i]
		b.ItemIds[i], b.Years[i], b.Popularity[i], b.Scores[i] = c.ID, int32(c.Year), c.Popularity, c.Score
		if withTitles {
			titles.WriteString(c.Title)
			b.TitleOffsets[i+1] = int32(titles.Len())
		}
		for _, g := range c.Categories {
			var k int32
			b.GenreNames, k = vocabIndex(b.GenreNames, g)
			b.GenreIndex = append(b.GenreIndex, k)
		}
		b.GenreOffsets[i+1] = int32(len(b.GenreIndex))
		for _, s := range c.Sources {
			var k int32
			b.ChannelNames, k = vocabIndex(b.ChannelNames, s.Channel)
			b.SourceChannels = append(b.SourceChannels, k)
			b.SourceScores = append(b.SourceScores, s.Score)
		}
		b.SourceOffsets[i+1] = int32(len(b.SourceChannels))
	}
	b.Titles = titles.String()
	signalsToPB(b, in)
	return b
}

// signalsToPB sets the batch's signals: a vocabulary of names (the union
// over the candidates, usually one slice they all share) and a value per
// candidate and name.
func signalsToPB(b *pb.Candidates, in []Candidate) {
	var shared []string // the last candidate's names, when every name of them is in the vocabulary
	for i := range in {
		names := in[i].Signals.Names
		if len(names) == 0 || sameSlice(names, shared) {
			continue
		}
		for _, n := range names {
			b.SignalNames, _ = vocabIndex(b.SignalNames, n)
		}
		shared = names
	}
	k := len(b.SignalNames)
	if k == 0 {
		return
	}
	b.SignalValues = make([]float32, len(in)*k)
	for i := range in {
		s := &in[i].Signals
		if sameSlice(s.Names, b.SignalNames) {
			copy(b.SignalValues[i*k:], s.Values)
			continue
		}
		for j, n := range s.Names {
			_, col := vocabIndex(b.SignalNames, n)
			b.SignalValues[i*k+int(col)] = s.Values[j]
		}
	}
}

// sameSlice reports whether a and b are the same slice (not merely equal):
// a batch's candidates share their signal names.
func sameSlice(a, b []string) bool { return len(a) == len(b) && len(a) > 0 && &a[0] == &b[0] }

// vocabIndex is name's index in vocab, appending it if it is new. A
// batch's vocabularies are short (genres, channels), and their strings
// mostly share their bytes with the candidates', which string comparison
// notices before reading them: a scan costs less than hashing each name.
func vocabIndex(vocab []string, name string) ([]string, int32) {
	for k, v := range vocab {
		if v == name {
			return vocab, int32(k)
		}
	}
	return append(vocab, name), int32(len(vocab))
}

// CandidatesFromPB decodes a columnar batch. A malformed batch (arrays of
// the wrong length, offsets out of range) is an invalid_argument error.
// Titles, genre and channel names share the batch's strings.
func CandidatesFromPB(b *pb.Candidates) ([]Candidate, error) {
	n := len(b.GetItemIds())
	if n == 0 {
		return nil, nil
	}
	bad := func(what string) error { return apierr.Invalid("malformed candidate batch: %s", what) }
	if len(b.GetYears()) != n || len(b.GetPopularity()) != n || len(b.GetScores()) != n {
		return nil, bad("column lengths differ")
	}
	genreOff, sourceOff, titleOff := b.GetGenreOffsets(), b.GetSourceOffsets(), b.GetTitleOffsets()
	if !validOffsets(genreOff, n, len(b.GetGenreIndex())) || !validOffsets(sourceOff, n, len(b.GetSourceChannels())) ||
		len(b.GetSourceScores()) != len(b.GetSourceChannels()) {
		return nil, bad("genre or source offsets")
	}
	if len(titleOff) > 0 && !validOffsets(titleOff, n, len(b.GetTitles())) {
		return nil, bad("title offsets")
	}
	names := b.GetGenreNames()
	genres := make([]string, len(b.GetGenreIndex()))
	for k, gi := range b.GetGenreIndex() {
		if gi < 0 || int(gi) >= len(names) {
			return nil, bad("genre index")
		}
		genres[k] = names[gi]
	}
	channels := b.GetChannelNames()
	for _, ci := range b.GetSourceChannels() {
		if ci < 0 || int(ci) >= len(channels) {
			return nil, bad("channel index")
		}
	}
	signalNames, signalValues := b.GetSignalNames(), b.GetSignalValues()
	k := len(signalNames)
	if len(signalValues) != n*k {
		return nil, bad("signal values are not one per candidate and name")
	}
	sources := make([]Source, 0, len(b.GetSourceChannels()))
	out := make([]Candidate, n)
	for i := range out {
		c := &out[i]
		c.ID, c.Year, c.Popularity, c.Score = b.ItemIds[i], int(b.Years[i]), b.Popularity[i], b.Scores[i]
		if len(titleOff) > 0 {
			c.Title = b.Titles[titleOff[i]:titleOff[i+1]]
		}
		if lo, hi := genreOff[i], genreOff[i+1]; hi > lo {
			c.Categories = genres[lo:hi:hi]
		}
		from := len(sources)
		for k := sourceOff[i]; k < sourceOff[i+1]; k++ {
			sources = append(sources, Source{channels[b.SourceChannels[k]], b.SourceScores[k]})
		}
		if len(sources) > from {
			c.Sources = sources[from:len(sources):len(sources)]
		}
		if k > 0 {
			c.Signals = Signals{Names: signalNames, Values: signalValues[i*k : (i+1)*k : (i+1)*k]}
		}
	}
	return out, nil
}

// validOffsets checks that off has n+1 non-decreasing entries from 0 to total.
func validOffsets(off []int32, n, total int) bool {
	if len(off) != n+1 || off[0] != 0 || int(off[n]) != total {
		return false
	}
	for i := 0; i < n; i++ {
		if off[i] > off[i+1] {
			return false
		}
	}
	return true
}

// UserFeaturesToPB encodes user features.
func UserFeaturesToPB(f UserFeatures) *pb.UserFeatures {
	return &pb.UserFeatures{
		UserId: f.UserID, Recent: InteractionsToPB(f.Recent), GenreAffinity: f.GenreAffinity,
		SeenItemIds: f.Seen, InteractionCount: f.Count, Exposures: ExposuresToPB(f.Exposures), Profile: f.Profile,
	}
}

// UserFeaturesFromPB decodes user features.
func UserFeaturesFromPB(f *pb.UserFeatures) UserFeatures {
	return UserFeatures{
		UserID: f.GetUserId(), Recent: InteractionsFromPB(f.GetRecent()), GenreAffinity: f.GetGenreAffinity(),
		Seen: f.GetSeenItemIds(), Count: f.GetInteractionCount(), Exposures: ExposuresFromPB(f.GetExposures()),
		Profile: f.GetProfile(),
	}
}

// ItemToPB encodes an item.
func ItemToPB(it Item) *pb.Item {
	return &pb.Item{ItemId: it.ID, Title: it.Title, Categories: it.Categories, Year: int32(it.Year), Tags: it.Tags,
		CreatedUnixMs: MillisOf(it.CreatedAt), Available: it.Available, ExpiresUnixMs: MillisOf(it.ExpiresAt),
		RetiredUnixMs: MillisOf(it.RetiredAt), Rev: it.Rev}
}

// ItemFromPB decodes an item.
func ItemFromPB(it *pb.Item) Item {
	return Item{ID: it.GetItemId(), Title: it.GetTitle(), Categories: it.GetCategories(), Year: int(it.GetYear()), Tags: it.GetTags(),
		CreatedAt: TimeFromMillis(it.GetCreatedUnixMs()), Available: it.GetAvailable(), ExpiresAt: TimeFromMillis(it.GetExpiresUnixMs()),
		RetiredAt: TimeFromMillis(it.GetRetiredUnixMs()), Rev: it.GetRev()}
}

// ItemsToPB encodes items.
func ItemsToPB(in []Item) []*pb.Item {
	out := make([]*pb.Item, len(in))
	for i := range in {
		out[i] = ItemToPB(in[i])
	}
	return out
}

// ItemsFromPB decodes items.
func ItemsFromPB(in []*pb.Item) []Item {
	out := make([]Item, len(in))
	for i, it := range in {
		out[i] = ItemFromPB(it)
	}
	return out
}

// ItemPatchToPB encodes a patch of item id.
func ItemPatchToPB(id int64, p ItemPatch) *pb.PatchItemRequest {
	r := &pb.PatchItemRequest{ItemId: id, SetCategories: p.Categories.Set, Categories: p.Categories.Value,
		SetTags: p.Tags.Set, Tags: p.Tags.Value}
	if p.Title.Set {
		r.Title = &p.Title.Value
	}
	if p.Year.Set {
		y := int32(p.Year.Value)
		r.Year = &y
	}
	if p.CreatedAt.Set {
		ms := MillisOf(p.CreatedAt.Value)
		r.CreatedUnixMs = &ms
	}
	if p.Available.Set {
		r.Available = &p.Available.Value
	}
	if p.ExpiresAt.Set {
		ms := MillisOf(p.ExpiresAt.Value)
		r.ExpiresUnixMs = &ms
	}
	return r
}

// ItemPatchFromPB decodes a patch and the id of the item it changes.
func ItemPatchFromPB(r *pb.PatchItemRequest) (int64, ItemPatch) {
	var p ItemPatch
	if r.Title != nil {
		p.Title = Optional[string]{true, r.GetTitle()}
	}
	if r.GetSetCategories() {
		p.Categories = Optional[[]string]{true, r.GetCategories()}
	}
	if r.GetSetTags() {
		p.Tags = Optional[[]string]{true, r.GetTags()}
	}
	if r.Year != nil {
		p.Year = Optional[int]{true, int(r.GetYear())}
	}
	if r.CreatedUnixMs != nil {
		p.CreatedAt = Optional[time.Time]{true, TimeFromMillis(r.GetCreatedUnixMs())}
	}
	if r.Available != nil {
		p.Available = Optional[bool]{true, r.GetAvailable()}
	}
	if r.ExpiresUnixMs != nil {
		p.ExpiresAt = Optional[time.Time]{true, TimeFromMillis(r.GetExpiresUnixMs())}
	}
	return r.GetItemId(), p
}

// EventsToPB encodes events.
func EventsToPB(in []Event) []*pb.Event {
	out := make([]*pb.Event, len(in))
	for i, e := range in {
		out[i] = &pb.Event{UserId: e.UserID, ItemId: e.ItemID, Type: e.Type, Value: e.Value, TsUnix: e.TS, RequestId: e.RequestID, EventId: e.EventID}
	}
	return out
}

// EventsFromPB decodes events.
func EventsFromPB(in []*pb.Event) []Event {
	out := make([]Event, len(in))
	for i, e := range in {
		out[i] = Event{UserID: e.GetUserId(), ItemID: e.GetItemId(), Type: e.GetType(), Value: e.GetValue(), TS: e.GetTsUnix(), RequestID: e.GetRequestId(), EventID: e.GetEventId()}
	}
	return out
}

// ShownRepliesToPB encodes a LogExposures batch.
func ShownRepliesToPB(in []ShownReply) []*pb.ShownReply {
	out := make([]*pb.ShownReply, len(in))
	for i := range in {
		r := &in[i]
		p := &pb.ShownReply{RequestId: r.RequestID, TraceId: r.TraceID, UserId: r.UserID, TsUnixMs: r.TSMillis,
			ModelVersion: r.ModelVersion, Degraded: r.Degraded,
			Assignments: make([]*pb.Assignment, len(r.Assignments)), Items: make([]*pb.ShownItem, len(r.Items))}
		for j, a := range r.Assignments {
			p.Assignments[j] = &pb.Assignment{Layer: a.Layer, Experiment: a.Experiment, Variant: a.Variant}
		}
		for j, it := range r.Items {
			p.Items[j] = &pb.ShownItem{ItemId: it.ItemID, Score: it.Score, Sources: it.Sources}
		}
		out[i] = p
	}
	return out
}

// ShownRepliesFromPB decodes a LogExposures batch.
func ShownRepliesFromPB(in []*pb.ShownReply) []ShownReply {
	out := make([]ShownReply, len(in))
	for i, p := range in {
		r := ShownReply{RequestID: p.GetRequestId(), TraceID: p.GetTraceId(), UserID: p.GetUserId(), TSMillis: p.GetTsUnixMs(),
			ModelVersion: p.GetModelVersion(), Degraded: p.GetDegraded(),
			Assignments: make([]abtest.Assignment, len(p.GetAssignments())), Items: make([]ShownItem, len(p.GetItems()))}
		for j, a := range p.GetAssignments() {
			r.Assignments[j] = abtest.Assignment{Layer: a.GetLayer(), Experiment: a.GetExperiment(), Variant: a.GetVariant()}
		}
		for j, it := range p.GetItems() {
			r.Items[j] = ShownItem{ItemID: it.GetItemId(), Score: it.GetScore(), Sources: it.GetSources()}
		}
		out[i] = r
	}
	return out
}

// ArmStatsToPB encodes per-arm statistics.
func ArmStatsToPB(in []ArmStats) []*pb.ArmStats {
	out := make([]*pb.ArmStats, len(in))
	for i, a := range in {
		out[i] = &pb.ArmStats{Arm: a.Arm, Users: a.Users, Exposures: a.Exposures, Clicks: a.Clicks, Likes: a.Likes,
			ExposuresSq: a.ExposuresSq, ClicksSq: a.ClicksSq, LikesSq: a.LikesSq,
			ExposuresClicks: a.ExposuresClicks, ExposuresLikes: a.ExposuresLikes}
	}
	return out
}

// ArmStatsFromPB decodes per-arm statistics.
func ArmStatsFromPB(in []*pb.ArmStats) []ArmStats {
	out := make([]ArmStats, len(in))
	for i, a := range in {
		out[i] = ArmStats{Arm: a.GetArm(), Users: a.GetUsers(), Exposures: a.GetExposures(), Clicks: a.GetClicks(), Likes: a.GetLikes(),
			ExposuresSq: a.GetExposuresSq(), ClicksSq: a.GetClicksSq(), LikesSq: a.GetLikesSq(),
			ExposuresClicks: a.GetExposuresClicks(), ExposuresLikes: a.GetExposuresLikes()}
	}
	return out
}

// ExposuresToPB encodes a user's exposures.
func ExposuresToPB(in []Exposure) []*pb.Exposure {
	if len(in) == 0 {
		return nil
	}
	out := make([]*pb.Exposure, len(in))
	for i, e := range in {
		out[i] = &pb.Exposure{ItemId: e.ItemID, TsUnixMs: e.TSMillis}
	}
	return out
}

// ExposuresFromPB decodes a user's exposures; none is nil.
func ExposuresFromPB(in []*pb.Exposure) []Exposure {
	if len(in) == 0 {
		return nil
	}
	out := make([]Exposure, len(in))
	for i, e := range in {
		out[i] = Exposure{ItemID: e.GetItemId(), TSMillis: e.GetTsUnixMs()}
	}
	return out
}
