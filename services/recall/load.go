package recall

import (
	"bufio"
	"bytes"
	"encoding/gob"
	"fmt"
	"maps"
	"slices"

	"github.com/recmesh/recmesh/pkg/artifact"
)

// LoadIndex reads the recall payload of an artifact set.
func LoadIndex(set *artifact.Set) (*Index, error) {
	f, err := ReadIndexFile(set)
	if err != nil {
		return nil, err
	}
	for i := range f.Items {
		if it := &f.Items[i]; len(it.Categories) == 0 && len(it.LegacyGenres) > 0 {
			it.Categories, it.LegacyGenres = it.LegacyGenres, nil
		}
	}
	if len(f.Items) == 0 {
		return nil, fmt.Errorf("recall: version %s has no items", set.Manifest.Version)
	}
	if e := f.Embeddings; e != nil {
		if err := e.validate(); err != nil {
			return nil, fmt.Errorf("recall: version %s: %w", set.Manifest.Version, err)
		}
	}
	return NewIndex(set.Manifest.Version, f), nil
}

// ReadIndexFile decodes the recall payload of a set: IndexBinaryName when
// the set has it, else (a version trained before it) IndexFileName.
func ReadIndexFile(set *artifact.Set) (*IndexFile, error) {
	var f IndexFile
	if _, ok := set.Manifest.Files[IndexBinaryName]; !ok {
		if err := set.ReadJSON(IndexFileName, &f); err != nil {
			return nil, err
		}
		return &f, nil
	}
	r, err := set.OpenFile(IndexBinaryName)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var w indexWire
	if err := gob.NewDecoder(bufio.NewReaderSize(r, 1<<20)).Decode(&w); err != nil {
		return nil, fmt.Errorf("recall: version %s %s: %w", set.Manifest.Version, IndexBinaryName, err)
	}
	if len(w.NeighbourIDs) != len(w.Neighbours) {
		return nil, fmt.Errorf("recall: version %s %s: %d neighbour lists for %d items", set.Manifest.Version, IndexBinaryName, len(w.Neighbours), len(w.NeighbourIDs))
	}
	f = IndexFile{Items: w.Items, Neighbours: make(map[int64][]Neighbour, len(w.NeighbourIDs)), Embeddings: w.Embeddings}
	for i, id := range w.NeighbourIDs {
		f.Neighbours[id] = w.Neighbours[i]
	}
	return &f, nil
}

// indexWire is an IndexFile as IndexBinaryName holds it: the neighbours as
// lists in item order rather than a map, whose order gob would take from
// Go's map iteration, so the same index always encodes to the same bytes
// (and the same artifact checksum).
type indexWire struct {
	Items        []ItemInfo
	NeighbourIDs []int64
	Neighbours   [][]Neighbour
	Embeddings   *Embeddings
}

// Encode is f as IndexBinaryName holds it.
func (f *IndexFile) Encode() ([]byte, error) {
	w := indexWire{Items: f.Items, Embeddings: f.Embeddings, NeighbourIDs: slices.Sorted(maps.Keys(f.Neighbours))}
	w.Neighbours = make([][]Neighbour, len(w.NeighbourIDs))
	for i, id := range w.NeighbourIDs {
		w.Neighbours[i] = f.Neighbours[id]
	}
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(&w); err != nil {
		return nil, fmt.Errorf("recall: encoding the index: %w", err)
	}
	return b.Bytes(), nil
}
