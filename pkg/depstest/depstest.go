// Package depstest finds the real dependencies (PostgreSQL, Redis, Consul,
// Jaeger) an integration test talks to. `make test` starts them on test
// ports and exports their addresses; a plain `go test` has none, so the
// test skips — unless RECMESH_REQUIRE_DEPS=1 (set by make test and CI),
// where a missing dependency fails the run instead of skipping it.
package depstest

import (
	"os"
	"testing"
)

// Env returns the value of the environment variable name, which addresses a
// real dependency. When it is unset the test is skipped, or failed when
// RECMESH_REQUIRE_DEPS=1.
func Env(t testing.TB, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v != "" {
		return v
	}
	if os.Getenv("RECMESH_REQUIRE_DEPS") == "1" {
		t.Fatalf("%s is not set but RECMESH_REQUIRE_DEPS=1: the dependency is missing (scripts/deps.sh up prints it)", name)
	}
	t.Skipf("%s is not set; run make test-integration", name)
	return ""
}
