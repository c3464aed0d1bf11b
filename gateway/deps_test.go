package gateway

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// storeDrivers are the modules only the services' implementations may use.
var storeDrivers = []string{"github.com/jackc/pgx", "github.com/redis/go-redis"}

// The gateway reaches the services through their contract packages only:
// no package it builds (tests included) imports a store driver, and its
// go.mod lists none.
func TestNoStoreDriverIsLinked(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-test", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	pkgs := strings.Fields(string(out))
	if len(pkgs) < 50 {
		t.Fatalf("go list found only %d packages; the check would prove nothing", len(pkgs))
	}
	mod, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	for _, banned := range storeDrivers {
		for _, p := range pkgs {
			if strings.HasPrefix(p, banned) {
				t.Errorf("the gateway builds %s", p)
				break
			}
		}
		if strings.Contains(string(mod), banned) {
			t.Errorf("gateway/go.mod lists %s", banned)
		}
	}
}
