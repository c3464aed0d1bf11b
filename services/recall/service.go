package recall

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/recmesh/recmesh/pkg/apierr"
	"github.com/recmesh/recmesh/pkg/catalog"
	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/services/recall/recallapi"
)

// ErrNoIndex means no index has been loaded yet; it is an infrastructure failure.
var ErrNoIndex = errors.New("recall: no index loaded")

// Recaller is the recall service. Its index can be swapped while it
// serves; its catalogue view (nil for none) is kept current by a follower.
type Recaller struct {
	index atomic.Pointer[Index]
	view  *catalog.View
	opts  Options
	now   func() time.Time
}

var _ recallapi.Service = (*Recaller)(nil)

// New returns a recall service over idx (which may be nil until SetIndex).
func New(idx *Index) *Recaller {
	r := &Recaller{opts: DefaultOptions(), now: time.Now}
	if idx != nil {
		r.index.Store(idx)
	}
	return r
}

// WithCatalog makes recall serve the live catalogue of view: new items
// (fresh and category channels), statuses and changed metadata.
func (r *Recaller) WithCatalog(view *catalog.View, o Options) *Recaller {
	r.view, r.opts = view, o
	return r
}

// SetIndex atomically replaces the index; calls in flight finish on the old one.
func (r *Recaller) SetIndex(idx *Index) { r.index.Store(idx) }

// Ready reports whether an index is loaded.
func (r *Recaller) Ready(context.Context) error {
	if r.index.Load() == nil {
		return ErrNoIndex
	}
	return nil
}

// ErrAllChannelsMissed means no channel answered before the deadline.
var ErrAllChannelsMissed = errors.New("recall: every channel missed the deadline")

// Recall runs every channel with a positive quota, each on its own
// goroutine, and merges the lists of those that answered by the channel
// deadline (see channelDeadline); the others are dropped and named in
// Missed, so one slow channel costs its own candidates, not the hop.
func (r *Recaller) Recall(ctx context.Context, req recallapi.Request) (recallapi.Response, error) {
	idx := r.index.Load()
	if idx == nil {
		return recallapi.Response{}, ErrNoIndex
	}
	quotas, k, err := resolve(req)
	if err != nil {
		return recallapi.Response{}, err
	}
	// One read lock of the catalogue view for the whole request, released
	// when the request and every channel it started are done: a channel
	// that missed the deadline may still be reading.
	live, release := catalog.Reader{}, func() {}
	if r.view != nil {
		live, release = r.view.Hold()
	}
	var holders sync.WaitGroup
	holders.Add(1)
	go func() { holders.Wait(); release() }()
	defer holders.Done()

	in := newInput(idx, live, req, r.now(), &r.opts)
	lists, missed := fanOut(ctx, in, quotas, &holders)
	per := map[string]int{}
	for i, l := range lists {
		if quotas[i] > 0 && !slices.Contains(missed, registry[i].Name) {
			per[registry[i].Name] = len(l)
		}
	}
	if len(per) == 0 && len(missed) > 0 {
		return recallapi.Response{}, fmt.Errorf("%w: %v", ErrAllChannelsMissed, missed)
	}
	cands := merge(in, lists, k)
	signal(in, cands)
	return recallapi.Response{Candidates: cands, PerChannel: per, ModelVersion: idx.Version, Missed: missed}, nil
}

// fanOut runs the channels with a positive quota concurrently and returns
// their lists (by registry position) and the names of those that missed the
// channel deadline. Each started channel holds holders until it returns.
func fanOut(ctx context.Context, in *Input, quotas []int, holders *sync.WaitGroup) ([][]Scored, []string) {
	type result struct {
		i    int
		list []Scored
	}
	cctx, cancel := channelContext(ctx)
	defer cancel() // a channel still running sees it and stops early
	results := make(chan result, len(registry))
	started := 0
	for i, spec := range registry {
		if quotas[i] <= 0 {
			continue
		}
		started++
		holders.Add(1)
		go func() {
			defer holders.Done()
			if cctx.Err() != nil { // started too late: nothing to gain
				return
			}
			results <- result{i, spec.Channel.Recall(cctx, in, quotas[i])}
		}()
	}
	lists := make([][]Scored, len(registry))
	answered := make([]bool, len(registry))
	for got := 0; got < started; got++ {
		select {
		case res := <-results:
			lists[res.i], answered[res.i] = res.list, true
		case <-cctx.Done():
			var missed []string
			for i, spec := range registry {
				if quotas[i] > 0 && !answered[i] {
					missed = append(missed, spec.Name)
				}
			}
			return lists, missed
		}
	}
	return lists, nil
}

// channelContext ends before ctx does, leaving the tenth of the time left
// (at least 2 ms) to merge and answer; without a deadline it only cancels.
func channelContext(ctx context.Context) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	margin := max(time.Until(deadline)/10, 2*time.Millisecond)
	return context.WithDeadline(ctx, deadline.Add(-margin))
}

// resolve returns each registered channel's quota for req (by registry
// position) and the merged list's cap, refusing unknown channels and
// out-of-range numbers.
func resolve(req recallapi.Request) ([]int, int, error) {
	quotas := make([]int, len(registry))
	if !req.OnlyQuotas {
		for i, s := range registry {
			quotas[i] = s.DefaultQuota
		}
	}
	for ch, n := range req.Quotas {
		i := channelIndex(ch)
		if i < 0 {
			return nil, 0, apierr.Invalid("unknown recall channel %q; one of %v", ch, ChannelNames())
		}
		if n < 0 || n > recallapi.MaxQuota {
			return nil, 0, apierr.Invalid("quota of %s must be between 0 and %d", ch, recallapi.MaxQuota)
		}
		quotas[i] = n
	}
	if len(req.Categories) > recallapi.MaxCategories || len(req.Exclude) > recallapi.MaxExclude || len(req.Seeds) > recallapi.MaxSeeds ||
		len(req.Seen) > recallapi.MaxSeen {
		return nil, 0, apierr.Invalid("at most %d categories, %d excluded items, %d seed items and %d seen items",
			recallapi.MaxCategories, recallapi.MaxExclude, recallapi.MaxSeeds, recallapi.MaxSeen)
	}
	k := req.K
	if k == 0 {
		k = recallapi.DefaultK
	}
	if k < 0 || k > recallapi.MaxK {
		return nil, 0, apierr.Invalid("k must be between 1 and %d", recallapi.MaxK)
	}
	return quotas, k, nil
}

// merge interleaves the channels' lists round-robin in priority order, so
// every channel is represented near the top, and keeps each item once with
// every channel that produced it in its sources, listed in priority order.
func merge(in *Input, lists [][]Scored, k int) []domain.Candidate {
	pos := map[int64]int{}
	out := make([]domain.Candidate, 0, k)
	for rank := 0; ; rank++ {
		more := false
		for ci, list := range lists {
			if rank >= len(list) {
				continue
			}
			more = true
			s := list[rank]
			if p, ok := pos[s.ID]; ok {
				out[p].SetSource(registry[ci].Name, s.Score)
				continue
			}
			if len(out) >= k {
				continue
			}
			c, ok := in.candidate(s.ID)
			if !ok {
				continue
			}
			c.SetSource(registry[ci].Name, s.Score)
			pos[s.ID] = len(out)
			out = append(out, c)
		}
		if !more {
			break
		}
	}
	for i := range out {
		if len(out[i].Sources) > 1 {
			slices.SortFunc(out[i].Sources, func(a, b domain.Source) int {
				return cmp.Compare(channelIndex(a.Channel), channelIndex(b.Channel))
			})
		}
	}
	return out
}
