package config

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestEnvDefaultsAndFlagsWin(t *testing.T) {
	t.Setenv("RECMESH_HOP_TIMEOUT", "15ms")
	t.Setenv("RECMESH_NAME", "from-env")
	var c struct {
		Name    string
		Timeout time.Duration
		N       int
	}
	f := NewFlags("t")
	f.String(&c.Name, "name", "def", "a name")
	f.Duration(&c.Timeout, "hop-timeout", time.Second, "a timeout")
	f.Int(&c.N, "n", 3, "a number")
	if err := f.Parse([]string{"-n", "7"}); err != nil {
		t.Fatal(err)
	}
	if c.Name != "from-env" || c.Timeout != 15*time.Millisecond || c.N != 7 {
		t.Errorf("got %+v", c)
	}
}

func TestBadEnvIsAnError(t *testing.T) {
	t.Setenv("RECMESH_N", "seven")
	var n int
	f := NewFlags("t")
	f.Int(&n, "n", 3, "a number")
	if err := f.Parse(nil); err == nil || !strings.Contains(err.Error(), "RECMESH_N") {
		t.Fatalf("Parse = %v, want an error naming RECMESH_N", err)
	}
}

func TestLogRedactsSecrets(t *testing.T) {
	var buf bytes.Buffer
	type inner struct {
		Keys  string `secret:"true"`
		Empty string `secret:"true"`
		Poll  time.Duration
	}
	Log(slog.New(slog.NewTextHandler(&buf, nil)), "config", struct {
		Addr    string
		APIKey  string `secret:"true"`
		Gateway inner
	}{"127.0.0.1:8080", "hunter2", inner{Keys: "sesame", Poll: time.Second}})
	out := buf.String()
	for _, secret := range []string{"hunter2", "sesame"} {
		if strings.Contains(out, secret) {
			t.Errorf("log line leaks %q: %s", secret, out)
		}
	}
	for _, want := range []string{"APIKey=[redacted]", "Gateway.Keys=[redacted]", "Gateway.Empty=\"\"", "Gateway.Poll=1s", "127.0.0.1:8080"} {
		if !strings.Contains(out, want) {
			t.Errorf("log line lacks %s: %s", want, out)
		}
	}
}
