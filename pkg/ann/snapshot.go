package ann

import "fmt"

// Snapshot is a graph's structure without its vectors, for storing a graph
// built offline next to the vectors it indexes.
type Snapshot struct {
	Dim      int         `json:"dim"`
	M        int         `json:"m"`
	Efc      int         `json:"ef_construction"`
	Entry    int32       `json:"entry"`
	MaxLevel int         `json:"max_level"`
	Links    [][][]int32 `json:"links"`
}

// Snapshot returns the graph's structure; it shares the graph's link slices,
// so take it once building is done.
func (h *HNSW) Snapshot() *Snapshot {
	return &Snapshot{Dim: h.dim, M: h.m, Efc: h.efc, Entry: h.entry, MaxLevel: h.maxLevel, Links: h.links}
}

// Restore rebuilds a graph from a snapshot and the vectors it was built over,
// flattened in insertion order. It checks the snapshot fits the vectors.
func Restore(s *Snapshot, vecs []float32) (*HNSW, error) {
	if s.Dim <= 0 || len(vecs) != len(s.Links)*s.Dim {
		return nil, fmt.Errorf("ann: snapshot of %d nodes × %d dims does not fit %d values", len(s.Links), s.Dim, len(vecs))
	}
	n := int32(len(s.Links))
	if n > 0 && (s.Entry < 0 || s.Entry >= n || len(s.Links[s.Entry]) != s.MaxLevel+1) {
		return nil, fmt.Errorf("ann: snapshot entry point %d is invalid", s.Entry)
	}
	for node, layers := range s.Links {
		for _, links := range layers {
			for _, l := range links {
				if l < 0 || l >= n {
					return nil, fmt.Errorf("ann: node %d links to %d, outside the graph", node, l)
				}
			}
		}
	}
	h := New(s.Dim, Options{M: s.M, EfConstruction: s.Efc})
	h.vecs, h.links, h.entry, h.maxLevel = vecs, s.Links, s.Entry, s.MaxLevel
	if n == 0 {
		h.entry = -1
	}
	return h, nil
}
