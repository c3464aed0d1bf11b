package recall

import (
	"bufio"
	"bytes"
	"encoding/gob"
	"fmt"

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
	if err := gob.NewDecoder(bufio.NewReaderSize(r, 1<<20)).Decode(&f); err != nil {
		return nil, fmt.Errorf("recall: version %s %s: %w", set.Manifest.Version, IndexBinaryName, err)
	}
	return &f, nil
}

// Encode is f as IndexBinaryName holds it.
func (f *IndexFile) Encode() ([]byte, error) {
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(f); err != nil {
		return nil, fmt.Errorf("recall: encoding the index: %w", err)
	}
	return b.Bytes(), nil
}
