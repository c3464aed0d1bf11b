// Package artifacttest holds what tests of code that loads model artifacts
// need: a published version to load from.
package artifacttest

import (
	"testing"

	"github.com/recmesh/recmesh/pkg/artifact"
)

// Publish publishes files as version in st and opens it, failing the test
// when either step fails.
func Publish(t testing.TB, st artifact.Store, version string, files map[string][]byte) *artifact.Set {
	t.Helper()
	if err := st.Publish(artifact.Manifest{Version: version}, files); err != nil {
		t.Fatal(err)
	}
	set, err := st.Open(version)
	if err != nil {
		t.Fatal(err)
	}
	return set
}
