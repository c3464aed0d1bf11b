package ann

// minHeap and maxHeap are binary heaps of results by distance, written out
// rather than through container/heap to avoid interface calls on the hot path.
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

type maxHeap []Result

func (h maxHeap) len() int    { return len(h) }
func (h maxHeap) top() Result { return h[0] }
func (h *maxHeap) push(r Result) {
	*h = append(*h, r)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if s[p].Dist >= s[i].Dist {
			break
		}
		s[p], s[i] = s[i], s[p]
		i = p
	}
}

func (h *maxHeap) pop() Result {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s = s[:n]
	for i := 0; ; {
		l, big := 2*i+1, i
		if l < n && s[l].Dist > s[big].Dist {
			big = l
		}
		if r := l + 1; r < n && s[r].Dist > s[big].Dist {
			big = r
		}
		if big == i {
			break
		}
		s[i], s[big] = s[big], s[i]
		i = big
	}
	*h = s
	return top
}
