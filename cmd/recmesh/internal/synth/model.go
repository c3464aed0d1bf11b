package synth

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync/atomic"
)

// model is the latent structure events are drawn from.
type model struct {
	cfg   Config
	items []float32 // Items × Dim
	pop   *alias    // item index by popularity
	// userEvents is how many events each user asks for.
	userEvents []int64
}

func newModel(cfg Config) *model {
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
	m := &model{cfg: cfg, items: make([]float32, cfg.Items*cfg.Dim)}
	scale := 1 / math.Pow(float64(cfg.Dim), 0.25) // inner products of unit variance
	for i := range m.items {
		m.items[i] = float32(rng.NormFloat64() * scale)
	}
	m.pop = newAlias(zipf(cfg.Items, cfg.ItemSkew, rng))
	// No user rates more than 200 times the mean (MovieLens 25M's most
	// active user rated about 200 times its mean), nor every item.
	limit := min(float64(cfg.Items), max(1, 200*float64(cfg.Events)/float64(cfg.Users)))
	m.userEvents = allocate(float64(cfg.Events), zipf(cfg.Users, cfg.UserSkew, rng), limit)
	return m
}

// allocate shares total out in proportion to weights, none above limit:
// what a capped share leaves goes to the others, in proportion.
func allocate(total float64, weights []float64, limit float64) []int64 {
	out := make([]int64, len(weights))
	capped := make([]bool, len(weights))
	for range 100 {
		free, left := 0.0, total
		for u, w := range weights {
			if capped[u] {
				left -= limit
			} else {
				free += w
			}
		}
		more := false
		for u, w := range weights {
			if !capped[u] && free > 0 && left*w/free > limit {
				capped[u], more = true, true
			}
		}
		if more {
			continue
		}
		for u, w := range weights {
			if capped[u] {
				out[u] = int64(limit)
			} else if free > 0 {
				out[u] = int64(math.Round(max(0, left) * w / free))
			}
		}
		break
	}
	return out
}

// zipf is n weights 1/rank^s, ranks in a random order.
func zipf(n int, s float64, rng *rand.Rand) []float64 {
	w := make([]float64, n)
	for i, r := range rng.Perm(n) {
		w[i] = 1 / math.Pow(float64(r+1), s)
	}
	return w
}

func (m *model) item(i int) []float32 { return m.items[i*m.cfg.Dim : (i+1)*m.cfg.Dim] }

// userVector is user u's taste, from the user's own generator.
func (m *model) userVector(rng *rand.Rand) []float32 {
	v := make([]float32, m.cfg.Dim)
	scale := 1 / math.Pow(float64(m.cfg.Dim), 0.25)
	for k := range v {
		v[k] = float32(rng.NormFloat64() * scale)
	}
	return v
}

func dot(a, b []float32) float64 {
	s := float32(0)
	for k := range a {
		s += a[k] * b[k]
	}
	return float64(s)
}

// genres are item i's genres: the names of its two largest components.
func (m *model) genres(i int) string {
	v := m.item(i)
	a, b := 0, 1
	if v[b] > v[a] {
		a, b = b, a
	}
	for k := 2; k < len(v); k++ {
		switch {
		case v[k] > v[a]:
			a, b = k, a
		case v[k] > v[b]:
			b = k
		}
	}
	ga, gb := Genres[a%len(Genres)], Genres[b%len(Genres)]
	if ga == gb {
		return ga
	}
	return ga + "|" + gb
}

// user appends user u's ratings (userId,movieId,rating,timestamp lines,
// oldest first) to buf, and counts each item's events in hits (atomically:
// users are generated in parallel).
func (m *model) user(u int, buf []byte, hits []int32) ([]byte, int64) {
	rng := rand.New(rand.NewPCG(m.cfg.Seed, uint64(u)+1))
	vec := m.userVector(rng)
	n := int(m.userEvents[u])
	if n == 0 {
		return buf, 0
	}
	// The user's active period: a random start, and up to the rest of the span.
	span := m.cfg.Span.Seconds()
	start := rng.Float64() * span
	length := rng.Float64() * (span - start)
	ts := make([]int64, n)
	for k := range ts {
		ts[k] = m.cfg.Start.Unix() + int64(start+rng.Float64()*length)
	}
	slices.Sort(ts)
	rated := make(map[int32]struct{}, n)
	weights := make([]float64, m.cfg.Candidates)
	cands := make([]int32, m.cfg.Candidates)
	written := int64(0)
	for k := 0; k < n; k++ {
		// Draw candidates by popularity, choose one by taste (a softmax
		// over the inner products). A user who has rated most of the
		// popular items falls through to a uniform draw.
		item, dotv := int32(-1), 0.0
		for try := 0; try < 20 && item < 0; try++ {
			total := 0.0
			for c := range cands {
				if try < 10 {
					cands[c] = int32(m.pop.draw(rng))
				} else {
					cands[c] = int32(rng.IntN(m.cfg.Items))
				}
				if _, dup := rated[cands[c]]; dup {
					weights[c] = 0
					continue
				}
				weights[c] = math.Exp(m.cfg.Taste * dot(vec, m.item(int(cands[c]))))
				total += weights[c]
			}
			if total == 0 {
				continue
			}
			x := rng.Float64() * total
			for c := range cands {
				if weights[c] == 0 {
					continue
				}
				item = cands[c] // the last with weight, should rounding leave x above 0
				if x -= weights[c]; x <= 0 {
					break
				}
			}
			dotv = dot(vec, m.item(int(item)))
		}
		if item < 0 {
			continue
		}
		rated[item] = struct{}{}
		atomic.AddInt32(&hits[item], 1)
		// Ratings in half stars, centred on 3.5, rising with taste.
		r := math.Round((3.5+0.8*dotv+0.5*rng.NormFloat64())*2) / 2
		r = min(5, max(0.5, r))
		buf = strconv.AppendInt(buf, int64(u)+1, 10)
		buf = append(buf, ',')
		buf = strconv.AppendInt(buf, int64(item)+1, 10)
		buf = append(buf, ',')
		buf = strconv.AppendFloat(buf, r, 'f', 1, 64)
		buf = append(buf, ',')
		buf = strconv.AppendInt(buf, ts[k], 10)
		buf = append(buf, '\n')
		written++
	}
	return buf, written
}
