package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// init prepares a PostgreSQL store only; anything else is refused before it
// touches a thing.
func TestInitRefusesANonPostgresStore(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"init", "-store", "memory:", "-model-dir", t.TempDir()}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "PostgreSQL") {
		t.Errorf("init on memory: = %v", err)
	}
}
