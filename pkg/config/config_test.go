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
		Store   string `secret:"url"`
		Gateway inner
	}{"127.0.0.1:8080", "hunter2", "postgres://app:opensesame@db:5432/recmesh", inner{Keys: "sesame", Poll: time.Second}})
	out := buf.String()
	for _, secret := range []string{"hunter2", "sesame", "opensesame"} {
		if strings.Contains(out, secret) {
			t.Errorf("log line leaks %q: %s", secret, out)
		}
	}
	for _, want := range []string{"APIKey=[redacted]", "Gateway.Keys=[redacted]", "Gateway.Empty=\"\"", "Gateway.Poll=1s", "127.0.0.1:8080", "postgres://app:xxxxx@db:5432/recmesh"} {
		if !strings.Contains(out, want) {
			t.Errorf("log line lacks %s: %s", want, out)
		}
	}
}

// A flag bound by two components is one flag: the first binding's default
// holds for both, and a setting reaches both.
func TestSharedFlags(t *testing.T) {
	var a, b string
	var x, y time.Duration
	f := NewFlags("t")
	f.String(&a, "store", "memory:", "where features keeps its record")
	f.String(&b, "store", "postgres://ignored", "where experiment keeps its config")
	f.Duration(&x, "poll", time.Second, "p")
	f.Duration(&y, "poll", time.Minute, "p")
	if a != "memory:" || b != "memory:" || x != time.Second || y != time.Second {
		t.Fatalf("before parsing: %q %q %v %v", a, b, x, y)
	}
	if err := f.Parse([]string{"-store", "postgres://db", "-poll", "3s"}); err != nil {
		t.Fatal(err)
	}
	if a != "postgres://db" || b != "postgres://db" || x != 3*time.Second || y != 3*time.Second {
		t.Errorf("after parsing: %q %q %v %v", a, b, x, y)
	}
	defer func() {
		if recover() == nil {
			t.Error("binding one name with two types did not panic")
		}
	}()
	var n int
	f.Int(&n, "store", 1, "clash")
}
