package ann

// minHeap is a binary heap of results by distance, written out rather than
// through container/heap to avoid interface calls on the hot path.
type minHeap []Result

func (h minHeap) len() int { return len(h) }

func (h *minHeap) push(r Result) {
	*h = append(*h, r)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if s[p].Dist <= s[i].Dist {
			break
		}
		s[p], s[i] = s[i], s[p]
		i = p
	}
}

func (h *minHeap) pop() Result {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s = s[:n]
	for i := 0; ; {
		l, small := 2*i+1, i
		if l < n && s[l].Dist < s[small].Dist {
			small = l
		}
		if r := l + 1; r < n && s[r].Dist < s[small].Dist {
			small = r
		}
		if small == i {
			break
		}
		s[i], s[small] = s[small], s[i]
		i = small
	}
	*h = s
	return top
}

// maxHeap is a minHeap over negated distances, so one heap serves both.
type maxHeap struct{ h minHeap }

func (m *maxHeap) len() int      { return len(m.h) }
func (m *maxHeap) top() Result   { r := m.h[0]; r.Dist = -r.Dist; return r }
func (m *maxHeap) push(r Result) { r.Dist = -r.Dist; m.h.push(r) }
func (m *maxHeap) pop() Result   { r := m.h.pop(); r.Dist = -r.Dist; return r }
func (m *maxHeap) results() []Result {
	out := make([]Result, len(m.h))
	for i, r := range m.h {
		out[i] = Result{r.ID, -r.Dist}
	}
	return out
}
