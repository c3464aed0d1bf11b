package gateway

import (
	"runtime/debug"
	"strings"
	"testing"
)

// The gateway reaches the services through their contract packages only,
// so no store driver is linked into it.
func TestNoStoreDriverIsLinked(t *testing.T) {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		t.Skip("no build info in this test binary")
	}
	for _, m := range info.Deps {
		for _, banned := range []string{"github.com/jackc/pgx", "github.com/redis/go-redis"} {
			if strings.HasPrefix(m.Path, banned) {
				t.Errorf("the gateway links %s %s", m.Path, m.Version)
			}
		}
	}
}
