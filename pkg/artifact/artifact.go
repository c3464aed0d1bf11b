// Package artifact stores versioned model artifact sets on disk:
//
//	<dir>/<version>/manifest.json   version, created_at, data range, params, checksums
//	<dir>/<version>/<file>          payload files
//	<dir>/CURRENT                   the published version
//
// A set is written to a temporary directory and renamed into place, and
// CURRENT is replaced by rename, so a reader never sees half a version.
package artifact

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Manifest describes one artifact set.
type Manifest struct {
	Version   string    `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	// DataFrom and DataTo bound the timestamps of the training data.
	DataFrom time.Time      `json:"data_from"`
	DataTo   time.Time      `json:"data_to"`
	Params   map[string]any `json:"params"`
	// Files maps each payload file to its SHA-256.
	Files map[string]string `json:"files"`
}

// ErrNoVersion means nothing has been published yet.
var ErrNoVersion = errors.New("no model version published")

var versionRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// fileRE is a payload file's name: within the version's directory, never
// a path out of it (a manifest is outside input).
var fileRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// Store is a directory of artifact sets.
type Store struct{ Dir string }

// NewVersion names a version after its creation time.
func NewVersion(t time.Time) string { return "v" + t.UTC().Format("20060102T150405Z") }

// Publish writes the set and makes it current.
func (s Store) Publish(m Manifest, files map[string][]byte) error {
	if err := s.write(m, files); err != nil {
		return err
	}
	return s.SetCurrent(m.Version)
}

// PublishCopy publishes from's current set in s under version, unchanged
// but for its name: a second version of the same model, for tests of
// version swaps and routing.
func (s Store) PublishCopy(from Store, version string) error {
	set, err := from.OpenCurrent()
	if err != nil {
		return err
	}
	files := map[string][]byte{}
	for name := range set.Manifest.Files {
		if files[name], err = set.ReadFile(name); err != nil {
			return err
		}
	}
	m := set.Manifest
	m.Version = version
	return s.Publish(m, files)
}

// write stores the set without publishing it.
func (s Store) write(m Manifest, files map[string][]byte) error {
	if !versionRE.MatchString(m.Version) {
		return fmt.Errorf("artifact: bad version %q", m.Version)
	}
	final := filepath.Join(s.Dir, m.Version)
	if _, err := os.Stat(final); err == nil {
		return fmt.Errorf("artifact: version %s already exists", m.Version)
	}
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return fmt.Errorf("artifact: %w", err)
	}
	tmp, err := os.MkdirTemp(s.Dir, ".tmp-"+m.Version+"-")
	if err != nil {
		return fmt.Errorf("artifact: %w", err)
	}
	defer os.RemoveAll(tmp)
	m.Files = map[string]string{}
	for name, b := range files {
		if strings.ContainsAny(name, `/\`) || name == "manifest.json" {
			return fmt.Errorf("artifact: bad file name %q", name)
		}
		if err := os.WriteFile(filepath.Join(tmp, name), b, 0o644); err != nil {
			return fmt.Errorf("artifact: %w", err)
		}
		sum := sha256.Sum256(b)
		m.Files[name] = hex.EncodeToString(sum[:])
	}
	mb, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("artifact: %w", err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "manifest.json"), mb, 0o644); err != nil {
		return fmt.Errorf("artifact: %w", err)
	}
	if err := os.Rename(tmp, final); err != nil {
		return fmt.Errorf("artifact: %w", err)
	}
	return nil
}

// SetCurrent publishes an existing version.
func (s Store) SetCurrent(version string) error {
	if _, err := s.Open(version); err != nil {
		return err
	}
	tmp := filepath.Join(s.Dir, ".CURRENT.tmp")
	if err := os.WriteFile(tmp, []byte(version+"\n"), 0o644); err != nil {
		return fmt.Errorf("artifact: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(s.Dir, "CURRENT")); err != nil {
		return fmt.Errorf("artifact: %w", err)
	}
	return nil
}

// Current returns the published version, or ErrNoVersion.
func (s Store) Current() (string, error) {
	b, err := os.ReadFile(filepath.Join(s.Dir, "CURRENT"))
	if errors.Is(err, os.ErrNotExist) {
		return "", ErrNoVersion
	}
	if err != nil {
		return "", fmt.Errorf("artifact: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// Set is an opened, verified artifact set.
type Set struct {
	Manifest Manifest
	dir      string
}

// Open reads a version's manifest and verifies every file's checksum.
func (s Store) Open(version string) (*Set, error) {
	if !versionRE.MatchString(version) {
		return nil, fmt.Errorf("artifact: bad version %q", version)
	}
	dir := filepath.Join(s.Dir, version)
	mb, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return nil, fmt.Errorf("artifact: version %s: %w", version, err)
	}
	var m Manifest
	if err := json.Unmarshal(mb, &m); err != nil {
		return nil, fmt.Errorf("artifact: version %s manifest: %w", version, err)
	}
	if m.Version != version {
		return nil, fmt.Errorf("artifact: version %s: its manifest names version %q", version, m.Version)
	}
	for name, want := range m.Files {
		if !fileRE.MatchString(name) {
			return nil, fmt.Errorf("artifact: version %s: bad file name %q in the manifest", version, name)
		}
		got, err := fileSum(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("artifact: version %s: %w", version, err)
		}
		if got != want {
			return nil, fmt.Errorf("artifact: version %s: %s checksum %s, manifest says %s", version, name, got, want)
		}
	}
	return &Set{Manifest: m, dir: dir}, nil
}

// fileSum is the hex SHA-256 of a file, read a buffer at a time: a
// million-item model's files are gigabytes.
func fileSum(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// OpenCurrent opens the published version.
func (s Store) OpenCurrent() (*Set, error) {
	v, err := s.Current()
	if err != nil {
		return nil, err
	}
	return s.Open(v)
}

// ReadJSON decodes a payload file of the set into v.
func (set *Set) ReadJSON(name string, v any) error {
	if _, ok := set.Manifest.Files[name]; !ok {
		return fmt.Errorf("artifact: version %s has no file %s", set.Manifest.Version, name)
	}
	b, err := os.ReadFile(filepath.Join(set.dir, name))
	if err != nil {
		return fmt.Errorf("artifact: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("artifact: version %s %s: %w", set.Manifest.Version, name, err)
	}
	return nil
}

// Versions lists the stored versions, oldest first (names sort by time).
func (s Store) Versions() ([]string, error) {
	entries, err := os.ReadDir(s.Dir)
	if err != nil {
		return nil, fmt.Errorf("artifact: %w", err)
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() || !versionRE.MatchString(e.Name()) {
			continue
		}
		if _, err := os.Stat(filepath.Join(s.Dir, e.Name(), "manifest.json")); err == nil {
			out = append(out, e.Name())
		}
	}
	slices.Sort(out)
	return out, nil
}

// Rollback publishes the version stored just before the current one and
// returns it.
func (s Store) Rollback() (string, error) {
	cur, err := s.Current()
	if err != nil {
		return "", err
	}
	vs, err := s.Versions()
	if err != nil {
		return "", err
	}
	i := slices.Index(vs, cur)
	if i <= 0 {
		return "", fmt.Errorf("artifact: no version before %s to roll back to", cur)
	}
	return vs[i-1], s.SetCurrent(vs[i-1])
}

// OpenFile opens a payload file of the set for reading.
func (set *Set) OpenFile(name string) (*os.File, error) {
	if _, ok := set.Manifest.Files[name]; !ok {
		return nil, fmt.Errorf("artifact: version %s has no file %s", set.Manifest.Version, name)
	}
	return os.Open(filepath.Join(set.dir, name))
}

// ReadFile returns a payload file of the set.
func (set *Set) ReadFile(name string) ([]byte, error) {
	if _, ok := set.Manifest.Files[name]; !ok {
		return nil, fmt.Errorf("artifact: version %s has no file %s", set.Manifest.Version, name)
	}
	return os.ReadFile(filepath.Join(set.dir, name))
}
