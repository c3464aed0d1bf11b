package artifact

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A manifest is outside input: Open either refuses it, or every file it
// names is a plain name inside the version's directory whose content
// matches its checksum; no manifest makes Open read outside the directory,
// or panic.
func FuzzOpenManifest(f *testing.F) {
	sum := sha256.Sum256([]byte("{}"))
	good := hex.EncodeToString(sum[:])
	f.Add([]byte(`{"version":"v1","files":{"recall.json":"`+good+`"}}`), []byte("{}"))
	f.Add([]byte(`{"version":"v1","files":{"../secret":"`+good+`"}}`), []byte("{}"))
	f.Add([]byte(`{"version":"v2","files":{}}`), []byte(""))
	f.Add([]byte(`{"files":null}`), []byte("x"))
	f.Fuzz(func(t *testing.T, manifest, payload []byte) {
		root := t.TempDir()
		s := Store{Dir: filepath.Join(root, "models")}
		dir := filepath.Join(s.Dir, "v1")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		// A file beside the store that a path in the manifest could reach.
		if err := os.WriteFile(filepath.Join(root, "secret"), payload, 0o644); err != nil {
			t.Fatal(err)
		}
		_ = os.WriteFile(filepath.Join(dir, "manifest.json"), manifest, 0o644)
		_ = os.WriteFile(filepath.Join(dir, "recall.json"), payload, 0o644)
		set, err := s.Open("v1")
		if err != nil {
			return
		}
		if set.Manifest.Version != "v1" {
			t.Fatalf("opened version v1 with a manifest naming %q", set.Manifest.Version)
		}
		for name, want := range set.Manifest.Files {
			if strings.ContainsAny(name, `/\`) || name == ".." || name == "." {
				t.Fatalf("opened a manifest naming %q, outside the version's directory", name)
			}
			b, err := set.ReadFile(name)
			if err != nil {
				t.Fatalf("opened, but its file %s does not read: %v", name, err)
			}
			got := sha256.Sum256(b)
			if hex.EncodeToString(got[:]) != want {
				t.Fatalf("opened, but %s does not match its checksum", name)
			}
		}
	})
}
