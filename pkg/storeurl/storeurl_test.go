package storeurl

import "testing"

func TestSchemeAndRedact(t *testing.T) {
	for dsn, want := range map[string]string{"memory:": "memory", "postgres://u:secret@h/db": "postgres", "redis://h:6379/0": "redis", "": ""} {
		if got := Scheme(dsn); got != want {
			t.Errorf("Scheme(%q) = %q, want %q", dsn, got, want)
		}
	}
	if got := Redact("postgres://u:secret@h/db"); got != "postgres://u:xxxxx@h/db" {
		t.Errorf("Redact = %q", got)
	}
	if !IsPostgres("postgresql://h/db") || IsPostgres("memory:") {
		t.Error("IsPostgres")
	}
}
