package recall

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/recmesh/recmesh/pkg/ann"
	"github.com/recmesh/recmesh/pkg/domain"
)

// Embeddings are matrix-factorisation vectors learnt from implicit feedback.
// Vectors are flattened: item i's vector is Items[i*Dim:(i+1)*Dim].
type Embeddings struct {
	Dim     int       `json:"dim"`
	ItemIDs []int64   `json:"item_ids"`
	Items   []float32 `json:"items"`
	UserIDs []string  `json:"user_ids"`
	Users   []float32 `json:"users"`
	// Graph is the HNSW graph over the MIPS-augmented item vectors, built
	// offline so that services only restore it.
	Graph *ann.Snapshot `json:"graph,omitempty"`
}

// validate checks the flattened arrays match the ids and the dimension, so
// a malformed artifact is refused instead of crashing the index build.
func (e *Embeddings) validate() error {
	if e.Dim <= 0 || e.Dim > MaxDim || len(e.Items) != len(e.ItemIDs)*e.Dim || len(e.Users) != len(e.UserIDs)*e.Dim {
		return fmt.Errorf("embeddings of dimension %d: %d item values for %d items, %d user values for %d users",
			e.Dim, len(e.Items), len(e.ItemIDs), len(e.Users), len(e.UserIDs))
	}
	return nil
}

// MaxDim bounds the embeddings' dimension a model file may declare: a
// vector is made of this size for every request, so a corrupt file must not
// make it gigabytes.
const MaxDim = 4096

// MFOptions tune BPR training.
type MFOptions struct {
	Dim          int     `json:"dim"`
	Epochs       int     `json:"epochs"`
	LearningRate float64 `json:"learning_rate"`
	Reg          float64 `json:"reg"`
	Seed         uint64  `json:"seed"`
}

// DefaultMFOptions are the defaults of `recmesh train`.
func DefaultMFOptions() MFOptions {
	return MFOptions{Dim: 32, Epochs: 40, LearningRate: 0.05, Reg: 0.005, Seed: 1}
}

// TrainBPR learns user and item vectors with Bayesian Personalised Ranking
// (Rendle et al. 2009): for a user u, an item i they interacted with and a
// sampled item j they did not, it raises σ(u·i − u·j) by SGD. Every event is
// a positive. One thread and a seeded generator make it deterministic.
func TrainBPR(items []domain.Item, events []domain.Event, o MFOptions, progress func(float64)) *Embeddings {
	dense := make(map[int64]int32, len(items))
	e := &Embeddings{Dim: o.Dim, ItemIDs: make([]int64, len(items))}
	for i, it := range items {
		dense[it.ID] = int32(i)
		e.ItemIDs[i] = it.ID
	}
	userIdx := map[string]int32{}
	type pair struct{ u, i int32 }
	var pairs []pair
	for _, ev := range events {
		i, ok := dense[ev.ItemID]
		if !ok {
			continue
		}
		u, ok := userIdx[ev.UserID]
		if !ok {
			u = int32(len(e.UserIDs))
			userIdx[ev.UserID] = u
			e.UserIDs = append(e.UserIDs, ev.UserID)
		}
		pairs = append(pairs, pair{u, i})
	}
	positives := make([]map[int32]bool, len(e.UserIDs))
	for _, p := range pairs {
		if positives[p.u] == nil {
			positives[p.u] = map[int32]bool{}
		}
		positives[p.u][p.i] = true
	}
	rng := rand.New(rand.NewPCG(o.Seed, o.Seed^0xbf58476d1ce4e5b9))
	d := o.Dim
	init := func(n int) []float32 {
		v := make([]float32, n*d)
		for k := range v {
			v[k] = float32(rng.NormFloat64() * 0.1)
		}
		return v
	}
	e.Users, e.Items = init(len(e.UserIDs)), init(len(items))
	lr, reg := float32(o.LearningRate), float32(o.Reg)
	for epoch := 0; epoch < o.Epochs; epoch++ {
		if progress != nil {
			progress(float64(epoch) / float64(o.Epochs))
		}
		rng.Shuffle(len(pairs), func(a, b int) { pairs[a], pairs[b] = pairs[b], pairs[a] })
		for _, p := range pairs {
			j := int32(rng.IntN(len(items)))
			for positives[p.u][j] {
				j = int32(rng.IntN(len(items)))
			}
			uv := e.Users[int(p.u)*d : int(p.u+1)*d]
			iv := e.Items[int(p.i)*d : int(p.i+1)*d]
			jv := e.Items[int(j)*d : int(j+1)*d]
			var x float32
			for k := 0; k < d; k++ {
				x += uv[k] * (iv[k] - jv[k])
			}
			g := float32(1 / (1 + math.Exp(float64(x)))) // σ(−x)
			for k := 0; k < d; k++ {
				u, i, jj := uv[k], iv[k], jv[k]
				uv[k] += lr * (g*(i-jj) - reg*u)
				iv[k] += lr * (g*u - reg*i)
				jv[k] += lr * (-g*u - reg*jj)
			}
		}
	}
	if progress != nil {
		progress(1)
	}
	return e
}
