package recall

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/recmesh/recmesh/pkg/apierr"
	"github.com/recmesh/recmesh/pkg/domain"
)

// Request asks for candidates for one user.
type Request struct {
	UserID string
	Query
	// Quotas cap each channel; channels absent use DefaultQuotas.
	Quotas map[string]int
	// K caps the merged list; 0 means DefaultK.
	K int
}

// Response carries the merged candidates.
type Response struct {
	Candidates []domain.Candidate
	// PerChannel counts what each channel produced before de-duplication.
	PerChannel   map[string]int
	ModelVersion string
}

// Service is the recall service's business interface.
type Service interface {
	Recall(ctx context.Context, req Request) (Response, error)
}

// DefaultQuotas are the per-channel caps when a request sets none.
var DefaultQuotas = map[string]int{ChannelItemCF: 250, ChannelEmbedding: 150, ChannelGenre: 100, ChannelPopular: 100}

// Limits on request sizes.
const (
	DefaultK = 500
	MaxK     = 2000
	MaxQuota = 2000
)

// ErrNoIndex means no index has been loaded yet; it is an infrastructure failure.
var ErrNoIndex = errors.New("recall: no index loaded")

// Recaller is the recall service. Its index can be swapped while it serves.
type Recaller struct {
	index atomic.Pointer[Index]
}

// New returns a recall service over idx (which may be nil until SetIndex).
func New(idx *Index) *Recaller {
	r := &Recaller{}
	if idx != nil {
		r.index.Store(idx)
	}
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

// Recall runs every channel with a positive quota and merges their lists.
func (r *Recaller) Recall(_ context.Context, req Request) (Response, error) {
	idx := r.index.Load()
	if idx == nil {
		return Response{}, ErrNoIndex
	}
	quotas, k, err := resolve(req)
	if err != nil {
		return Response{}, err
	}
	lists := make([][]Scored, len(Channels))
	per := map[string]int{}
	for i, ch := range Channels {
		n := quotas[ch]
		if n <= 0 {
			continue
		}
		switch ch {
		case ChannelItemCF:
			lists[i] = idx.recallItemCF(req.Query, n)
		case ChannelEmbedding:
			lists[i] = idx.recallEmbedding(req.UserID, req.Query, n)
		case ChannelGenre:
			lists[i] = idx.recallGenre(req.Query, n)
		case ChannelPopular:
			lists[i] = idx.recallPopular(n)
		}
		per[ch] = len(lists[i])
	}
	return Response{Candidates: merge(idx, lists, k), PerChannel: per, ModelVersion: idx.Version}, nil
}

func resolve(req Request) (map[string]int, int, error) {
	quotas := make(map[string]int, len(DefaultQuotas))
	for ch, n := range DefaultQuotas {
		quotas[ch] = n
	}
	for ch, n := range req.Quotas {
		if _, ok := DefaultQuotas[ch]; !ok {
			return nil, 0, apierr.Invalid("unknown recall channel %q", ch)
		}
		if n < 0 || n > MaxQuota {
			return nil, 0, apierr.Invalid("quota of %s must be between 0 and %d", ch, MaxQuota)
		}
		quotas[ch] = n
	}
	k := req.K
	if k == 0 {
		k = DefaultK
	}
	if k < 0 || k > MaxK {
		return nil, 0, apierr.Invalid("k must be between 1 and %d", MaxK)
	}
	return quotas, k, nil
}

// merge interleaves the channels' lists round-robin in priority order, so
// every channel is represented near the top, and keeps each item once with
// every channel that produced it in its sources.
func merge(idx *Index, lists [][]Scored, k int) []domain.Candidate {
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
				out[p].SetSource(Channels[ci], s.Score)
				continue
			}
			if len(out) >= k {
				continue
			}
			c, ok := idx.Candidate(s.ID)
			if !ok {
				continue
			}
			c.SetSource(Channels[ci], s.Score)
			pos[s.ID] = len(out)
			out = append(out, c)
		}
		if !more {
			return out
		}
	}
}
